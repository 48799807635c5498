#include <iostream>

// EVOLVE-BLOCK-START
void report(int n) {
  for (int i = 0; i < n; ++i) std::cout << i << std::endl;
  std::cout << "done" << std::endl;
}
// EVOLVE-BLOCK-END

int main() {
  report(3);
  std::cout << std::endl;
}
