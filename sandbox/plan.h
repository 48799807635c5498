// Parent-side preparation of a run's child: environment, executable lookup,
// rlimits, and the words for what went wrong.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "sandbox/child.h"
#include "sandbox/sandbox.h"

namespace ratchet::sandbox {

bool contains_nul(const std::string& text);

// Exactly PATH, HOME and LANG, then spec.env (which may override them).
ratchet::Result<std::vector<std::string>> build_environment(const Spec& spec,
                                                            const std::filesystem::path& workdir,
                                                            std::string& path_value);

// execvp semantics, but against the command's PATH rather than ratchet's.
ratchet::Result<std::string> resolve_executable(const std::string& name,
                                                const std::string& path_value,
                                                const std::filesystem::path& workdir);

ratchet::Status plan_limits(ChildPlan& plan, const Limits& limits);
void drop_limit(ChildPlan& plan, int resource);
// Spec::cpus into the plan; each must be in ratchet's own affinity mask.
ratchet::Status plan_cpus(ChildPlan& plan, const std::vector<int>& cpus);

std::string describe_child_failure(const ChildReport& report, const ChildPlan& plan,
                                   const std::string& command);

bool looks_out_of_memory(const Result& result, const Limits& limits);

}  // namespace ratchet::sandbox
