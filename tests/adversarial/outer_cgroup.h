// The adversarial suite runs inside its own pids and memory cgroups (v1), so
// that a sandbox bug can never fork-bomb or exhaust the machine running it.
#pragma once

namespace ratchet::testing {

// True when the test process now lives in ratchet-tests-<pid> (pids.max 512,
// memory 2 GiB); removed again at exit.
bool in_outer_cgroup();

}  // namespace ratchet::testing
