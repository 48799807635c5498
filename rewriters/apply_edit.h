// Applying an Edit to a parent Program: the child, or the reason why not
// (the reason is recorded with the refused candidate and shown to proposers).
#pragma once

#include "common/program.h"
#include "common/result.h"
#include "rewriters/flag_genome.h"

namespace ratchet {

Result<Program> apply_edit(const Program& parent, const Edit& edit,
                           const std::vector<Gene>& genes);

}  // namespace ratchet
