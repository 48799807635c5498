#include "common/program.h"

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/hash.h"

using ratchet::Edit;
using ratchet::EditKind;
using ratchet::normalize_source;
using ratchet::Program;
using ratchet::program_hash;

namespace {

Program sample_program() {
  Program program;
  program.files["main.c"] =
      "#include <stdio.h>\n"
      "int main(void) {\n"
      "  int x = 1;\n"
      "  printf(\"%d\\n\", x);\n"
      "  return 0;\n"
      "}\n";
  program.flags = {"-O2", "-march=native"};
  return program;
}

}  // namespace

TEST_CASE("program: normalize_source strips each line and drops blank lines") {
  CHECK(normalize_source("") == "");
  CHECK(normalize_source("\n\n  \t\n") == "");
  CHECK(normalize_source("a") == "a\n");
  CHECK(normalize_source("  int x;  \n\n\tint y;\t\r\n") == "int x;\nint y;\n");
  CHECK(normalize_source("a  b\n") == "a  b\n");  // blanks inside a line stay
  CHECK(normalize_source("\f\vx \v\f\n\v\n y") == "x\ny\n");
}

TEST_CASE("program: program_hash is 16 hex digits and stable") {
  std::string hash = program_hash(sample_program());
  CHECK(hash.size() == 16);
  CHECK(hash.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(program_hash(sample_program()) == hash);
}

TEST_CASE("program: program_hash ignores indentation, trailing blanks and blank lines") {
  Program reformatted = sample_program();
  reformatted.files["main.c"] =
      "#include <stdio.h>\n"
      "\n"
      "int main(void) {   \n"
      "      int x = 1;\n"
      "\n\n"
      "\tprintf(\"%d\\n\", x);\r\n"
      "return 0;\n"
      "}";
  CHECK(program_hash(reformatted) == program_hash(sample_program()));
}

TEST_CASE("program: program_hash changes with a real token change") {
  Program changed = sample_program();
  changed.files["main.c"].replace(changed.files["main.c"].find("x = 1"), 5, "x = 2");
  CHECK(program_hash(changed) != program_hash(sample_program()));
  Program joined = sample_program();
  // Joining two lines is a change too (the hash is line-based, not token-based).
  joined.files["main.c"] = "int a;\nint b;\n";
  Program one_line = joined;
  one_line.files["main.c"] = "int a; int b;\n";
  CHECK(program_hash(joined) != program_hash(one_line));
}

TEST_CASE("program: program_hash depends on the flags and their order") {
  Program program = sample_program();
  Program reordered = program;
  reordered.flags = {"-march=native", "-O2"};
  Program fewer = program;
  fewer.flags = {"-O2"};
  Program merged = program;
  merged.flags = {"-O2-march=native"};
  CHECK(program_hash(reordered) != program_hash(program));
  CHECK(program_hash(fewer) != program_hash(program));
  CHECK(program_hash(merged) != program_hash(program));
}

TEST_CASE("program: program_hash depends on the file path") {
  Program program = sample_program();
  Program moved;
  moved.files["src/main.c"] = program.files["main.c"];
  moved.flags = program.flags;
  CHECK(program_hash(moved) != program_hash(program));
}

TEST_CASE("program: program_hash tells file contents from flags") {
  Program a;
  a.files["f.c"] = "x\n";
  a.flags = {};
  Program b;
  b.files["f.c"] = "";
  b.flags = {"x"};
  CHECK(program_hash(a) != program_hash(b));
}

TEST_CASE("program: Hasher separates the pieces it is given") {
  ratchet::Hasher ab_c;
  ab_c.add("ab");
  ab_c.add("c");
  ratchet::Hasher a_bc;
  a_bc.add("a");
  a_bc.add("bc");
  CHECK(ab_c.value() != a_bc.value());
  CHECK(ratchet::hash_hex("") != ratchet::hash_hex("a"));
  CHECK(ratchet::hash_hex("abc") == ratchet::hash_hex("abc"));
  CHECK(ratchet::hash_hex("abc").size() == 16);
}

TEST_CASE("program: hashes keep their values, zero-padded to 16 digits") {
  // Stored in every database (blobs, dedupe keys) and replay cache: these
  // values must never change.
  CHECK(ratchet::hash_hex("") == "5ba314b8cfda3b6b");
  CHECK(ratchet::hash_hex("abc") == "e94b32360022f630");
  CHECK(ratchet::hash_hex("int a;\n") == "a3e982beb232dfcd");
  CHECK(ratchet::hash_hex("v492") == "00005ca0bb6709ea");
}

TEST_CASE("program: to_json and program_from_json round trip") {
  Program program = sample_program();
  program.files["util/helper.h"] = "#pragma once\n";
  nlohmann::json json = ratchet::to_json(program);
  CHECK(json.at("flags") == nlohmann::json::array({"-O2", "-march=native"}));
  CHECK(json.at("files").at("util/helper.h") == "#pragma once\n");
  Program back = ratchet::program_from_json(json);
  CHECK(back == program);
  // Through text, as the database stores it.
  CHECK(ratchet::program_from_json(nlohmann::json::parse(json.dump())) == program);
}

TEST_CASE("program: program_from_json refuses a document without files or flags") {
  CHECK_THROWS_AS(ratchet::program_from_json(nlohmann::json{{"flags", {"-O2"}}}),
                  nlohmann::json::exception);
  CHECK_THROWS_AS(ratchet::program_from_json(nlohmann::json{{"files", nlohmann::json::object()}}),
                  nlohmann::json::exception);
}

TEST_CASE("program: to_json of an Edit holds kind, summary and flags") {
  Edit edit;
  edit.kind = EditKind::flags;
  edit.flags = {"-O3", "-flto"};
  edit.summary = "opt: -O2 -> -O3; lto: (none) -> -flto";
  nlohmann::json json = ratchet::to_json(edit);
  CHECK(json == nlohmann::json{{"kind", "flags"},
                               {"summary", "opt: -O2 -> -O3; lto: (none) -> -flto"},
                               {"flags", {"-O3", "-flto"}}});
  CHECK(std::string(ratchet::to_string(EditKind::flags)) == "flags");
}
