#include "engine/heap.h"

#include <malloc.h>

namespace ratchet {

void keep_freed_heap() {
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace ratchet
