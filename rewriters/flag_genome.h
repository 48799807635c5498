// The flag genome: a program's compiler flags seen as one choice per gene
// (optimization level, -march, unrolling, vectorization, LTO, inlining …).
//
// Each gene lists its alleles; "" means "flag absent, compiler default". A
// flag list is canonical when it holds at most one allele per gene, in gene
// order, followed by flags no gene knows (kept as the user wrote them). Two
// flag lists that differ only in order canonicalize to the same list, so the
// program hash sees them as one program.
//
// Example: {"-funroll-loops", "-O2"} canonicalizes to {"-O2", "-funroll-loops"};
// mutating gene "march" may give {"-O2", "-march=native", "-funroll-loops"}.
#pragma once

#include <random>
#include <string>
#include <vector>

namespace ratchet {

enum class CompilerFamily { gcc, clang };

CompilerFamily compiler_family(const std::string& compiler);

struct Gene {
  std::string name;
  std::vector<std::string> alleles;  // "" = absent
  bool gcc_only = false;
  // Alleles that change floating-point results (-ffast-math …): offered only
  // when the task's verifier tolerates rounding differences.
  bool unsafe_math = false;
};

// The genes usable for a compiler family, honouring `allow_unsafe_math`.
std::vector<Gene> flag_genes(CompilerFamily family, bool allow_unsafe_math);

std::vector<std::string> canonical_flags(const std::vector<std::string>& flags,
                                         const std::vector<Gene>& genes);

struct FlagMutation {
  std::vector<std::string> flags;  // canonical
  std::string summary;             // "march: (none) -> -march=native; lto: …"
};

// Changes 1 to `max_genes` genes to a different allele (chosen uniformly).
FlagMutation mutate_flags(const std::vector<std::string>& flags, const std::vector<Gene>& genes,
                          std::mt19937_64& rng, int max_genes = 2);

}  // namespace ratchet
