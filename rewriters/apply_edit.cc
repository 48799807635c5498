#include "rewriters/apply_edit.h"

namespace ratchet {

Result<Program> apply_edit(const Program& parent, const Edit& edit,
                           const std::vector<Gene>& genes) {
  switch (edit.kind) {
    case EditKind::flags: {
      Program child = parent;
      child.flags = canonical_flags(edit.flags, genes);
      if (child.flags == canonical_flags(parent.flags, genes)) {
        return fail("the edit leaves the flags unchanged");
      }
      return child;
    }
    case EditKind::diff:
    case EditKind::rewrite:
    case EditKind::function:
    case EditKind::transform:
    case EditKind::ir:
      break;
  }
  return fail(std::string("this build of ratchet has no rewriter for '") + to_string(edit.kind) +
              "' edits");
}

}  // namespace ratchet
