#include "evaluators/output_compare.h"

#include <optional>
#include <string>

#include <catch2/catch.hpp>

using ratchet::compare_outputs;
using ratchet::Tolerance;
using ratchet::VerifyMode;

namespace {

std::optional<std::string> exact(const std::string& expected, const std::string& actual) {
  return compare_outputs(expected, actual, VerifyMode::exact, {});
}

std::optional<std::string> numeric(const std::string& expected, const std::string& actual,
                                   double abs, double rel) {
  return compare_outputs(expected, actual, VerifyMode::numeric, Tolerance{abs, rel});
}

}  // namespace

TEST_CASE("output_compare: exact mode accepts equal outputs") {
  CHECK_FALSE(exact("", ""));
  CHECK_FALSE(exact("a 1\nb 2\n", "a 1\nb 2\n"));
}

TEST_CASE("output_compare: exact mode names the first differing line") {
  CHECK(exact("alpha\nbeta\ngamma\n", "alpha\nbetA\ngamma\n") ==
        "line 2 differs: expected \"beta\", got \"betA\"");
  CHECK(exact("x\n", "y\n") == "line 1 differs: expected \"x\", got \"y\"");
  CHECK(exact("sum 10\ncount 3\n", "sum 10\ncount 30\n") ==
        "line 2 differs: expected \"count 3\", got \"count 30\"");
}

TEST_CASE("output_compare: exact mode compares bytes, including whitespace") {
  CHECK(exact("1 2\n", "1  2\n") == "line 1 differs: expected \"1 2\", got \"1  2\"");
  CHECK(exact("1.0\n", "1.00\n") == "line 1 differs: expected \"1.0\", got \"1.00\"");
}

TEST_CASE("output_compare: exact mode reports output that ends early") {
  CHECK(exact("a\nb\nc\n", "a\nb\n") ==
        "output ends early at byte 4 (line 3); expected 2 more bytes");
  CHECK(exact("a\n", "") == "output ends early at byte 0 (line 1); expected 2 more bytes");
}

TEST_CASE("output_compare: exact mode reports extra output") {
  CHECK(exact("a\nb\n", "a\nb\nc\n") == "output has 2 extra bytes after byte 4 (line 3): \"c \"");
  std::string extra(100, 'x');
  CHECK(exact("", extra) ==
        "output has 100 extra bytes after byte 0 (line 1): \"" + std::string(60, 'x') + "...\"");
}

TEST_CASE("output_compare: exact mode shortens a long differing line") {
  std::string expected = std::string(100, 'a') + "\n";
  std::string actual = std::string(100, 'b') + "\n";
  CHECK(exact(expected, actual) == "line 1 differs: expected \"" + std::string(60, 'a') +
                                       "...\", got \"" + std::string(60, 'b') + "...\"");
}

TEST_CASE("output_compare: numeric mode accepts differences within the absolute tolerance") {
  CHECK_FALSE(numeric("1.0 2.0\n", "1.0000000001 1.9999999999\n", 1e-9, 0));
  CHECK_FALSE(numeric("0\n", "1e-12\n", 1e-9, 0));
}

TEST_CASE("output_compare: numeric mode accepts differences within the relative tolerance") {
  CHECK_FALSE(numeric("1000000\n", "1000000.5\n", 0, 1e-6));
  CHECK_FALSE(numeric("-2.5e10\n", "-2.50000001e10\n", 0, 1e-8));
}

TEST_CASE("output_compare: numeric mode reports a number beyond both tolerances") {
  CHECK(numeric("sum 1.0\ncenter 0.5\n", "sum 1.0\ncenter 0.6\n", 1e-3, 1e-3) ==
        "token 4 (line 2): expected 0.5, got 0.6 (|diff| 0.1 beyond abs 0.001 / rel 0.001)");
  // Within abs but not rel is still a match; beyond abs and rel is not.
  CHECK_FALSE(numeric("1000\n", "1000.5\n", 1, 0));
  CHECK(numeric("1000\n", "1002\n", 1, 1e-6) ==
        "token 1 (line 1): expected 1000, got 1002 (|diff| 2 beyond abs 1 / rel 1e-06)");
}

TEST_CASE("output_compare: numeric mode requires other tokens to match exactly") {
  CHECK(numeric("sum 1.0\n", "Sum 1.0\n", 1, 1) ==
        "token 1 (line 1): expected \"sum\", got \"Sum\"");
  CHECK(numeric("1.0 ok\n", "1.0 1\n", 1, 1) == "token 2 (line 1): expected \"ok\", got \"1\"");
  CHECK(numeric("1.0x\n", "1.0y\n", 1, 1) == "token 1 (line 1): expected \"1.0x\", got \"1.0y\"");
}

TEST_CASE("output_compare: numeric mode reports a token count mismatch") {
  CHECK(numeric("1 2 3\n", "1 2\n", 0.1, 0) == "expected 3 tokens, got 2");
  CHECK(numeric("1 2\n", "1 2 3\n", 0.1, 0) == "expected 2 tokens, got 3");
}

TEST_CASE("output_compare: numeric mode matches NaN only with NaN") {
  CHECK_FALSE(numeric("nan\n", "nan\n", 0, 1e-9));
  CHECK_FALSE(numeric("nan\n", "-nan\n", 0, 1e-9));
  CHECK(numeric("nan\n", "1.0\n", 1e300, 1) ==
        "token 1 (line 1): expected nan, got 1.0 (|diff| nan beyond abs 1e+300 / rel 1)");
  CHECK(numeric("1.0\n", "nan\n", 1e300, 1).has_value());
}

TEST_CASE("output_compare: numeric mode matches an infinity only with the same infinity") {
  CHECK_FALSE(numeric("inf\n", "inf\n", 1e-9, 1e-9));
  CHECK_FALSE(numeric("inf\n", "Infinity\n", 1e-9, 1e-9));
  CHECK_FALSE(numeric("-inf\n", "-inf\n", 0, 0.5));
  CHECK(numeric("inf\n", "-inf\n", 1e-9, 1e-9).has_value());
  CHECK(numeric("inf\n", "1e308\n", 1e-9, 1e-9).has_value());
  CHECK(numeric("1.0\n", "inf\n", 1e-9, 1e-9).has_value());
  CHECK(numeric("1.0\n", "inf\n", 0, 1).has_value());
  CHECK(numeric("-inf\n", "0\n", 0, 0.5) ==
        "token 1 (line 1): expected -inf, got 0 (|diff| inf beyond abs 0 / rel 0.5)");
}

TEST_CASE("output_compare: numeric mode ignores differences in whitespace") {
  CHECK_FALSE(numeric("1 2\n3 4\n", "  1\t2 3\n\n4", 1e-9, 0));
  CHECK_FALSE(numeric("a b\n", "a\r\nb\r\n", 1e-9, 0));
  CHECK_FALSE(numeric("", "\n \n", 1e-9, 0));
}

TEST_CASE("output_compare: numeric mode counts lines in the actual output") {
  CHECK(numeric("1\n2\n3\n", "1\n2\n\n\n4\n", 0.5, 0) ==
        "token 3 (line 5): expected 3, got 4 (|diff| 1 beyond abs 0.5 / rel 0)");
}
