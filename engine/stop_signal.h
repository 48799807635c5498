// Ctrl-C (SIGINT) and SIGTERM request a clean stop: the running stage is
// cancelled, the candidate stays pending for --resume, the summary prints.
// A second signal ends the process at once.
#pragma once

#include <atomic>

namespace ratchet {

const std::atomic<bool>& install_stop_handlers();

}  // namespace ratchet
