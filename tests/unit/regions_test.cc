#include "common/regions.h"

#include <string>

#include <catch2/catch.hpp>

using ratchet::find_regions;

TEST_CASE("regions: a text without markers has no regions") {
  auto regions = find_regions("int main() { return 0; }\n");
  REQUIRE(regions.ok());
  CHECK(regions->empty());
  auto empty = find_regions("");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("regions: one region gives the body's offsets and the marker lines") {
  std::string text =
      "#include <stdio.h>\n"         // line 1
      "// EVOLVE-BLOCK-START\n"      // line 2
      "int f(int x) {\n"             // line 3
      "  return x + 1;\n"            // line 4
      "}\n"                          // line 5
      "// EVOLVE-BLOCK-END\n"        // line 6
      "int main() { return f(1); }\n";
  auto regions = find_regions(text);
  REQUIRE(regions.ok());
  REQUIRE(regions->size() == 1);
  const auto& region = (*regions)[0];
  CHECK(region.start_line == 2);
  CHECK(region.end_line == 6);
  CHECK(region.begin == text.find("int f"));
  CHECK(region.end == text.find("// EVOLVE-BLOCK-END"));
  CHECK(text.substr(region.begin, region.end - region.begin) ==
        "int f(int x) {\n  return x + 1;\n}\n");
}

TEST_CASE("regions: an empty region has begin == end") {
  std::string text = "/* EVOLVE-BLOCK-START */\n/* EVOLVE-BLOCK-END */\n";
  auto regions = find_regions(text);
  REQUIRE(regions.ok());
  REQUIRE(regions->size() == 1);
  CHECK((*regions)[0].begin == (*regions)[0].end);
  CHECK((*regions)[0].begin == text.find("/* EVOLVE-BLOCK-END"));
  CHECK((*regions)[0].start_line == 1);
  CHECK((*regions)[0].end_line == 2);
}

TEST_CASE("regions: several regions are found in order") {
  std::string text =
      "// EVOLVE-BLOCK-START\n"  // 1
      "a\n"                      // 2
      "// EVOLVE-BLOCK-END\n"    // 3
      "between\n"                // 4
      "// EVOLVE-BLOCK-START\n"  // 5
      "b\n"                      // 6
      "c\n"                      // 7
      "// EVOLVE-BLOCK-END\n";   // 8
  auto regions = find_regions(text);
  REQUIRE(regions.ok());
  REQUIRE(regions->size() == 2);
  const auto& first = (*regions)[0];
  const auto& second = (*regions)[1];
  CHECK(first.start_line == 1);
  CHECK(first.end_line == 3);
  CHECK(text.substr(first.begin, first.end - first.begin) == "a\n");
  CHECK(second.start_line == 5);
  CHECK(second.end_line == 8);
  CHECK(text.substr(second.begin, second.end - second.begin) == "b\nc\n");
}

TEST_CASE("regions: an END marker on the last line without a newline closes the region") {
  std::string text = "// EVOLVE-BLOCK-START\nbody\n// EVOLVE-BLOCK-END";
  auto regions = find_regions(text);
  REQUIRE(regions.ok());
  REQUIRE(regions->size() == 1);
  CHECK((*regions)[0].end_line == 3);
  CHECK(text.substr((*regions)[0].begin, (*regions)[0].end - (*regions)[0].begin) == "body\n");
}

TEST_CASE("regions: a START inside an open block names both lines") {
  std::string text =
      "x\n"
      "// EVOLVE-BLOCK-START\n"  // 2
      "a\n"
      "// EVOLVE-BLOCK-START\n"  // 4
      "// EVOLVE-BLOCK-END\n";
  auto regions = find_regions(text);
  REQUIRE_FALSE(regions.ok());
  CHECK(regions.error() == "line 4: EVOLVE-BLOCK-START inside another block (opened at line 2)");
}

TEST_CASE("regions: an END without a START names its line") {
  std::string text =
      "// EVOLVE-BLOCK-START\n"
      "// EVOLVE-BLOCK-END\n"
      "x\n"
      "// EVOLVE-BLOCK-END\n";  // 4
  auto regions = find_regions(text);
  REQUIRE_FALSE(regions.ok());
  CHECK(regions.error() == "line 4: EVOLVE-BLOCK-END without a START");
}

TEST_CASE("regions: a START that is never closed names the START line") {
  std::string text = "a\nb\n// EVOLVE-BLOCK-START\nc\nd\n";
  auto regions = find_regions(text);
  REQUIRE_FALSE(regions.ok());
  CHECK(regions.error() == "line 3: EVOLVE-BLOCK-START is never closed");
  auto last_line = find_regions("a\n// EVOLVE-BLOCK-START");
  REQUIRE_FALSE(last_line.ok());
  CHECK(last_line.error() == "line 2: EVOLVE-BLOCK-START is never closed");
}

TEST_CASE("regions: both markers on one line are refused") {
  auto regions = find_regions("a\n/* EVOLVE-BLOCK-START */ x; /* EVOLVE-BLOCK-END */\n");
  REQUIRE_FALSE(regions.ok());
  CHECK(regions.error() == "line 2: EVOLVE-BLOCK-START and EVOLVE-BLOCK-END on one line");
}

TEST_CASE("regions: line numbers count lines ending in CRLF once") {
  std::string text = "a\r\n// EVOLVE-BLOCK-START\r\nb\r\n// EVOLVE-BLOCK-END\r\n";
  auto regions = find_regions(text);
  REQUIRE(regions.ok());
  REQUIRE(regions->size() == 1);
  CHECK((*regions)[0].start_line == 2);
  CHECK((*regions)[0].end_line == 4);
  CHECK(text.substr((*regions)[0].begin, (*regions)[0].end - (*regions)[0].begin) == "b\r\n");
}

TEST_CASE("regions: a line with another EVOLVE-BLOCK- word is not a marker") {
  std::string text =
      "// EVOLVE-BLOCK-NOTE: not a marker\n"  // 1
      "x\n"                                   // 2
      "// EVOLVE-BLOCK-START\n"               // 3
      "// EVOLVE-BLOCK-NOTE inside\n"         // 4
      "y\n"                                   // 5
      "// EVOLVE-BLOCK-END\n"                 // 6
      "\n"                                    // 7
      "// EVOLVE-BLOCK-END\n";                // 8
  auto regions = find_regions(text);
  REQUIRE_FALSE(regions.ok());
  CHECK(regions.error() == "line 8: EVOLVE-BLOCK-END without a START");
  text.resize(text.rfind("// EVOLVE-BLOCK-END"));
  regions = find_regions(text);
  REQUIRE(regions.ok());
  REQUIRE(regions->size() == 1);
  CHECK((*regions)[0].start_line == 3);
  CHECK((*regions)[0].end_line == 6);
  CHECK(text.substr((*regions)[0].begin, (*regions)[0].end - (*regions)[0].begin) ==
        "// EVOLVE-BLOCK-NOTE inside\ny\n");
}
