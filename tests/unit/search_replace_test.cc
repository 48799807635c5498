// SEARCH/REPLACE and region rewrites: messy answers in, exact refusals out.
// The refusal messages go back into the next prompt: they are pinned here.
#include <catch2/catch.hpp>

#include "rewriters/apply_edit.h"
#include "rewriters/search_replace.h"

using namespace ratchet;

namespace {

const std::string kFile =
    "#include <stdio.h>\n"
    "int limit = 3;\n"
    "/* EVOLVE-BLOCK-START */\n"
    "static int f(int x) {\n"
    "    int y = x * 2;\n"
    "    return y + 1;\n"
    "}\n"
    "static int g(int x) {\n"
    "    int y = x * 2;\n"
    "    return y - 1;\n"
    "}\n"
    "/* EVOLVE-BLOCK-END */\n"
    "int main(void) { return f(1) + g(2); }\n";

std::string apply_answer(const std::string& answer, const std::string& file = kFile) {
  auto blocks = parse_search_replace(answer);
  if (!blocks) return "PARSE: " + blocks.error();
  auto result = apply_search_replace(file, "k.c", *blocks);
  if (!result) return "APPLY: " + result.error();
  return *result;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

}  // namespace

TEST_CASE("search_replace: a block in a fence among prose applies exactly") {
  std::string answer =
      "Sure! The multiplication can become a shift, which is faster:\n\n"
      "```c\n"
      "<<<<<<< SEARCH\n"
      "static int f(int x) {\n"
      "    int y = x * 2;\n"
      "=======\n"
      "static int f(int x) {\n"
      "    int y = x << 1;\n"
      ">>>>>>> REPLACE\n"
      "```\n\nThis keeps the semantics for non-negative x.\n";
  std::string out = apply_answer(answer);
  CHECK(out == replace_all(kFile, "static int f(int x) {\n    int y = x * 2;",
                           "static int f(int x) {\n    int y = x << 1;"));
}

TEST_CASE("search_replace: blocks outside fences, several blocks, applied together") {
  std::string answer =
      "<<<<<<< SEARCH\n    return y + 1;\n=======\n    return y + 2;\n>>>>>>> REPLACE\n"
      "and\n"
      "<<<<<<< SEARCH\n    return y - 1;\n=======\n    return y - 2;\n>>>>>>> REPLACE\n";
  std::string out = apply_answer(answer);
  CHECK(out.find("return y + 2;") != std::string::npos);
  CHECK(out.find("return y - 2;") != std::string::npos);
}

TEST_CASE("search_replace: CRLF answers, tabs vs spaces and trailing blanks are tolerated") {
  SECTION("CRLF answer against an LF file") {
    std::string answer =
        "<<<<<<< SEARCH\r\n    return y + 1;\r\n=======\r\n    return y + 3;\r\n>>>>>>> REPLACE\r\n";
    CHECK(apply_answer(answer) == replace_all(kFile, "y + 1;", "y + 3;"));
  }
  SECTION("LF answer against a CRLF file keeps the file's line ends") {
    std::string crlf = replace_all(kFile, "\n", "\r\n");
    std::string answer =
        "<<<<<<< SEARCH\n    return y + 1;\n=======\n    return y + 3;\n>>>>>>> REPLACE\n";
    CHECK(apply_answer(answer, crlf) == replace_all(crlf, "y + 1;", "y + 3;"));
  }
  SECTION("the file indents with tabs, the answer with spaces and trailing blanks") {
    std::string tabs = replace_all(kFile, "    ", "\t");
    std::string answer =
        "<<<<<<< SEARCH\n  static int g(int x) {   \n      int y = x * 2;\n=======\n"
        "  static int g(int x) {\n      int y = x + x;\n>>>>>>> REPLACE\n";
    std::string out = apply_answer(answer, tabs);
    CHECK(out == replace_all(tabs, "static int g(int x) {\n\tint y = x * 2;",
                             "static int g(int x) {\n\tint y = x + x;"));
  }
  SECTION("fence lines inside the sections are dropped") {
    std::string answer =
        "<<<<<<< SEARCH\n```c\n    return y + 1;\n=======\n    return y + 4;\n```\n"
        ">>>>>>> REPLACE\n";
    CHECK(apply_answer(answer) == replace_all(kFile, "y + 1;", "y + 4;"));
  }
}

TEST_CASE("search_replace: every refusal has its exact message") {
  SECTION("no block at all") {
    CHECK(apply_answer("I would unroll the loop.\n```c\nint x;\n```\n") ==
          "PARSE: no SEARCH/REPLACE block in the answer; expected '<<<<<<< SEARCH', the lines "
          "to find, '=======', their replacement, '>>>>>>> REPLACE'");
  }
  SECTION("a truncated answer") {
    CHECK(apply_answer("Here:\n<<<<<<< SEARCH\n    return y + 1;\n=======\n    return") ==
          "PARSE: block 1 (answer line 2): '<<<<<<< SEARCH' is never closed by "
          "'>>>>>>> REPLACE' (truncated answer?)");
  }
  SECTION("REPLACE marker before the divider") {
    CHECK(apply_answer("<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n") ==
          "PARSE: block 1 (answer line 3): '>>>>>>> REPLACE' before its '======='; expected "
          "'<<<<<<< SEARCH', the lines to find, '=======', their replacement, "
          "'>>>>>>> REPLACE'");
  }
  SECTION("a stray divider") {
    CHECK(apply_answer("text\n=======\n") ==
          "PARSE: answer line 2: '=======' without a '<<<<<<< SEARCH' before it; expected "
          "'<<<<<<< SEARCH', the lines to find, '=======', their replacement, "
          "'>>>>>>> REPLACE'");
  }
  SECTION("an empty SEARCH") {
    CHECK(apply_answer("<<<<<<< SEARCH\n\n=======\nint z;\n>>>>>>> REPLACE\n") ==
          "PARSE: block 1 (answer line 1): the SEARCH section is empty; copy the lines to "
          "replace from the current code");
  }
  SECTION("a block that matches nowhere fails the whole edit") {
    std::string answer =
        "<<<<<<< SEARCH\n    return y + 1;\n=======\n    return y + 2;\n>>>>>>> REPLACE\n"
        "<<<<<<< SEARCH\n    return y * 9;\n=======\n    return y;\n>>>>>>> REPLACE\n";
    CHECK(apply_answer(answer) ==
          "APPLY: block 2: the SEARCH text was not found in k.c (first line: `return y * 9;`); "
          "copy the lines to replace exactly from the current code");
  }
  SECTION("an ambiguous match is never applied") {
    CHECK(apply_answer("<<<<<<< SEARCH\n    int y = x * 2;\n=======\n    int y = x;\n"
                       ">>>>>>> REPLACE\n") ==
          "APPLY: block 1: the SEARCH text matches 2 places in k.c (lines 5 and 9); add "
          "surrounding lines to make it unique");
  }
  SECTION("ambiguous under whitespace tolerance too") {
    CHECK(apply_answer("<<<<<<< SEARCH\n\tint y = x * 2;\n=======\n\tint y = x;\n"
                       ">>>>>>> REPLACE\n") ==
          "APPLY: block 1: the SEARCH text matches 2 places in k.c (lines 5 and 9); add "
          "surrounding lines to make it unique");
  }
  SECTION("two blocks where one overlaps the other") {
    std::string answer =
        "<<<<<<< SEARCH\nstatic int f(int x) {\n    int y = x * 2;\n=======\n"
        "static int f(int x) {\n    int y = x + x;\n>>>>>>> REPLACE\n\n"
        "<<<<<<< SEARCH\n    int y = x * 2;\n    return y + 1;\n=======\n"
        "    return 2 * x + 1;\n>>>>>>> REPLACE\n";
    CHECK(apply_answer(answer) ==
          "APPLY: blocks 1 and 2 overlap (k.c lines 4-5 and lines 5-6); merge them into one "
          "block");
  }
  SECTION("code outside the evolvable regions") {
    CHECK(apply_answer("<<<<<<< SEARCH\nint limit = 3;\n=======\nint limit = 4;\n"
                       ">>>>>>> REPLACE\n") ==
          "APPLY: block 1: the SEARCH text (k.c line 2) lies outside the evolvable regions "
          "(lines 4-11); only code between EVOLVE-BLOCK-START and EVOLVE-BLOCK-END may change");
  }
  SECTION("a match reaching past the region's end") {
    CHECK(apply_answer("<<<<<<< SEARCH\n}\n/* EVOLVE-BLOCK-END */\n=======\n}\n"
                       "/* EVOLVE-BLOCK-END */\n>>>>>>> REPLACE\n") ==
          "APPLY: block 1: EVOLVE-BLOCK marker lines may not be searched, added or removed; "
          "edit only the code between them");
  }
  SECTION("an edit that changes nothing") {
    CHECK(apply_answer("<<<<<<< SEARCH\n    return y + 1;\n=======\n    return y + 1;\n"
                       ">>>>>>> REPLACE\n") ==
          "APPLY: the edit changes nothing: every REPLACE text equals its SEARCH text");
  }
}

TEST_CASE("rewrite: the largest fenced block replaces the region") {
  std::string answer =
      "Use `x << 1` (see ```inline``` too):\n"
      "~~~\nint unused;\n~~~\n"
      "```cpp\n/* EVOLVE-BLOCK-START */\nstatic int f(int x) { return 2 * x + 1; }\n"
      "static int g(int x) { return 2 * x - 1; }\n/* EVOLVE-BLOCK-END */\n```\nDone.\n";
  auto edit = edit_from_answer(answer, "k.c", 0);
  REQUIRE(edit.ok());
  CHECK(edit->kind == EditKind::rewrite);
  CHECK(edit->text == "static int f(int x) { return 2 * x + 1; }\n"
                      "static int g(int x) { return 2 * x - 1; }\n");
  Program parent;
  parent.files["k.c"] = kFile;
  auto child = apply_edit(parent, *edit, {});
  REQUIRE(child.ok());
  CHECK(child->files["k.c"] ==
        "#include <stdio.h>\nint limit = 3;\n/* EVOLVE-BLOCK-START */\n" + edit->text +
            "/* EVOLVE-BLOCK-END */\nint main(void) { return f(1) + g(2); }\n");
}

TEST_CASE("rewrite: refusals") {
  CHECK(parse_rewrite("```c\nint x;\n").error() ==
        "the code fence opened at answer line 1 is never closed (truncated answer?)");
  CHECK(parse_rewrite("no code here").error() ==
        "no fenced code block in the answer; put the new region text between ``` lines");
  CHECK(parse_rewrite("```c\n\n```\n").error() == "the fenced code block is empty");
  CHECK(apply_region_rewrite(kFile, "k.c", 1, "int x;\n").error() ==
        "k.c has no region 1 (it has 1, numbered from 0)");
  std::string body = kFile.substr(kFile.find("static int f"),
                                  kFile.find("/* EVOLVE-BLOCK-END") - kFile.find("static int f"));
  CHECK(apply_region_rewrite(kFile, "k.c", 0, body).error() ==
        "the edit changes nothing: the rewrite equals the current region");
  CHECK(edit_from_answer("just prose", "k.c", 0).error() ==
        "the answer holds neither SEARCH/REPLACE blocks nor a fenced code block; expected "
        "'<<<<<<< SEARCH', the lines to find, '=======', their replacement, '>>>>>>> REPLACE'");
}

TEST_CASE("apply_edit: diff edits through the rewriter table, file chosen by region") {
  Program parent;
  parent.files["a.h"] = "int a;\n";
  parent.files["k.c"] = kFile;
  auto edit = edit_from_answer(
      "<<<<<<< SEARCH\n    return y + 1;\n=======\n    return y + 5;\n>>>>>>> REPLACE\n", "", 0);
  REQUIRE(edit.ok());
  CHECK(edit->kind == EditKind::diff);
  CHECK(edit->summary == "1 SEARCH/REPLACE block");
  auto child = apply_edit(parent, *edit, {});
  REQUIRE(child.ok());
  CHECK(child->files["a.h"] == "int a;\n");
  CHECK(child->files["k.c"] == replace_all(kFile, "y + 1;", "y + 5;"));
  edit->file = "missing.c";
  CHECK(apply_edit(parent, *edit, {}).error() ==
        "the edit names file 'missing.c', which is not in the program");
}
