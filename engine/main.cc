#include <exception>
#include <iostream>

#include "engine/cli.h"
#include "engine/heap.h"

int main(int argc, char** argv) {
  ratchet::keep_freed_heap();
  try {
    return ratchet::run_cli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ratchet: internal error: " << e.what() << "\n";
    return 1;
  }
}
