#include <exception>
#include <iostream>

#include "engine/cli.h"

int main(int argc, char** argv) {
  try {
    return ratchet::run_cli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ratchet: internal error: " << e.what() << "\n";
    return 1;
  }
}
