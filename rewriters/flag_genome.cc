#include "rewriters/flag_genome.h"

#include <algorithm>

#include "common/text.h"

namespace ratchet {

namespace {

const std::vector<Gene>& all_genes() {
  static const std::vector<Gene> genes = {
      {"opt", {"-O0", "-O1", "-O2", "-O3", "-Os"}, false, false},
      {"march", {"", "-march=native"}, false, false},
      {"mtune", {"", "-mtune=native"}, false, false},
      {"unroll", {"", "-funroll-loops", "-funroll-all-loops"}, false, false},
      {"vectorize", {"", "-ftree-vectorize", "-fno-tree-vectorize"}, false, false},
      {"vect-cost", {"", "-fvect-cost-model=cheap", "-fvect-cost-model=dynamic",
                     "-fvect-cost-model=unlimited"}, true, false},
      {"lto", {"", "-flto"}, false, false},
      {"inline", {"", "-finline-functions", "-fno-inline-functions"}, false, false},
      {"inline-limit", {"", "--param=max-inline-insns-auto=30", "--param=max-inline-insns-auto=100",
                        "--param=max-inline-insns-single=400"}, true, false},
      {"ipa-pta", {"", "-fipa-pta"}, true, false},
      {"peel", {"", "-fpeel-loops"}, false, false},
      {"prefetch", {"", "-fprefetch-loop-arrays"}, true, false},
      {"frame-pointer", {"", "-fomit-frame-pointer", "-fno-omit-frame-pointer"}, false, false},
      {"interposition", {"", "-fno-semantic-interposition"}, false, false},
      {"plt", {"", "-fno-plt"}, false, false},
      {"math-errno", {"", "-fno-math-errno"}, false, false},
      {"fp-contract", {"", "-ffp-contract=fast", "-ffp-contract=off"}, false, true},
      {"fast-math", {"", "-ffast-math"}, false, true},
  };
  return genes;
}

std::string show(const std::string& allele) { return allele.empty() ? "(none)" : allele; }

// Index of the allele present in `flags` for `gene`, 0-based over alleles;
// the "" allele when none is present; alleles.size() when the gene has no ""
// allele (like "opt") and none of its flags is present.
size_t current_allele(const std::vector<std::string>& flags, const Gene& gene) {
  // The last occurrence wins, as it does on the compiler's command line.
  for (auto flag = flags.rbegin(); flag != flags.rend(); ++flag) {
    auto allele = std::find(gene.alleles.begin(), gene.alleles.end(), *flag);
    if (!flag->empty() && allele != gene.alleles.end()) return allele - gene.alleles.begin();
  }
  auto empty = std::find(gene.alleles.begin(), gene.alleles.end(), "");
  return empty == gene.alleles.end() ? gene.alleles.size() : empty - gene.alleles.begin();
}

bool belongs_to_any(const std::string& flag, const std::vector<Gene>& genes) {
  for (const auto& gene : genes) {
    if (std::find(gene.alleles.begin(), gene.alleles.end(), flag) != gene.alleles.end()) {
      return true;
    }
  }
  return false;
}

}  // namespace

CompilerFamily compiler_family(const std::string& compiler) {
  return compiler.find("clang") != std::string::npos ? CompilerFamily::clang
                                                     : CompilerFamily::gcc;
}

std::vector<Gene> flag_genes(CompilerFamily family, bool allow_unsafe_math) {
  std::vector<Gene> genes;
  for (const auto& gene : all_genes()) {
    if (gene.gcc_only && family != CompilerFamily::gcc) continue;
    if (gene.unsafe_math && !allow_unsafe_math) continue;
    genes.push_back(gene);
    // -Ofast is an optimization level (the last -O wins), so it is an
    // allele of "opt", offered only where value-changing math is allowed.
    if (gene.name == "opt" && allow_unsafe_math) genes.back().alleles.push_back("-Ofast");
  }
  return genes;
}

std::vector<std::string> canonical_flags(const std::vector<std::string>& flags,
                                         const std::vector<Gene>& genes) {
  std::vector<std::string> out;
  for (const auto& gene : genes) {
    size_t allele = current_allele(flags, gene);
    if (allele < gene.alleles.size() && !gene.alleles[allele].empty()) {
      out.push_back(gene.alleles[allele]);
    }
  }
  // Unknown flags stay as written, repeats included (-include a.h -include b.h).
  for (const auto& flag : flags) {
    if (!belongs_to_any(flag, genes)) out.push_back(flag);
  }
  return out;
}

FlagMutation mutate_flags(const std::vector<std::string>& flags, const std::vector<Gene>& genes,
                          std::mt19937_64& rng, int max_genes) {
  std::vector<std::string> working = canonical_flags(flags, genes);
  std::vector<size_t> order(genes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  int count = 1 + static_cast<int>(rng() % static_cast<uint64_t>(std::max(1, max_genes)));

  std::vector<std::string> changes;
  for (size_t k = 0; k < order.size() && static_cast<int>(changes.size()) < count; ++k) {
    const Gene& gene = genes[order[k]];
    if (gene.alleles.size() < 2) continue;
    size_t current = current_allele(working, gene);
    size_t next = rng() % (gene.alleles.size() - (current < gene.alleles.size() ? 1 : 0));
    if (current < gene.alleles.size() && next >= current) ++next;
    // Remove the old allele, add the new one; canonical order is restored below.
    if (current < gene.alleles.size() && !gene.alleles[current].empty()) {
      working.erase(std::find(working.begin(), working.end(), gene.alleles[current]));
    }
    if (!gene.alleles[next].empty()) working.push_back(gene.alleles[next]);
    changes.push_back(gene.name + ": " +
                      show(current < gene.alleles.size() ? gene.alleles[current] : "") + " -> " +
                      show(gene.alleles[next]));
  }
  return {canonical_flags(working, genes), join(changes, "; ")};
}

}  // namespace ratchet
