// The IR genome (parse, verify, splice a function's new definition) and the
// pass-pipeline genome (parse with the pass builder, mutate, run).
#include "rewriters/llvm_ir.h"

#include <algorithm>

#include <fmt/format.h>
#include <llvm/AsmParser/Parser.h>
#include <llvm/Demangle/Demangle.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include "common/text.h"
#include "rewriters/clang_parse.h"

namespace ratchet {

namespace {

std::string parse_error(const llvm::SMDiagnostic& error, int line_offset = 0) {
  return fmt::format("{}:{}: error: {}", error.getLineNo() - line_offset,
                     error.getColumnNo() + 1, error.getMessage().str());
}

std::string trim(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

Status verify(const llvm::Module& module) {
  std::string message;
  llvm::raw_string_ostream out(message);
  if (llvm::verifyModule(module, &out)) return fail("verifier: " + trim(out.str()));
  return Ok{};
}

// The function `symbol` names: an IR name, or a C++ name that a demangled
// name equals or starts (before its parameter list).
const llvm::Function* find_function(const llvm::Module& module, const std::string& symbol) {
  if (const llvm::Function* f = module.getFunction(symbol)) return f;
  for (const llvm::Function& f : module.functions()) {
    std::string demangled = llvm::demangle(f.getName().str());
    if (demangled == symbol || demangled.rfind(symbol + "(", 0) == 0) return &f;
  }
  return nullptr;
}

std::vector<std::string> defined_names(const llvm::Module& module) {
  std::vector<std::string> names;
  for (const llvm::Function& f : module.functions()) {
    if (!f.isDeclaration()) names.push_back(f.getName().str());
  }
  return names;
}

// Byte range of the `define` of @name in the module text: from the start of
// its `define` line to the end of the line holding the closing `}`.
std::optional<std::pair<size_t, size_t>> define_range(const std::string& text,
                                                      const std::string& name) {
  std::vector<std::string> spellings = {"@" + name + "(", "@\"" + name + "\"("};
  size_t line = 0;
  while (line < text.size()) {
    size_t eol = text.find('\n', line);
    if (eol == std::string::npos) eol = text.size();
    std::string_view current(text.data() + line, eol - line);
    bool match = current.rfind("define ", 0) == 0 &&
                 std::any_of(spellings.begin(), spellings.end(), [&](const std::string& s) {
                   return current.find(s) != std::string_view::npos;
                 });
    if (match) {
      size_t close = text.find("\n}", eol);
      if (close == std::string::npos) return std::nullopt;
      size_t end = text.find('\n', close + 1);
      return std::make_pair(line, end == std::string::npos ? text.size() : end + 1);
    }
    line = eol + 1;
  }
  return std::nullopt;
}

std::string type_string(const llvm::Type* type) {
  std::string s;
  llvm::raw_string_ostream out(s);
  type->print(out);
  return out.str();
}

struct ParsedModule {
  std::unique_ptr<llvm::LLVMContext> context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> module;
};

Result<ParsedModule> parse_module(const std::string& text) {
  ParsedModule parsed;
  llvm::SMDiagnostic error;
  parsed.module = llvm::parseAssemblyString(text, error, *parsed.context);
  if (!parsed.module) return fail(parse_error(error));
  if (Status ok = verify(*parsed.module); !ok) return fail(ok.error());
  return parsed;
}

}  // namespace

Result<int> verify_ir(const std::string& module_text) {
  auto parsed = parse_module(module_text);
  if (!parsed) return fail(parsed.error());
  return static_cast<int>(defined_names(*parsed->module).size());
}

std::vector<std::string> ir_lowering_command(const std::string& clang, const std::string& source,
                                             const std::string& output,
                                             const RewriteContext& context) {
  std::vector<std::string> argv = {clang, "-S", "-emit-llvm", "-O2", "-Xclang",
                                   "-disable-llvm-passes"};
  std::vector<std::string> args = clang_parse_args(context);
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-fsyntax-only") continue;
    if (args[i] == "-resource-dir") {
      ++i;
      continue;
    }
    argv.push_back(args[i]);
  }
  argv.insert(argv.end(), {source, "-o", output});
  return argv;
}

Result<std::string> extract_ir_function(const std::string& module_text,
                                        const std::string& symbol) {
  auto parsed = parse_module(module_text);
  if (!parsed) return fail(parsed.error());
  const llvm::Function* f = find_function(*parsed->module, symbol);
  if (!f || f->isDeclaration()) {
    std::string hint = near_miss(symbol, defined_names(*parsed->module));
    return fail("the module defines no function '" + symbol + "'" +
                (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  auto range = define_range(module_text, f->getName().str());
  if (!range) return fail("cannot find the text of @" + f->getName().str());
  return module_text.substr(range->first, range->second - range->first);
}

Result<std::string> replace_ir_function(const std::string& module_text,
                                        const std::string& symbol,
                                        const std::string& definition) {
  auto parsed = parse_module(module_text);
  if (!parsed) return fail("the module is invalid: " + parsed.error());
  const llvm::Function* old = find_function(*parsed->module, symbol);
  if (!old || old->isDeclaration()) {
    std::string hint = near_miss(symbol, defined_names(*parsed->module));
    return fail("the module defines no function '" + symbol + "'" +
                (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  std::string name = old->getName().str();
  std::string expected_type = type_string(old->getFunctionType());
  auto range = define_range(module_text, name);
  if (!range) return fail("cannot find the text of @" + name);
  std::string body = trim(definition) + "\n";
  std::string spliced = module_text.substr(0, range->first) + body + module_text.substr(range->second);

  int line_offset = static_cast<int>(
      std::count(module_text.begin(), module_text.begin() + range->first, '\n'));
  int body_lines = static_cast<int>(std::count(body.begin(), body.end(), '\n'));
  ParsedModule edited;
  llvm::SMDiagnostic error;
  edited.module = llvm::parseAssemblyString(spliced, error, *edited.context);
  if (!edited.module) {
    int line = error.getLineNo();
    if (line > line_offset && line <= line_offset + body_lines) {
      return fail("the new definition does not parse: " + parse_error(error, line_offset));
    }
    return fail("the module does not parse with the new definition: " + parse_error(error));
  }
  const llvm::Function* replaced = edited.module->getFunction(name);
  if (!replaced || replaced->isDeclaration()) {
    return fail("the new definition does not define @" + name);
  }
  std::string new_type = type_string(replaced->getFunctionType());
  if (new_type != expected_type) {
    return fail(fmt::format("the new definition of @{} has type {}, expected {}", name, new_type,
                            expected_type));
  }
  if (Status ok = verify(*edited.module); !ok) return fail(ok.error());
  return spliced;
}

Status check_pipeline(const std::string& pipeline) {
  if (pipeline.find_first_not_of(" \t\n") == std::string::npos) {
    return fail("empty pass pipeline");
  }
  llvm::PassBuilder builder;
  llvm::ModulePassManager passes;
  if (llvm::Error error = builder.parsePassPipeline(passes, pipeline)) {
    return fail("bad pass pipeline '" + pipeline + "': " + llvm::toString(std::move(error)));
  }
  return Ok{};
}

Result<std::string> run_pipeline(const std::string& module_text, const std::string& pipeline) {
  if (Status ok = check_pipeline(pipeline); !ok) return fail(ok.error());
  auto parsed = parse_module(module_text);
  if (!parsed) return fail(parsed.error());
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgscc;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder;
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(cgscc);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, cgscc, modules);
  llvm::ModulePassManager passes;
  if (llvm::Error error = builder.parsePassPipeline(passes, pipeline)) {
    return fail(llvm::toString(std::move(error)));
  }
  passes.run(*parsed->module, modules);
  if (Status ok = verify(*parsed->module); !ok) return fail(ok.error());
  std::string out;
  llvm::raw_string_ostream stream(out);
  parsed->module->print(stream, nullptr);
  return stream.str();
}

std::vector<std::string> split_pipeline(const std::string& pipeline) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  for (char c : pipeline) {
    if (c == '(' || c == '<') ++depth;
    if (c == ')' || c == '>') --depth;
    if (c == ',' && depth == 0) {
      if (!current.empty()) parts.push_back(current);
      current.clear();
    } else if (!std::isspace(static_cast<unsigned char>(c))) {
      current += c;
    }
  }
  if (!current.empty()) parts.push_back(current);
  return parts;
}

const std::vector<std::string>& pipeline_vocabulary() {
  static const std::vector<std::string> passes = {
      "default<O1>",
      "default<O2>",
      "default<O3>",
      "function(sroa)",
      "function(early-cse)",
      "function(instcombine)",
      "function(simplifycfg)",
      "function(reassociate)",
      "function(gvn)",
      "function(dse)",
      "function(jump-threading)",
      "function(correlated-propagation)",
      "function(loop-mssa(licm))",
      "function(loop(loop-rotate))",
      "function(loop(indvars))",
      "function(loop-unroll<O3>)",
      "function(loop-vectorize)",
      "function(slp-vectorizer)",
      "cgscc(inline)",
      "globalopt",
  };
  return passes;
}

std::string mutate_pipeline(const std::string& pipeline, std::mt19937_64& rng) {
  const auto& vocabulary = pipeline_vocabulary();
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::vector<std::string> parts = split_pipeline(pipeline);
    int op = parts.empty() ? 0 : static_cast<int>(pick(4));
    if (op == 0) {  // insert
      parts.insert(parts.begin() + pick(parts.size() + 1), vocabulary[pick(vocabulary.size())]);
    } else if (op == 1 && parts.size() > 1) {  // delete
      parts.erase(parts.begin() + pick(parts.size()));
    } else if (op == 2 || parts.size() < 2) {  // replace
      parts[pick(parts.size())] = vocabulary[pick(vocabulary.size())];
    } else {  // swap neighbours
      size_t i = pick(parts.size() - 1);
      std::swap(parts[i], parts[i + 1]);
    }
    std::string mutated = join(parts, ",");
    if (mutated != pipeline && check_pipeline(mutated)) return mutated;
  }
  return vocabulary[pick(vocabulary.size())];
}

}  // namespace ratchet
