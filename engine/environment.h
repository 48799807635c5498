// A fingerprint of the machine and toolchain, stored with each campaign so
// numbers are compared only where they should be.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ratchet {

// cpu_model, cores, kernel, compiler (first line of `COMPILER --version`),
// governor (when readable), hardware_counters (whether perf_event_open can
// count instructions here).
nlohmann::json environment_fingerprint(const std::string& compiler);

}  // namespace ratchet
