#include "rewriters/plain_edit.h"

#include "common/program_files.h"
#include "common/regions.h"

namespace ratchet {

namespace {

bool has_region(const std::string& text) {
  auto regions = find_regions(text);
  return regions.ok() && !regions->empty();
}

}  // namespace

Result<std::string> edit_target_file(const Program& parent, const Edit& edit) {
  if (!edit.file.empty()) {
    if (!parent.files.count(edit.file)) {
      return fail("the edit names file '" + edit.file + "', which is not in the program");
    }
    return edit.file;
  }
  for (const auto& [name, text] : parent.files) {
    if (has_region(text)) return name;
  }
  return fail("no file of the program has an evolvable region");
}

Result<std::string> ir_edit_source(const Program& parent, const Edit& edit) {
  Edit target = edit;
  if (target.file.size() > 3 && target.file.compare(target.file.size() - 3, 3, ".ll") == 0) {
    target.file.resize(target.file.size() - 3);
  }
  return edit_target_file(parent, target);
}

bool is_plain_flags_edit(const Edit& edit) {
  return edit.kind == EditKind::flags && (edit.text.empty() || edit.text == "none");
}

Result<Program> apply_flags_edit(const Program& parent, const Edit& edit,
                                 const std::vector<Gene>& genes) {
  Program child = parent;
  child.flags = canonical_flags(edit.flags, genes);
  if (edit.text == "none") {
    child.files.erase(kPipelineFile);
  } else if (!edit.text.empty()) {
    child.files[kPipelineFile] = edit.text + "\n";
  }
  Program before = parent;
  before.flags = canonical_flags(parent.flags, genes);
  if (child == before) return fail("the edit leaves the flags and the pass pipeline unchanged");
  return child;
}

}  // namespace ratchet
