#include "common/text.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using ratchet::edit_distance;
using ratchet::join;
using ratchet::near_miss;
using ratchet::shell_join;
using ratchet::shell_quote;
using ratchet::split_lines;
using ratchet::truncate_middle;
using ratchet::unified_diff;

namespace {

// "1\n2\n…\nN\n"
std::string numbered_lines(int count) {
  std::string text;
  for (int i = 1; i <= count; ++i) text += std::to_string(i) + "\n";
  return text;
}

// numbered_lines(count) with line `line` (1-based) replaced by `replacement`.
std::string replace_line(int count, int line, const std::string& replacement) {
  std::string text;
  for (int i = 1; i <= count; ++i) text += (i == line ? replacement : std::to_string(i)) + "\n";
  return text;
}

const std::string kHeader = "--- a/f.c\n+++ b/f.c\n";

std::string diff(const std::string& before, const std::string& after) {
  return unified_diff(before, after, "a/f.c", "b/f.c");
}

}  // namespace

TEST_CASE("text: edit_distance counts insertions, deletions and substitutions") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "abc") == 0);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("flaw", "lawn") == 2);
  CHECK(edit_distance("budjet", "budget") == 1);
  CHECK(edit_distance("max_eval", "max_evals") == 1);
}

TEST_CASE("text: near_miss suggests the closest candidate within a third of the word") {
  std::vector<std::string> keys = {"name", "task", "budget", "seed", "benchmark"};
  CHECK(near_miss("budjet", keys) == "budget");
  CHECK(near_miss("benchmrk", keys) == "benchmark");
  CHECK(near_miss("xyzzy", keys).empty());
  CHECK(near_miss("budget", {}).empty());
  // A word of 6 letters tolerates distance 2, not 3.
  CHECK(near_miss("abcdef", {"abcdxy"}) == "abcdxy");
  CHECK(near_miss("abcdef", {"abcxyz"}).empty());
  // Short words still tolerate one typo.
  CHECK(near_miss("ab", {"abc"}) == "abc");
  CHECK(near_miss("ab", {"xyz"}).empty());
}

TEST_CASE("text: near_miss prefers the closest candidate over the first close one") {
  CHECK(near_miss("max_evals", {"max_evalsxx", "max_evalz"}) == "max_evalz");
  CHECK(near_miss("seeds", {"speed", "seed"}) == "seed");
}

TEST_CASE("text: join puts the separator between parts only") {
  CHECK(join({}, ", ").empty());
  CHECK(join({"a"}, ", ") == "a");
  CHECK(join({"a", "b", "c"}, ", ") == "a, b, c");
  CHECK(join({"", ""}, "-") == "-");
}

TEST_CASE("text: split_lines splits on newlines without a trailing empty line") {
  using Lines = std::vector<std::string>;
  CHECK(split_lines("") == Lines{});
  CHECK(split_lines("a") == Lines{"a"});
  CHECK(split_lines("a\nb") == Lines{"a", "b"});
  CHECK(split_lines("a\nb\n") == Lines{"a", "b"});
  CHECK(split_lines("a\n\nb\n") == Lines{"a", "", "b"});
  CHECK(split_lines("\n") == Lines{""});
}

TEST_CASE("text: unified_diff is empty for equal texts") {
  CHECK(diff("", "").empty());
  CHECK(diff(numbered_lines(10), numbered_lines(10)).empty());
}

TEST_CASE("text: unified_diff writes the labels in the header") {
  std::string out = unified_diff("a\n", "b\n", "a/x.c (#1)", "b/x.c (#7)");
  CHECK(out == "--- a/x.c (#1)\n+++ b/x.c (#7)\n@@ -1,1 +1,1 @@\n-a\n+b\n");
}

TEST_CASE("text: unified_diff marks a changed first line") {
  CHECK(diff(numbered_lines(10), replace_line(10, 1, "one")) ==
        kHeader + "@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n");
}

TEST_CASE("text: unified_diff marks a changed middle line") {
  CHECK(diff(numbered_lines(10), replace_line(10, 5, "five")) ==
        kHeader + "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST_CASE("text: unified_diff marks a changed last line") {
  CHECK(diff(numbered_lines(10), replace_line(10, 10, "ten")) ==
        kHeader + "@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+ten\n");
}

TEST_CASE("text: unified_diff lists removed lines before added lines") {
  CHECK(diff("keep\na\nb\nkeep2\n", "keep\nx\ny\nkeep2\n") ==
        kHeader + "@@ -1,4 +1,4 @@\n keep\n-a\n-b\n+x\n+y\n keep2\n");
}

TEST_CASE("text: unified_diff of texts without a final newline") {
  CHECK(diff("a\nb", "a\nc") == kHeader + "@@ -1,2 +1,2 @@\n a\n-b\n+c\n");
}

TEST_CASE("text: unified_diff of an insertion only") {
  std::string after = "1\n2\n3\n4\n5\nnew\n6\n7\n8\n9\n10\n";
  CHECK(diff(numbered_lines(10), after) ==
        kHeader + "@@ -3,6 +3,7 @@\n 3\n 4\n 5\n+new\n 6\n 7\n 8\n");
}

TEST_CASE("text: unified_diff of an insertion at the start and at the end") {
  CHECK(diff(numbered_lines(10), "zero\n" + numbered_lines(10)) ==
        kHeader + "@@ -1,3 +1,4 @@\n+zero\n 1\n 2\n 3\n");
  CHECK(diff(numbered_lines(10), numbered_lines(11)) ==
        kHeader + "@@ -8,3 +8,4 @@\n 8\n 9\n 10\n+11\n");
}

TEST_CASE("text: unified_diff of a deletion only") {
  std::string after = "1\n2\n3\n4\n6\n7\n8\n9\n10\n";
  CHECK(diff(numbered_lines(10), after) ==
        kHeader + "@@ -2,7 +2,6 @@\n 2\n 3\n 4\n-5\n 6\n 7\n 8\n");
  CHECK(diff(numbered_lines(10), "2\n3\n4\n5\n6\n7\n8\n9\n10\n") ==
        kHeader + "@@ -1,4 +1,3 @@\n-1\n 2\n 3\n 4\n");
  CHECK(diff(numbered_lines(10), numbered_lines(9)) ==
        kHeader + "@@ -7,4 +7,3 @@\n 7\n 8\n 9\n-10\n");
}

TEST_CASE("text: unified_diff from and to an empty text uses line 0 for the empty side") {
  CHECK(diff("", "a\nb\n") == kHeader + "@@ -0,0 +1,2 @@\n+a\n+b\n");
  CHECK(diff("a\nb\n", "") == kHeader + "@@ -1,2 +0,0 @@\n-a\n-b\n");
}

TEST_CASE("text: unified_diff keeps two distant changes in two hunks") {
  std::string after = replace_line(20, 2, "two");
  after.replace(after.find("\n18\n") + 1, 2, "eighteen");
  CHECK(diff(numbered_lines(20), after) ==
        kHeader +
            "@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"
            "@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+eighteen\n 19\n 20\n");
}

TEST_CASE("text: unified_diff merges changes at most six lines apart into one hunk") {
  // Lines 6..11 (six lines) separate the changes: one hunk from line 2 to 15.
  std::string after = replace_line(20, 5, "five");
  after.replace(after.find("\n12\n") + 1, 2, "twelve");
  CHECK(diff(numbered_lines(20), after) ==
        kHeader +
            "@@ -2,14 +2,14 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n 9\n 10\n 11\n-12\n+twelve\n"
            " 13\n 14\n 15\n");
}

TEST_CASE("text: unified_diff splits changes seven lines apart into two hunks") {
  // Lines 6..12 (seven lines) separate the changes: line 9 is in neither hunk.
  std::string after = replace_line(20, 5, "five");
  after.replace(after.find("\n13\n") + 1, 2, "thirteen");
  CHECK(diff(numbered_lines(20), after) ==
        kHeader +
            "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
            "@@ -10,7 +10,7 @@\n 10\n 11\n 12\n-13\n+thirteen\n 14\n 15\n 16\n");
}

TEST_CASE("text: unified_diff hunk numbers account for earlier insertions") {
  // Two lines inserted after line 2, and line 15 changed: the second hunk's
  // new-side start is shifted by two.
  std::string after = "1\n2\nx\ny\n";
  for (int i = 3; i <= 20; ++i) after += (i == 15 ? std::string("fifteen") : std::to_string(i)) + "\n";
  CHECK(diff(numbered_lines(20), after) ==
        kHeader +
            "@@ -1,5 +1,7 @@\n 1\n 2\n+x\n+y\n 3\n 4\n 5\n"
            "@@ -12,7 +14,7 @@\n 12\n 13\n 14\n-15\n+fifteen\n 16\n 17\n 18\n");
}

TEST_CASE("text: truncate_middle leaves short text alone") {
  CHECK(truncate_middle("", 10).empty());
  CHECK(truncate_middle("0123456789", 10) == "0123456789");
}

TEST_CASE("text: truncate_middle keeps both ends within max_bytes and says how much it cut") {
  std::string text = std::string(500, 'a') + std::string(2000, 'm') + std::string(500, 'z');
  for (size_t max_bytes : {100u, 101u, 256u, 1000u}) {
    CAPTURE(max_bytes);
    std::string out = truncate_middle(text, max_bytes);
    CHECK(out.size() <= max_bytes);
    CHECK(out.size() + 2 >= max_bytes);
    CHECK(out.front() == 'a');
    CHECK(out.back() == 'z');
    auto marker = out.find("\n[... ");
    REQUIRE(marker != std::string::npos);
    auto marker_end = out.find(" bytes omitted ...]\n", marker);
    REQUIRE(marker_end != std::string::npos);
    size_t omitted = std::stoul(out.substr(marker + 6, marker_end - marker - 6));
    size_t marker_size = marker_end + std::string(" bytes omitted ...]\n").size() - marker;
    // The kept bytes plus the omitted ones are the whole text.
    CHECK(out.size() - marker_size + omitted == text.size());
  }
}

TEST_CASE("text: truncate_middle with no room beside the marker keeps the marker alone") {
  CHECK(truncate_middle(std::string(500, 'x'), 5) == "\n[... 500 bytes omitted ...]\n");
}

TEST_CASE("text: shell_quote leaves plain words alone and quotes the rest") {
  CHECK(shell_quote("gcc") == "gcc");
  CHECK(shell_quote("-O2") == "-O2");
  CHECK(shell_quote("--param=max-inline-insns-auto=30") == "--param=max-inline-insns-auto=30");
  CHECK(shell_quote("/tmp/a.c") == "/tmp/a.c");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("$HOME") == "'$HOME'");
  CHECK(shell_quote("a;rm") == "'a;rm'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
}

TEST_CASE("text: shell_join quotes each word and joins with spaces") {
  CHECK(shell_join({}).empty());
  CHECK(shell_join({"gcc", "-O2", "my file.c", "-o", "prog"}) == "gcc -O2 'my file.c' -o prog");
}
