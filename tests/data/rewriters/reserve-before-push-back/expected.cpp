#include <vector>

// EVOLVE-BLOCK-START
std::vector<int> squares(int n) {
  std::vector<int> out;
  if (n > 0) out.reserve(out.size() + n);
  for (int i = 0; i < n; ++i) {
    out.push_back(i * i);
  }
  return out;
}

std::vector<int> evens(const std::vector<int>& in, int n) {
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    if (in[i] % 2 == 0) out.push_back(in[i]);
  }
  return out;
}

std::vector<int> until_negative(const std::vector<int>& in, int n) {
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    if (in[i] < 0) break;
    out.push_back(in[i]);
  }
  return out;
}
// EVOLVE-BLOCK-END
