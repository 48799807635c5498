// `ratchet rewrite FILE (--rule RULE.json | --transform NAME | --function NAME
// --definition DEF | --edit EDIT.txt) [--diff] [-- COMPILE FLAGS]`: applies
// one AST-checked edit to a file and prints the result (or a unified diff).
// Bad input (missing file, malformed rule, bad matcher, unknown transform) is
// a usage error (exit 2); a refused rewrite is a runtime failure (exit 1)
// whose message is the reason a proposer would be shown.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <iostream>

#include "common/files.h"
#include "common/text.h"
#include "engine/cli.h"
#include "engine/remote_rewriters.h"
#include "engine/rewriter_client.h"
#include "rewriters/search_replace.h"
#include "rewriters/transform_rule.h"

namespace ratchet {

namespace {

struct RewriteOptions {
  std::string file;
  std::string rule;
  std::string transform;
  std::string function;
  std::string definition;
  std::string edit;
  std::string language;
  std::string compiler = "gcc";
  bool diff = false;
  bool list = false;
  std::vector<std::string> flags;
};

std::string read_or_usage(const std::string& path, const char* what) {
  auto text = read_file(path);
  if (!text) usage_error(fmt::format("{}: {}", what, text.error()));
  return *text;
}

int list_transforms() {
  if (remote::builtin_transforms().empty()) {
    runtime_error(fmt::format("the rewriter worker ({}) listed no built-in transforms",
                              rewriter_executable().string()));
  }
  for (const auto& t : remote::builtin_transforms()) {
    std::cout << fmt::format("{:<26} {}{}\n", t.name, t.description, t.cxx_only ? " (C++)" : "");
  }
  return kExitOk;
}

int rewrite(const RewriteOptions& options) {
  if (options.list) return list_transforms();
  if (options.file.empty()) usage_error("rewrite: FILE is required");
  int chosen = !options.rule.empty() + !options.transform.empty() + !options.function.empty() +
               !options.edit.empty();
  if (chosen != 1) {
    usage_error("rewrite: give exactly one of --rule, --transform, --function or --edit");
  }
  if (!options.function.empty() && options.definition.empty()) {
    usage_error("rewrite: --function needs --definition FILE (the new definition)");
  }
  std::string text = read_or_usage(options.file, "rewrite");
  std::filesystem::path path(options.file);
  RewriteContext context;
  context.language = !options.language.empty() ? options.language
                     : path.extension() == ".c"   ? "c"
                                                  : "c++";
  context.flags = options.flags;
  context.compiler = options.compiler;
  context.directory = std::filesystem::absolute(path).parent_path();
  std::string name = path.filename().string();

  Result<std::string> result = fail("");
  if (!options.rule.empty()) {
    auto rule = parse_rule(read_or_usage(options.rule, "--rule"));
    if (!rule) usage_error(fmt::format("{}: {}", options.rule, rule.error()));
    if (Status ok = remote::check_matcher(rule->match); !ok) {
      usage_error(fmt::format("{}: {}", options.rule, ok.error()));
    }
    result = remote::apply_rule(name, text, *rule, context);
  } else if (!options.transform.empty()) {
    const auto& all = remote::builtin_transforms();
    bool known = std::any_of(all.begin(), all.end(),
                             [&](const BuiltinTransform& t) { return t.name == options.transform; });
    result = remote::apply_builtin(options.transform, name, text, context);
    if (!known) usage_error(result.error());
  } else if (!options.function.empty()) {
    std::string definition = read_or_usage(options.definition, "--definition");
    result = remote::replace_function(name, text, options.function, definition, context);
  } else {
    auto blocks = parse_search_replace(read_or_usage(options.edit, "--edit"));
    if (!blocks) usage_error(fmt::format("{}: {}", options.edit, blocks.error()));
    result = apply_search_replace(text, name, *blocks);
    if (result) {
      if (Status ok = remote::validate_source(name, *result, context); !ok) {
        result = fail("the edited " + name + " does not parse:\n" + ok.error());
      }
    }
  }
  if (!result) runtime_error(result.error());
  if (options.diff) {
    std::cout << unified_diff(text, *result, "a/" + name, "b/" + name);
  } else {
    std::cout << *result;
  }
  return kExitOk;
}

}  // namespace

void add_rewrite_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<RewriteOptions>();
  CLI::App* command = app.add_subcommand(
      "rewrite", "Apply a transform rule, built-in transform, function or SEARCH/REPLACE edit "
                 "to a file, checked by clang");
  command->add_option("file", options->file, "The C or C++ source file");
  command->add_option("--rule", options->rule, "A rule file: JSON with name, match, replace");
  command->add_option("--transform", options->transform,
                      "A built-in transform (--list-transforms shows them)");
  command->add_option("--function", options->function,
                      "Replace this function's definition (with --definition)");
  command->add_option("--definition", options->definition,
                      "File holding the function's new definition");
  command->add_option("--edit", options->edit, "A SEARCH/REPLACE answer to apply");
  command->add_flag("--diff", options->diff, "Print a unified diff instead of the file");
  command->add_flag("--list-transforms", options->list, "List the built-in transforms");
  command->add_option("--language", options->language, "c or c++ (default: from the extension)")
      ->check(CLI::IsMember({"c", "c++"}));
  command->add_option("--compiler", options->compiler,
                      "The compiler the code is for (picks pragma dialects; default gcc)");
  command->add_option("flags", options->flags, "Compile flags (after --)");
  command->callback([options, &exit_code] { exit_code = rewrite(*options); });
}

}  // namespace ratchet
