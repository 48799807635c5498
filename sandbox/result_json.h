// JSON form of a sandbox::Result, for evidence stored with a candidate and for
// `ratchet sandbox --json`.
#pragma once

#include <nlohmann/json.hpp>

#include "sandbox/sandbox.h"

namespace ratchet::sandbox {

// Fields: termination (to_string form, e.g. "wall-timeout"), exit_code, signal,
// wall_ms, cpu_ms, user_ms, sys_ms, peak_memory_kb, stdout, stderr,
// stdout_truncated, stderr_truncated, isolation, and setup_error only when set.
// Output that is not valid UTF-8 has the offending bytes replaced by U+FFFD, so
// the result can always be serialized.
nlohmann::json to_json(const Result& result);

}  // namespace ratchet::sandbox
