#include <string>
#include <vector>

// EVOLVE-BLOCK-START
long sum(const std::vector<int>& v) {
  long s = 0;
  for (size_t i = 0; i < v.size(); ++i) s += v[i];
  return s;
}

void grow(std::vector<int>& v) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] > 10) v.push_back(v[i] / 2);
  }
}

int count_spaces(const std::string& text) {
  int n = 0;
  for (size_t i = 0; i < text.size(); ++i) n += text[i] == ' ';
  return n;
}

void clear_all(std::vector<std::vector<int>>& rows, std::vector<int>& v) {
  for (size_t i = 0; i < v.size(); ++i) rows[i].swap(v);
}
// EVOLVE-BLOCK-END
