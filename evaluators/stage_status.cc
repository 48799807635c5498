#include "evaluators/stage_status.h"

namespace ratchet {

StageStatus stage_status_of(const sandbox::Result& result) {
  using sandbox::Termination;
  switch (result.termination) {
    case Termination::ok: return result.exit_code == 0 ? StageStatus::ok : StageStatus::failed;
    case Termination::wall_timeout:
    case Termination::cpu_timeout: return StageStatus::timeout;
    case Termination::memory:
    case Termination::output_limit:
    case Termination::signal: return StageStatus::crashed;
    case Termination::setup_error:
    case Termination::cancelled: return StageStatus::failed;
  }
  return StageStatus::failed;
}

}  // namespace ratchet
