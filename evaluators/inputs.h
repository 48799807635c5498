// The task's inputs: its generator is built once (in the sandbox) and run as
// `gen SIZE SEED`; each input lands in a folder owned by ratchet, outside
// every candidate's work dir.
#pragma once

#include <atomic>
#include <filesystem>
#include <vector>

#include "common/result.h"
#include "evaluators/task.h"

namespace ratchet {

struct InputFile {
  InputSpec spec;
  std::filesystem::path path;
};

struct InputSet {
  std::filesystem::path generator;  // the built generator, for fresh hidden inputs
  std::vector<InputFile> verify;
  InputFile benchmark;
};

// Builds the generator in `dir`/gen-build and writes the inputs to `dir`.
// Errors quote the compiler's or the generator's own message.
Result<InputSet> prepare_inputs(const Task& task, const std::filesystem::path& dir,
                                const std::atomic<bool>* cancel = nullptr);

// Runs the built generator once; the input is written to `dir`/`name`.
Result<InputFile> generate_input(const std::filesystem::path& generator, const InputSpec& input,
                                 const std::filesystem::path& dir, const std::string& name,
                                 const std::atomic<bool>* cancel = nullptr);

}  // namespace ratchet
