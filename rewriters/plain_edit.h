// The parts of applying an Edit that need no clang or LLVM, so that the
// controller (engine/) can do them in its own process: the target file of an
// edit, and flag edits that leave the pass pipeline alone. Everything else
// goes to the rewriter worker (engine/remote_rewriters.h) or, in-process, to
// apply_edit (apply_edit.h).
#pragma once

#include <string>
#include <vector>

#include "common/program.h"
#include "common/result.h"
#include "rewriters/flag_genome.h"

namespace ratchet {

// The file an edit targets: `edit.file`, or the first file (by name) with an
// evolvable region.
Result<std::string> edit_target_file(const Program& parent, const Edit& edit);

// The source file an ir edit targets: as edit_target_file, with a trailing
// ".ll" of `edit.file` dropped ("tiny.c.ll" names tiny.c's IR).
Result<std::string> ir_edit_source(const Program& parent, const Edit& edit);

// True for a flags edit whose `text` is empty or "none": applying it needs no
// pass-pipeline check, so no LLVM.
bool is_plain_flags_edit(const Edit& edit);

// A flags edit: the canonical flags, and the pass pipeline `edit.text` ("none"
// removes it) stored as kPipelineFile. The pipeline must have been checked
// already (check_pipeline). Refused when it changes nothing.
Result<Program> apply_flags_edit(const Program& parent, const Edit& edit,
                                 const std::vector<Gene>& genes);

}  // namespace ratchet
