#include "rewriters/flag_genome.h"

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using ratchet::canonical_flags;
using ratchet::CompilerFamily;
using ratchet::flag_genes;
using ratchet::Gene;
using ratchet::mutate_flags;

namespace {

using Flags = std::vector<std::string>;

const Gene* find_gene(const std::vector<Gene>& genes, const std::string& name) {
  for (const auto& gene : genes) {
    if (gene.name == name) return &gene;
  }
  return nullptr;
}

bool has_allele(const std::vector<Gene>& genes, const std::string& flag) {
  for (const auto& gene : genes) {
    if (std::find(gene.alleles.begin(), gene.alleles.end(), flag) != gene.alleles.end()) {
      return true;
    }
  }
  return false;
}

// The allele each gene has in a canonical flag list ("" when absent).
std::vector<std::string> alleles_of(const Flags& flags, const std::vector<Gene>& genes) {
  std::vector<std::string> out;
  for (const auto& gene : genes) {
    std::string allele;
    for (const auto& flag : flags) {
      if (!flag.empty() &&
          std::find(gene.alleles.begin(), gene.alleles.end(), flag) != gene.alleles.end()) {
        allele = flag;
      }
    }
    out.push_back(allele);
  }
  return out;
}

std::vector<std::string> unsafe_flags() {
  std::vector<std::string> out;
  for (const auto& gene : flag_genes(CompilerFamily::gcc, true)) {
    if (!gene.unsafe_math) continue;
    for (const auto& allele : gene.alleles) {
      if (!allele.empty()) out.push_back(allele);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("flag_genome: compiler_family tells clang from gcc") {
  CHECK(ratchet::compiler_family("clang") == CompilerFamily::clang);
  CHECK(ratchet::compiler_family("clang++") == CompilerFamily::clang);
  CHECK(ratchet::compiler_family("clang-19") == CompilerFamily::clang);
  CHECK(ratchet::compiler_family("/usr/bin/clang++-19") == CompilerFamily::clang);
  CHECK(ratchet::compiler_family("gcc") == CompilerFamily::gcc);
  CHECK(ratchet::compiler_family("g++") == CompilerFamily::gcc);
  CHECK(ratchet::compiler_family("cc") == CompilerFamily::gcc);
  CHECK(ratchet::compiler_family("gcc-14") == CompilerFamily::gcc);
}

TEST_CASE("flag_genome: canonical_flags orders by gene and keeps unknown flags after") {
  auto genes = flag_genes(CompilerFamily::gcc, false);
  CHECK(canonical_flags({"-funroll-loops", "-O2"}, genes) == Flags{"-O2", "-funroll-loops"});
  CHECK(canonical_flags({"-flto", "-DNDEBUG", "-march=native", "-O3", "-g"}, genes) ==
        Flags{"-O3", "-march=native", "-flto", "-DNDEBUG", "-g"});
  CHECK(canonical_flags({}, genes).empty());
}

TEST_CASE("flag_genome: canonical_flags lets the last flag of a gene win") {
  auto genes = flag_genes(CompilerFamily::gcc, false);
  CHECK(canonical_flags({"-O3", "-O2"}, genes) == Flags{"-O2"});
  CHECK(canonical_flags({"-O2", "-funroll-loops", "-O3", "-funroll-all-loops"}, genes) ==
        Flags{"-O3", "-funroll-all-loops"});
  CHECK(canonical_flags({"-finline-functions", "-fno-inline-functions"}, genes) ==
        Flags{"-fno-inline-functions"});
}

TEST_CASE("flag_genome: canonical_flags removes repeated gene flags, keeps unknown ones as written") {
  auto genes = flag_genes(CompilerFamily::gcc, false);
  CHECK(canonical_flags({"-O2", "-O2", "-flto", "-flto"}, genes) == Flags{"-O2", "-flto"});
  CHECK(canonical_flags({"-include", "a.h", "-include", "b.h"}, genes) ==
        Flags{"-include", "a.h", "-include", "b.h"});
}

TEST_CASE("flag_genome: -Ofast is an optimization level, so the last -O flag wins") {
  auto genes = flag_genes(CompilerFamily::gcc, true);
  CHECK(canonical_flags({"-Ofast", "-O2"}, genes) == Flags{"-O2"});
  CHECK(canonical_flags({"-O2", "-Ofast"}, genes) == Flags{"-Ofast"});
}

TEST_CASE("flag_genome: canonical_flags is idempotent and ignores order") {
  auto genes = flag_genes(CompilerFamily::gcc, true);
  Flags flags = {"-ffast-math", "-g", "-march=native", "-O3", "-fno-plt"};
  Flags once = canonical_flags(flags, genes);
  CHECK(canonical_flags(once, genes) == once);
  Flags shuffled = {"-fno-plt", "-O3", "-g", "-ffast-math", "-march=native"};
  CHECK(canonical_flags(shuffled, genes) == once);
}

TEST_CASE("flag_genome: canonical_flags keeps flags of excluded genes as unknown flags") {
  auto genes = flag_genes(CompilerFamily::gcc, false);
  CHECK(canonical_flags({"-ffast-math", "-O2"}, genes) == Flags{"-O2", "-ffast-math"});
}

TEST_CASE("flag_genome: flag_genes leaves out unsafe-math genes unless allowed") {
  auto safe = flag_genes(CompilerFamily::gcc, false);
  auto all = flag_genes(CompilerFamily::gcc, true);
  CHECK(all.size() > safe.size());
  for (const auto& gene : safe) CHECK_FALSE(gene.unsafe_math);
  CHECK(find_gene(safe, "fast-math") == nullptr);
  CHECK_FALSE(has_allele(safe, "-ffast-math"));
  CHECK_FALSE(has_allele(safe, "-Ofast"));
  CHECK(find_gene(all, "fast-math") != nullptr);
  CHECK(has_allele(all, "-ffast-math"));
  CHECK(has_allele(all, "-Ofast"));
}

TEST_CASE("flag_genome: flag_genes leaves out gcc-only genes for clang") {
  auto gcc = flag_genes(CompilerFamily::gcc, true);
  auto clang = flag_genes(CompilerFamily::clang, true);
  CHECK(clang.size() < gcc.size());
  for (const auto& gene : clang) CHECK_FALSE(gene.gcc_only);
  CHECK(find_gene(gcc, "vect-cost") != nullptr);
  CHECK(find_gene(clang, "vect-cost") == nullptr);
  CHECK_FALSE(has_allele(clang, "-fipa-pta"));
  CHECK(find_gene(clang, "opt") != nullptr);
  CHECK(find_gene(clang, "march") != nullptr);
}

TEST_CASE("flag_genome: every gene has at least two distinct alleles, none shared") {
  auto genes = flag_genes(CompilerFamily::gcc, true);
  std::set<std::string> seen;
  for (const auto& gene : genes) {
    CAPTURE(gene.name);
    CHECK(gene.alleles.size() >= 2);
    for (const auto& allele : gene.alleles) {
      if (allele.empty()) continue;
      CHECK(seen.insert(allele).second);
    }
  }
}

TEST_CASE("flag_genome: mutate_flags returns a canonical, different flag list") {
  auto genes = flag_genes(CompilerFamily::gcc, false);
  for (uint64_t seed = 0; seed < 200; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    Flags parent = {"-O2", "-funroll-loops", "-DNDEBUG"};
    auto mutation = mutate_flags(parent, genes, rng, 2);
    CHECK(mutation.flags == canonical_flags(mutation.flags, genes));
    CHECK(mutation.flags != canonical_flags(parent, genes));
    // Unknown flags survive.
    CHECK(std::count(mutation.flags.begin(), mutation.flags.end(), "-DNDEBUG") == 1);
  }
}

TEST_CASE("flag_genome: mutate_flags changes between 1 and max_genes genes, naming each") {
  auto genes = flag_genes(CompilerFamily::gcc, true);
  for (int max_genes : {1, 2, 4}) {
    std::set<int> counts;
    for (uint64_t seed = 0; seed < 300; ++seed) {
      CAPTURE(max_genes, seed);
      std::mt19937_64 rng(seed);
      Flags parent = {"-O2", "-march=native"};
      auto mutation = mutate_flags(parent, genes, rng, max_genes);
      auto before = alleles_of(canonical_flags(parent, genes), genes);
      auto after = alleles_of(mutation.flags, genes);
      int changed = 0;
      for (size_t g = 0; g < genes.size(); ++g) {
        if (before[g] == after[g]) continue;
        ++changed;
        std::string show_before = before[g].empty() ? "(none)" : before[g];
        std::string show_after = after[g].empty() ? "(none)" : after[g];
        CHECK(mutation.summary.find(genes[g].name + ": " + show_before + " -> " + show_after) !=
              std::string::npos);
      }
      CHECK(changed >= 1);
      CHECK(changed <= max_genes);
      // One "gene: a -> b" part per changed gene.
      CHECK(std::count(mutation.summary.begin(), mutation.summary.end(), '>') == changed);
      counts.insert(changed);
    }
    // Every count from 1 to max_genes happens.
    CHECK(counts.size() == static_cast<size_t>(max_genes));
  }
}

TEST_CASE("flag_genome: mutate_flags summary reads gene: old -> new") {
  // A genome of one gene with two alleles can only flip.
  std::vector<Gene> genes = {{"march", {"", "-march=native"}, false, false}};
  std::mt19937_64 rng(1);
  auto added = mutate_flags({"-O2"}, genes, rng, 1);
  CHECK(added.flags == Flags{"-march=native", "-O2"});
  CHECK(added.summary == "march: (none) -> -march=native");
  auto removed = mutate_flags(added.flags, genes, rng, 1);
  CHECK(removed.flags == Flags{"-O2"});
  CHECK(removed.summary == "march: -march=native -> (none)");
}

TEST_CASE("flag_genome: mutate_flags gives a gene without an absent allele a value") {
  std::vector<Gene> genes = {{"opt", {"-O1", "-O2"}, false, false}};
  std::mt19937_64 rng(3);
  auto mutation = mutate_flags({}, genes, rng, 1);
  CHECK((mutation.flags == Flags{"-O1"} || mutation.flags == Flags{"-O2"}));
  CHECK(mutation.summary.rfind("opt: (none) -> -O", 0) == 0);
  auto flipped = mutate_flags({"-O1"}, genes, rng, 1);
  CHECK(flipped.flags == Flags{"-O2"});
  CHECK(flipped.summary == "opt: -O1 -> -O2");
}

TEST_CASE("flag_genome: mutate_flags is deterministic for a seed") {
  auto genes = flag_genes(CompilerFamily::gcc, true);
  for (uint64_t seed : {1u, 2u, 99u}) {
    std::mt19937_64 a(seed);
    std::mt19937_64 b(seed);
    auto first = mutate_flags({"-O2"}, genes, a, 3);
    auto second = mutate_flags({"-O2"}, genes, b, 3);
    CHECK(first.flags == second.flags);
    CHECK(first.summary == second.summary);
  }
  std::set<Flags> distinct;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 rng(seed);
    distinct.insert(mutate_flags({"-O2"}, genes, rng, 2).flags);
  }
  CHECK(distinct.size() > 10);
}

TEST_CASE("flag_genome: mutate_flags never adds an unsafe flag when the genes exclude them") {
  auto genes = flag_genes(CompilerFamily::gcc, false);
  auto unsafe = unsafe_flags();
  REQUIRE_FALSE(unsafe.empty());
  std::mt19937_64 rng(17);
  Flags flags = {"-O2"};
  for (int step = 0; step < 2000; ++step) {
    flags = mutate_flags(flags, genes, rng, 3).flags;
    for (const auto& flag : unsafe) {
      CAPTURE(step, flag);
      CHECK(std::find(flags.begin(), flags.end(), flag) == flags.end());
    }
  }
}

TEST_CASE("flag_genome: mutate_flags reaches -march=native and -O3 from -O2") {
  auto genes = flag_genes(CompilerFamily::gcc, false);
  bool march = false;
  bool o3 = false;
  for (uint64_t seed = 0; seed < 500 && !(march && o3); ++seed) {
    std::mt19937_64 rng(seed);
    auto mutation = mutate_flags({"-O2"}, genes, rng, 2);
    march = march || std::count(mutation.flags.begin(), mutation.flags.end(), "-march=native");
    o3 = o3 || std::count(mutation.flags.begin(), mutation.flags.end(), "-O3");
  }
  CHECK(march);
  CHECK(o3);
}
