#include "rewriters/apply_edit.h"

#include <nlohmann/json.hpp>

#include "common/program_files.h"
#include "common/regions.h"
#include "rewriters/clang_parse.h"
#include "rewriters/function_edit.h"
#include "rewriters/llvm_ir.h"
#include "rewriters/search_replace.h"
#include "rewriters/transform_rule.h"

namespace ratchet {

namespace {

bool has_region(const std::string& text) {
  auto regions = find_regions(text);
  return regions.ok() && !regions->empty();
}

// Text edits: every file the edit changed must still parse.
Result<Program> validated(Result<Program> child, const Program& parent,
                          const RewriteContext& context) {
  if (!child || !context.validate) return child;
  for (const auto& [file, text] : child->files) {
    auto before = parent.files.find(file);
    if (before != parent.files.end() && before->second == text) continue;
    if (Status ok = validate_source(file, text, context); !ok) {
      return fail("the edited " + file + " does not parse:\n" + ok.error());
    }
  }
  return child;
}

Result<Program> with_file(const Program& parent, const std::string& file,
                          Result<std::string> text) {
  if (!text) return fail(text.error());
  Program child = parent;
  child.files[file] = std::move(*text);
  return child;
}

Result<Program> apply_transform(const Program& parent, const Edit& edit,
                                const RewriteContext& context) {
  std::vector<std::string> files;
  if (!edit.file.empty()) {
    auto file = edit_target_file(parent, edit);
    if (!file) return fail(file.error());
    files.push_back(*file);
  } else {
    for (const auto& [name, text] : parent.files) {
      if (has_region(text)) files.push_back(name);
    }
    if (files.empty()) return fail("no file of the program has an evolvable region");
  }
  nlohmann::json json = nlohmann::json::parse(edit.text, nullptr, false);
  std::string builtin;
  if (json.is_object() && json.size() == 1 && json.contains("builtin") &&
      json["builtin"].is_string()) {
    builtin = json["builtin"];
  }
  std::optional<TransformRule> rule;
  if (builtin.empty()) {
    auto parsed = parse_rule(edit.text);
    if (!parsed) return fail(parsed.error());
    rule = *parsed;
  }
  Program child = parent;
  std::string first_refusal;
  for (const auto& file : files) {
    const std::string& text = parent.files.at(file);
    Result<std::string> rewritten = builtin.empty() ? apply_rule(file, text, *rule, context)
                                                    : apply_builtin(builtin, file, text, context);
    if (rewritten) {
      child.files[file] = std::move(*rewritten);
    } else if (first_refusal.empty()) {
      first_refusal = rewritten.error();
    }
  }
  if (child == parent) return fail(first_refusal.empty() ? "the transform changes nothing" : first_refusal);
  return child;
}

// The IR genome: the source's module (its IR file when an earlier ir edit
// made one, else freshly lowered) with one function replaced, parsed and
// verified; the child carries it as SOURCE.ll, which the builder compiles in
// the source's place.
Result<Program> apply_ir(const Program& parent, const Edit& edit, const RewriteContext& context) {
  if (edit.symbol.empty()) return fail("an ir edit needs the function's name");
  auto file = ir_edit_source(parent, edit);
  if (!file) return fail(file.error());
  std::string ir_file = ir_file_of(*file);
  std::string module;
  if (auto it = parent.files.find(ir_file); it != parent.files.end()) {
    module = it->second;
  } else if (!context.lower_to_ir) {
    return fail("cannot lower " + *file + " to IR here: no IR lowering step is configured");
  } else {
    auto lowered = context.lower_to_ir(parent, *file);
    if (!lowered) return fail(lowered.error());
    module = std::move(*lowered);
  }
  auto replaced = replace_ir_function(module, edit.symbol, edit.text);
  if (!replaced) return fail("the ir edit of '" + edit.symbol + "' is refused: " + replaced.error());
  Program child = parent;
  child.files[ir_file] = std::move(*replaced);
  return child;
}

// A source built from its IR (SOURCE.ll) ignores its text: a source edit
// there would never reach the binary, so it is refused.
Result<Program> not_shadowed(Result<Program> child, const Program& parent) {
  if (!child) return child;
  for (const auto& [file, text] : child->files) {
    auto before = parent.files.find(file);
    if (before != parent.files.end() && before->second == text) continue;
    if (child->files.count(ir_file_of(file))) {
      return fail(file + " is built from its IR (" + file + ".ll) since an ir edit: edit the IR "
                  "instead");
    }
  }
  return child;
}

}  // namespace

Result<Program> apply_edit(const Program& parent, const Edit& edit,
                           const std::vector<Gene>& genes, const RewriteContext& context) {
  switch (edit.kind) {
    case EditKind::flags:
      if (!is_plain_flags_edit(edit)) {
        if (Status ok = check_pipeline(edit.text); !ok) {
          return fail("the pass pipeline '" + edit.text + "' is refused: " + ok.error());
        }
      }
      return apply_flags_edit(parent, edit, genes);  // plain_edit.h
    case EditKind::diff:
    case EditKind::rewrite:
      return not_shadowed(validated(apply_text_edit(parent, edit), parent, context),  // search_replace.h
                          parent);
    case EditKind::function: {
      if (edit.symbol.empty()) return fail("a function edit needs the function's name");
      auto file = edit_target_file(parent, edit);
      if (!file) return fail(file.error());
      return not_shadowed(with_file(parent, *file,
                                    replace_function(*file, parent.files.at(*file), edit.symbol,
                                                     edit.text, context)),
                          parent);
    }
    case EditKind::transform:
      return not_shadowed(apply_transform(parent, edit, context), parent);
    case EditKind::ir:
      return apply_ir(parent, edit, context);
  }
  return fail(std::string("this build of ratchet has no rewriter for '") + to_string(edit.kind) +
              "' edits");
}

}  // namespace ratchet
