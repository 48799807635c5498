// How a sandbox run ends up as a stage status.
#pragma once

#include "common/evaluation.h"
#include "sandbox/sandbox.h"

namespace ratchet {

// ok only for a clean exit 0; timeouts are `timeout`; signals, memory and
// output floods are `crashed`; a non-zero exit is `failed`.
StageStatus stage_status_of(const sandbox::Result& result);

}  // namespace ratchet
