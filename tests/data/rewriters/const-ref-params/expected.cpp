#include <string>
#include <vector>

// EVOLVE-BLOCK-START
long total(const std::vector<int>& values) {
  long s = 0;
  for (int v : values) s += v;
  return s;
}

size_t longest(const std::vector<std::string>& words, int minimum) {
  size_t best = minimum;
  for (const auto& w : words) best = w.size() > best ? w.size() : best;
  return best;
}

std::vector<int> with_zero(std::vector<int> values) {
  values.push_back(0);
  return values;
}

struct Small {
  int a, b;
};
int add(Small s) { return s.a + s.b; }
// EVOLVE-BLOCK-END
