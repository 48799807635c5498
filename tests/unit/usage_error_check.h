// CHECK_USAGE_ERROR(expression, message): `expression` throws a
// ratchet::FatalError with exactly `message` and the usage exit code (2).
// User-facing messages are pinned this way.
#pragma once

#include <string>

#include <catch2/catch.hpp>

#include "common/result.h"

namespace ratchet::testing {

// Runs `body`, which must throw a ratchet::FatalError, and returns it.
template <class Body>
FatalError fatal_error_of(Body&& body) {
  try {
    body();
  } catch (const FatalError& error) {
    return error;
  }
  FAIL("expected a ratchet::FatalError");
  return FatalError(0, "");
}

}  // namespace ratchet::testing

#define CHECK_USAGE_ERROR(expression, message)                                       \
  do {                                                                               \
    auto error_ = ::ratchet::testing::fatal_error_of([&] { (void)(expression); });   \
    CHECK(std::string(error_.what()) == (message));                                  \
    CHECK(error_.exit_code() == ::ratchet::kExitUsage);                              \
  } while (false)
