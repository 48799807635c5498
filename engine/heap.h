// Process-wide allocator settings for the controller (and the benchmarks that
// stand in for it).
#pragma once

namespace ratchet {

// glibc gives the top of the heap back with brk as soon as 128 KiB of it is
// free, and takes it again (page faults, zeroed pages) on the next candidate:
// about one brk per LLM candidate in ratchet_llm_bench. Keep up to 64 MiB of
// freed heap instead; the peak, which this does not raise, is what the
// memory figures measure. Setting it stops glibc's sliding mmap threshold,
// so that is fixed too: blocks up to 4 MiB come from the heap, larger ones
// from mmap and go back when freed.
void keep_freed_heap();

}  // namespace ratchet
