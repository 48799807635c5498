#include "common/json_config.h"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/result.h"
#include "tests/unit/usage_error_check.h"

using ratchet::JsonObjectReader;
using nlohmann::json;

namespace {


std::filesystem::path write_json(const ratchet::TempDir& dir, const std::string& text) {
  auto path = dir.path() / "config.json";
  REQUIRE(ratchet::write_file(path, text).ok());
  return path;
}

}  // namespace

TEST_CASE("json_config: parse_json_file accepts // and /* */ comments") {
  ratchet::TempDir dir;
  auto path = write_json(dir,
                         "// leading comment\n"
                         "{\n"
                         "  \"a\": 1,  // trailing comment\n"
                         "  /* block\n"
                         "     comment */ \"b\": \"x // not a comment\"\n"
                         "}\n");
  json value = ratchet::parse_json_file(path);
  CHECK(value == json{{"a", 1}, {"b", "x // not a comment"}});
}

TEST_CASE("json_config: parse_json_file names the file and line:column of a syntax error") {
  ratchet::TempDir dir;
  std::string file = (dir.path() / "config.json").string();
  SECTION("a missing colon") {
    auto path = write_json(dir, "{\n  \"a\": 1,\n  \"b\" 2\n}\n");
    CHECK_USAGE_ERROR(ratchet::parse_json_file(path),
                      file + ":3:7: invalid JSON: syntax error while parsing object separator - "
                             "unexpected number literal; expected ':'");
  }
  SECTION("a trailing comma") {
    auto path = write_json(dir, "{\n  // comment\n  \"a\": 1,\n}\n");
    CHECK_USAGE_ERROR(ratchet::parse_json_file(path),
                      file + ":4:1: invalid JSON: syntax error while parsing object key - "
                             "unexpected '}'; expected string literal");
  }
  SECTION("an empty file") {
    auto path = write_json(dir, "");
    CHECK_USAGE_ERROR(ratchet::parse_json_file(path),
                      file + ":1:1: invalid JSON: syntax error while parsing value - unexpected "
                             "end of input; expected '[', '{', or a literal");
  }
}

TEST_CASE("json_config: parse_json_file names a missing file") {
  ratchet::TempDir dir;
  auto path = dir.path() / "absent.json";
  CHECK_USAGE_ERROR(ratchet::parse_json_file(path),
                    "cannot read '" + path.string() + "': No such file or directory");
}

TEST_CASE("json_config: the reader refuses a document that is not an object") {
  json value = json::array({1, 2});
  CHECK_USAGE_ERROR(JsonObjectReader(value, "x.json", ""),
                    "x.json: the document: expected an object, got [1,2]");
  json nested = 5;
  CHECK_USAGE_ERROR(JsonObjectReader(nested, "x.json", "budget"),
                    "x.json: key 'budget': expected an object, got 5");
}

TEST_CASE("json_config: finish names an unknown key with its path and the near miss") {
  json value = json::parse(R"({"budget": {"max_eval": 10}})");
  JsonObjectReader root(value, "x.json", "");
  auto budget = root.object("budget");
  REQUIRE(budget);
  CHECK(budget->integer_or("max_evals", 50, 0, 100) == 50);
  CHECK(budget->number_or("max_wall_seconds", 0, 0, 10) == 0);
  CHECK_USAGE_ERROR(budget->finish(),
                    "x.json: unknown key 'budget.max_eval' (did you mean 'max_evals'?)");
  root.finish();  // "budget" itself was read
}

TEST_CASE("json_config: finish names an unknown key without a near miss") {
  json value = json::parse(R"({"name": "n", "colour": "red"})");
  JsonObjectReader root(value, "x.json", "");
  CHECK(root.string("name") == "n");
  CHECK_USAGE_ERROR(root.finish(), "x.json: unknown key 'colour'");
}

TEST_CASE("json_config: finish accepts keys asked for, present or not") {
  json value = json::parse(R"({"a": 1, "b": [1], "c": {"d": 2}})");
  JsonObjectReader root(value, "x.json", "");
  CHECK(root.integer("a", 0, 10) == 1);
  CHECK(root.raw("b") != nullptr);
  CHECK(root.raw("absent") == nullptr);
  CHECK(root.string_or("e", "fallback") == "fallback");
  auto c = root.object("c");
  REQUIRE(c);
  CHECK(c->integer("d", 0, 10) == 2);
  c->finish();
  root.finish();
}

TEST_CASE("json_config: a wrong type names the key path, what was expected and the value") {
  json value = json::parse(R"({"budget": {"max_evals": "ten", "ratio": "x", "on": "yes"}})");
  JsonObjectReader root(value, "x.json", "");
  auto budget = root.object("budget");
  REQUIRE(budget);
  CHECK_USAGE_ERROR(budget->integer_or("max_evals", 50, 0, 100),
                    "x.json: key 'budget.max_evals': expected an integer from 0 to 100, got \"ten\"");
  CHECK_USAGE_ERROR(budget->integer("max_evals", 1, INT64_MAX),
                    "x.json: key 'budget.max_evals': expected an integer >= 1, got \"ten\"");
  CHECK_USAGE_ERROR(budget->number_or("ratio", 0.5, 0, 1),
                    "x.json: key 'budget.ratio': expected a number from 0 to 1, got \"x\"");
  CHECK_USAGE_ERROR(budget->boolean_or("on", false),
                    "x.json: key 'budget.on': expected true or false, got \"yes\"");
}

TEST_CASE("json_config: a string key holding a number is a wrong type") {
  json value = json::parse(R"({"name": 5})");
  JsonObjectReader root(value, "x.json", "");
  CHECK_USAGE_ERROR(root.string("name"), "x.json: key 'name': expected a string, got 5");
  CHECK_USAGE_ERROR(root.string_or("name", "n"), "x.json: key 'name': expected a string, got 5");
}

TEST_CASE("json_config: a missing required key says what was expected") {
  json value = json::object();
  JsonObjectReader root(value, "x.json", "");
  CHECK_USAGE_ERROR(root.string("task"), "x.json: missing key 'task' (a string)");
  CHECK_USAGE_ERROR(root.integer("size", 0, INT64_MAX),
                    "x.json: missing key 'size' (an integer >= 0)");
  CHECK_USAGE_ERROR(root.strings("sources"), "x.json: missing key 'sources' (an array of strings)");
  json nested = json::object();
  JsonObjectReader input(nested, "x.json", "inputs.benchmark");
  CHECK_USAGE_ERROR(input.integer("seed", 0, 10),
                    "x.json: missing key 'inputs.benchmark.seed' (an integer from 0 to 10)");
}

TEST_CASE("json_config: integers are checked against their range") {
  json value = json::parse(
      R"({"low": -1, "high": 101, "ok": 100, "float": 2.5, "whole_float": 3.0,
          "huge": 18446744073709551615, "negative": -5})");
  JsonObjectReader root(value, "x.json", "");
  CHECK(root.integer("ok", 0, 100) == 100);
  CHECK(root.integer_or("absent", 7, 0, 100) == 7);
  CHECK(root.integer("negative", INT64_MIN, 0) == -5);
  CHECK_USAGE_ERROR(root.integer("low", 0, 100),
                    "x.json: key 'low': expected an integer from 0 to 100, got -1");
  CHECK_USAGE_ERROR(root.integer_or("high", 1, 0, 100),
                    "x.json: key 'high': expected an integer from 0 to 100, got 101");
  CHECK_USAGE_ERROR(root.integer("float", 1, INT64_MAX),
                    "x.json: key 'float': expected an integer >= 1, got 2.5");
  CHECK_USAGE_ERROR(root.integer("whole_float", 1, INT64_MAX),
                    "x.json: key 'whole_float': expected an integer >= 1, got 3.0");
  CHECK_USAGE_ERROR(root.integer("huge", 0, INT64_MAX),
                    "x.json: key 'huge': expected an integer >= 0, got 18446744073709551615");
}

TEST_CASE("json_config: numbers accept integers and are checked against their range") {
  json value = json::parse(R"({"one": 1, "half": 0.5, "big": 1.5})");
  JsonObjectReader root(value, "x.json", "");
  CHECK(root.number_or("one", 0, 0, 1) == 1.0);
  CHECK(root.number_or("half", 0, 0, 1) == 0.5);
  CHECK(root.number_or("absent", 0.25, 0, 1) == 0.25);
  CHECK_USAGE_ERROR(root.number_or("big", 0, 0, 1),
                    "x.json: key 'big': expected a number from 0 to 1, got 1.5");
}

TEST_CASE("json_config: boolean_or reads true and false") {
  json value = json::parse(R"({"yes": true, "no": false})");
  JsonObjectReader root(value, "x.json", "");
  CHECK(root.boolean_or("yes", false));
  CHECK_FALSE(root.boolean_or("no", true));
  CHECK(root.boolean_or("absent", true));
}

TEST_CASE("json_config: choice_or accepts a listed choice and falls back when absent") {
  json value = json::parse(R"({"mode": "numeric"})");
  JsonObjectReader root(value, "x.json", "");
  CHECK(root.choice_or("mode", {"exact", "numeric"}, "exact") == "numeric");
  CHECK(root.choice_or("absent", {"exact", "numeric"}, "exact") == "exact");
  root.finish();
}

TEST_CASE("json_config: choice_or lists the choices and suggests the near miss") {
  json value = json::parse(R"({"verify": {"mode": "exakt", "other": "fuzzy", "number": 3}})");
  JsonObjectReader root(value, "x.json", "");
  auto verify = root.object("verify");
  REQUIRE(verify);
  CHECK_USAGE_ERROR(verify->choice_or("mode", {"exact", "numeric"}, "exact"),
                    "x.json: key 'verify.mode': expected one of \"exact\", \"numeric\" (did you "
                    "mean \"exact\"?), got \"exakt\"");
  CHECK_USAGE_ERROR(verify->choice_or("other", {"exact", "numeric"}, "exact"),
                    "x.json: key 'verify.other': expected one of \"exact\", \"numeric\", got "
                    "\"fuzzy\"");
  CHECK_USAGE_ERROR(verify->choice_or("number", {"exact", "numeric"}, "exact"),
                    "x.json: key 'verify.number': expected one of \"exact\", \"numeric\", got 3");
}

TEST_CASE("json_config: strings reads an array and names a non-string element by index") {
  json value = json::parse(R"({"build": {"flags": ["-O2", 3], "libs": ["-lm"], "one": "-O2"}})");
  JsonObjectReader root(value, "x.json", "");
  auto build = root.object("build");
  REQUIRE(build);
  CHECK(build->strings("libs") == std::vector<std::string>{"-lm"});
  CHECK(build->strings_or("absent", {"a"}) == std::vector<std::string>{"a"});
  CHECK_USAGE_ERROR(build->strings("flags"),
                    "x.json: key 'build.flags[1]': expected a string, got 3");
  CHECK_USAGE_ERROR(build->strings_or("one", {}),
                    "x.json: key 'build.one': expected an array of strings, got \"-O2\"");
}

TEST_CASE("json_config: object and objects check their types") {
  json value = json::parse(R"({"budget": 5, "proposers": [{"kind": "flags"}, 3], "list": {}})");
  JsonObjectReader root(value, "x.json", "");
  CHECK_FALSE(root.object("absent").has_value());
  CHECK(root.objects("absent_list").empty());
  CHECK_USAGE_ERROR(root.object("budget"), "x.json: key 'budget': expected an object, got 5");
  CHECK_USAGE_ERROR(root.objects("proposers"),
                    "x.json: key 'proposers[1]': expected an object, got 3");
  CHECK_USAGE_ERROR(root.objects("list"),
                    "x.json: key 'list': expected an array of objects, got {}");
}

TEST_CASE("json_config: objects gives each element its indexed key path") {
  json value = json::parse(R"({"proposers": [{"kind": "flags"}, {"kind": "llm", "wieght": 2}]})");
  JsonObjectReader root(value, "x.json", "");
  auto proposers = root.objects("proposers");
  REQUIRE(proposers.size() == 2);
  CHECK(proposers[1].key_path("kind") == "proposers[1].kind");
  CHECK(proposers[1].string("kind") == "llm");
  CHECK(proposers[1].number_or("weight", 1, 0, 10) == 1);
  CHECK_USAGE_ERROR(proposers[1].finish(),
                    "x.json: unknown key 'proposers[1].wieght' (did you mean 'weight'?)");
}

TEST_CASE("json_config: describe_json shortens long values") {
  CHECK(ratchet::describe_json(json("ten")) == "\"ten\"");
  CHECK(ratchet::describe_json(json(nullptr)) == "null");
  std::string long_text(100, 'x');
  std::string described = ratchet::describe_json(json(long_text));
  CHECK(described.size() == 60);
  CHECK(described == "\"" + std::string(56, 'x') + "...");
}
