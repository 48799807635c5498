// Reserved program file names that carry the IR and pass-pipeline genomes.
// They are ordinary entries of Program::files, so they are hashed, stored,
// diffed and shown like sources; the builder gives them their meaning
// (evaluators/builder.h) and the rewriters write them (rewriters/apply_edit.h).
#pragma once

#include <string>

namespace ratchet {

// "SOURCE.ll": the LLVM IR the source SOURCE is built from (an `ir` edit).
inline std::string ir_file_of(const std::string& source) { return source + ".ll"; }

// The opt pipeline (new pass manager syntax, one line) that every source's
// IR goes through when present (the pass-pipeline genome).
inline constexpr const char* kPipelineFile = "ratchet.pipeline";

}  // namespace ratchet
