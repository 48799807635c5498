// LLM answers as edits: which form wins when, and the refusals pinned, since
// they go back into the next prompt.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "engine/llm/answer.h"

using namespace ratchet;
using ratchet::llm::edit_from_llm_answer;

namespace {

const char* kRule =
    R"json({"name": "mod-unsigned", "match": "integerLiteral(equals(7919)).bind(\"m\")", "replace": "7919u"})json";

}  // namespace

TEST_CASE("llm answer: a transform rule in a json fence, among prose") {
  std::string answer = std::string("The modulus is a hot spot; this rule handles every use.\r\n\r\n"
                                   "```json\r\n") + kRule + "\r\n```\r\nIt keeps the output.";
  auto edit = edit_from_llm_answer(answer, "tiny.c", 0);
  REQUIRE(edit);
  CHECK(edit->kind == EditKind::transform);
  CHECK(edit->file == "tiny.c");
  CHECK(edit->summary == "transform rule 'mod-unsigned'");
  auto rule = nlohmann::json::parse(edit->text);
  CHECK(rule["match"] == "integerLiteral(equals(7919)).bind(\"m\")");
  CHECK(rule["replace"] == "7919u");
}

TEST_CASE("llm answer: a bare rule object, or one in an unlabelled fence") {
  CHECK(edit_from_llm_answer(kRule, "a.c", 0)->kind == EditKind::transform);
  CHECK(edit_from_llm_answer(std::string("~~~\n") + kRule + "\n~~~\n", "a.c", 0)->kind ==
        EditKind::transform);
  // Cut off before the closing fence, as a max_tokens stop leaves it.
  CHECK(edit_from_llm_answer(std::string("```json\n") + kRule + "\n", "a.c", 0)->kind ==
        EditKind::transform);
}

TEST_CASE("llm answer: a rule with a bad or missing key is refused with the reason") {
  auto missing = edit_from_llm_answer(R"json(```json
{"name": "x", "match": "callExpr()"}
```)json", "a.c", 0);
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == "the answer's transform rule is not usable: rule: missing key 'replace'");
  auto misspelt = edit_from_llm_answer(
      R"json({"name": "x", "match": "callExpr()", "replace": "f()", "taget": "c"})json", "a.c", 0);
  REQUIRE_FALSE(misspelt);
  CHECK(misspelt.error() == "the answer's transform rule is not usable: rule: unknown key "
                            "'taget' (did you mean 'target'?)");
  auto not_text = edit_from_llm_answer(R"json({"name": "x", "match": "callExpr()", "replace": 3})json",
                                       "a.c", 0);
  REQUIRE_FALSE(not_text);
  CHECK(not_text.error() ==
        "the answer's transform rule is not usable: rule: 'replace' must be a string");
}

TEST_CASE("llm answer: SEARCH/REPLACE wins over a JSON object, and code fences stay rewrites") {
  std::string both = std::string("<<<<<<< SEARCH\nx = 1;\n=======\nx = 2;\n>>>>>>> REPLACE\n") +
                     "```json\n" + kRule + "\n```\n";
  CHECK(edit_from_llm_answer(both, "a.c", 0)->kind == EditKind::diff);
  // A JSON object without "match" is not a rule: the fence is a region rewrite.
  auto rewrite = edit_from_llm_answer("```c\nint f(void) { return 1; }\n```\n", "a.c", 0);
  REQUIRE(rewrite);
  CHECK(rewrite->kind == EditKind::rewrite);
  auto config = edit_from_llm_answer("```json\n{\"speed\": 2}\n```\n", "a.c", 0);
  REQUIRE(config);
  CHECK(config->kind == EditKind::rewrite);
}

TEST_CASE("llm answer: prose alone is refused with the format hint") {
  auto prose = edit_from_llm_answer("I would unroll the loop.", "a.c", 0);
  REQUIRE_FALSE(prose);
  CHECK(prose.error().starts_with("the answer holds neither SEARCH/REPLACE blocks nor a fenced"));
}
