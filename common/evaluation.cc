#include "common/evaluation.h"

namespace ratchet {

const char* to_string(StageStatus status) {
  switch (status) {
    case StageStatus::pending: return "pending";
    case StageStatus::ok: return "ok";
    case StageStatus::failed: return "failed";
    case StageStatus::timeout: return "timeout";
    case StageStatus::crashed: return "crashed";
    case StageStatus::skipped: return "skipped";
  }
  return "unknown";
}

}  // namespace ratchet
