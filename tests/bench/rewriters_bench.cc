// Rewriter latency: AST validation of an edited ~1,000-line C++ file that
// includes <vector> and <string> (first parse, which precompiles the
// preamble, then re-validation of edited versions: an edit inside a body,
// which skips the other bodies, and one outside every body, parsed in full),
// transform rule throughput, function replacement and the token hash. Then
// the same re-validation through the rewriter worker
// (engine/remote_rewriters.h), as the controller does it: the cost of the
// round trip, and the worker's peak RSS (what clang's ASTs and preamble take,
// out of the controller).
//
//   ./build/tests/bench/rewriters_bench [REPEATS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "engine/remote_rewriters.h"
#include "engine/rewriter_client.h"

#include "rewriters/clang_parse.h"
#include "rewriters/function_edit.h"
#include "rewriters/transform_rule.h"

using namespace ratchet;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// About 1,000 lines: 120 small functions over vectors and strings, all in
// one evolvable region; `variant` changes one constant.
std::string make_file(int variant) {
  std::string text =
      "#include <string>\n#include <vector>\n#include <cmath>\n\n// EVOLVE-BLOCK-START\n";
  for (int i = 0; i < 120; ++i) {
    int k = i == 0 ? variant : i;
    text += "double f" + std::to_string(i) + "(const std::vector<double>& v, std::string s) {\n" +
            "  double total = 0;\n"
            "  for (size_t j = 0; j < v.size(); ++j) total += std::pow(v[j], 2);\n"
            "  s += \"x\";\n"
            "  total += s.size() * " + std::to_string(k) + ";\n"
            "  return total;\n"
            "}\n\n";
  }
  text += "// EVOLVE-BLOCK-END\n";
  return text;
}

// A process's peak RSS (VmHWM) in MB.
double peak_rss_mb_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = argc > 1 ? std::atoi(argv[1]) : 20;
  RewriteContext context;
  context.language = "c++";
  context.flags = {"-std=c++17", "-O2"};
  context.directory = "/tmp";
  std::string base = make_file(0);
  size_t lines = std::count(base.begin(), base.end(), '\n');

  clear_parse_cache();
  auto start = Clock::now();
  Status first = validate_source("bench.cc", base, context);
  double first_ms = ms_since(start);
  if (!first) {
    std::fprintf(stderr, "the benchmark file does not parse:\n%s\n", first.error().c_str());
    return 1;
  }

  std::vector<double> revalidate;
  for (int i = 0; i < repeats; ++i) {
    std::string edited = make_file(i + 1);
    start = Clock::now();
    Status ok = validate_source("bench.cc", edited, context);
    revalidate.push_back(ms_since(start));
    if (!ok) return 1;
  }
  ParseStats skipped = parse_stats();
  std::vector<double> broken;
  for (int i = 0; i < repeats; ++i) {
    std::string edited = make_file(i + 1);
    edited.replace(edited.find("return total;"), 13, "return totl;");
    start = Clock::now();
    Status refused = validate_source("bench.cc", edited, context);
    broken.push_back(ms_since(start));
    if (refused) return 1;
  }

  // An edit outside every body (a new declaration) is parsed in full.
  std::vector<double> outside;
  for (int i = 0; i < repeats; ++i) {
    std::string edited = make_file(i + 1);
    edited.insert(edited.find("// EVOLVE-BLOCK-END"), "int added_" + std::to_string(i) + ";\n");
    start = Clock::now();
    Status ok = validate_source("bench.cc", edited, context);
    outside.push_back(ms_since(start));
    if (!ok) return 1;
  }

  // The floor: the same includes, one small function. What a re-validation
  // costs beyond this is the file's own code.
  std::string small_base =
      "#include <string>\n#include <vector>\n#include <cmath>\n\n// EVOLVE-BLOCK-START\n"
      "double g(const std::vector<double>& v) { return v.size() * 0; }\n// EVOLVE-BLOCK-END\n";
  if (!validate_source("small.cc", small_base, context)) return 1;
  std::vector<double> small;
  for (int i = 0; i < repeats; ++i) {
    std::string edited = small_base;
    edited.replace(edited.find("* 0"), 3, "* " + std::to_string(i + 1));
    start = Clock::now();
    Status ok = validate_source("small.cc", edited, context);
    small.push_back(ms_since(start));
    if (!ok) return 1;
  }

  TransformRule rule{"pow-square",
                     "callExpr(callee(functionDecl(hasName(\"::std::pow\"))), argumentCountIs(2), "
                     "hasArgument(1, ignoringParenImpCasts(integerLiteral(equals(2)))), "
                     "hasArgument(0, ignoringParenImpCasts(expr().bind(\"x\"))))",
                     "(${x} * ${x})", "", ""};
  std::vector<double> rules;
  for (int i = 0; i < repeats; ++i) {
    std::string edited = make_file(i + 1);
    start = Clock::now();
    auto result = apply_rule("bench.cc", edited, rule, context);
    rules.push_back(ms_since(start));
    if (!result) {
      std::fprintf(stderr, "rule failed: %s\n", result.error().c_str());
      return 1;
    }
  }
  std::vector<double> functions;
  for (int i = 0; i < repeats; ++i) {
    std::string definition =
        "double f7(const std::vector<double>& v, std::string s) { return v.size() + " +
        std::to_string(i) + " + s.size(); }";
    start = Clock::now();
    auto result = replace_function("bench.cc", base, "f7", definition, context);
    functions.push_back(ms_since(start));
    if (!result) {
      std::fprintf(stderr, "function edit failed: %s\n", result.error().c_str());
      return 1;
    }
  }
  start = Clock::now();
  std::string hash;
  for (int i = 0; i < repeats; ++i) hash = token_hash(make_file(i), context);
  double hash_ms = ms_since(start) / repeats;

  std::printf("file: %zu lines, includes <vector> <string> <cmath>, %d repeats\n", lines, repeats);
  std::printf("first parse (builds the preamble)       %8.1f ms\n", first_ms);
  std::printf("re-validate an edited file (median)      %8.1f ms  (min %.1f)\n",
              median(revalidate), *std::min_element(revalidate.begin(), revalidate.end()));
  std::printf("  (%lu of %lu re-validations skipped bodies, %.0f bodies each)\n", skipped.skipping,
              skipped.skipping + skipped.full - 1,
              skipped.skipping ? double(skipped.bodies_skipped) / skipped.skipping : 0.0);
  std::printf("re-validate, edit outside bodies (full)  %8.1f ms  (min %.1f)\n", median(outside),
              *std::min_element(outside.begin(), outside.end()));
  std::printf("re-validate, edit does not parse (med.)  %8.1f ms\n", median(broken));
  std::printf("re-validate a 7-line file, same includes %8.1f ms  (min %.1f)\n", median(small),
              *std::min_element(small.begin(), small.end()));
  std::printf("apply rule pow-square, 120 matches (med.) %7.1f ms  = %.1f files/s\n",
              median(rules), 1000.0 / median(rules));
  std::printf("replace function f7 (median)             %8.1f ms\n", median(functions));
  std::printf("token hash                               %8.2f ms\n", hash_ms);

  start = Clock::now();
  if (!remote::validate_source("bench.cc", base, context)) return 1;
  double remote_first_ms = ms_since(start);
  std::vector<double> remote;
  for (int i = 0; i < repeats; ++i) {
    std::string edited = make_file(i + 1);
    start = Clock::now();
    Status ok = remote::validate_source("bench.cc", edited, context);
    remote.push_back(ms_since(start));
    if (!ok) return 1;
  }
  std::vector<double> round_trips;
  for (int i = 0; i < repeats; ++i) {
    start = Clock::now();
    if (!remote::check_pipeline("default<O2>")) return 1;
    round_trips.push_back(ms_since(start));
  }
  std::printf("worker: first parse (starts the worker)  %8.1f ms\n", remote_first_ms);
  std::printf("worker: re-validate an edited file (med.) %7.1f ms  (min %.1f)\n", median(remote),
              *std::min_element(remote.begin(), remote.end()));
  std::printf("worker: a round trip (check_pipeline)    %8.2f ms\n", median(round_trips));
  std::printf("worker: peak RSS                         %8.1f MB\n",
              peak_rss_mb_of(rewriter_client().pid()));
  return 0;
}
