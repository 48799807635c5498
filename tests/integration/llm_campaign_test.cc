// End-to-end LLM campaigns: the real `ratchet` binary, the tiny task, and a
// loopback OpenAI-compatible server (tests/llm_test_server.h) started in this
// process on 127.0.0.1. The server answers with SEARCH/REPLACE edits on the
// task's EVOLVE block after injecting faults; the key (a made-up value in an
// environment variable) must reach the Authorization header and nothing else.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "tests/integration/cli_helpers.h"
#include "tests/llm_test_server.h"

using namespace ratchet::testing;
using Catch::Matchers::Contains;

namespace {

constexpr const char* kKeyVar = "RATCHET_IT_LLM_KEY";
constexpr const char* kKey = "made-up-key-0f8e2a9d41c7";

std::string block(const std::string& search, const std::string& replace) {
  return "<<<<<<< SEARCH\n" + search + "=======\n" + replace + ">>>>>>> REPLACE\n";
}

// Edits of tiny.c's churn(), each a different program.
const std::string kSameMath = block(
    "      total += v * v % 7919 + (v ^ (total >> 3));\n",
    "      total += (v * v) % 7919 + (v ^ (total >> 3));\n");
// Aborts when any environment variable holds the key: a leak would fail verify.
const std::string kEnvProbe = block(
    "  unsigned long long total = 0;\n",
    "  extern char** environ;\n"
    "  for (char** e = environ; *e; ++e) {\n"
    "    for (const char* s = *e; *s; ++s) {\n"
    "      const char* k = \"made-up-key\";\n"
    "      const char* t = s;\n"
    "      while (*k && *t == *k) { ++t; ++k; }\n"
    "      if (!*k) abort();\n"
    "    }\n"
    "  }\n"
    "  unsigned long long total = 0;\n");
const std::string kWrongOutput = block("      total += v * v % 7919 + (v ^ (total >> 3));\n",
                                       "      total += v * v % 7907 + (v ^ (total >> 3));\n");
const std::string kOutsideRegion = block("  printf(\"%llu\\n\", churn(values, n, 40));\n",
                                         "  printf(\"%llu\\n\", churn(values, n, 1));\n");

std::string in_prose(const std::string& blocks) {
  return "Here is a faster version.\n\n```c\n" + blocks + "```\n\nIt keeps the output identical.";
}

// Later answers: a different (equivalent) expression each, so no two are the
// same program; a unique comment alone would be deduplicated.
LoopbackLlmServer::Step numbered_answers() {
  auto counter = std::make_shared<std::atomic<int>>(0);
  return [counter](const httplib::Request& request, httplib::Response& response) {
    int n = ++*counter;
    std::string zero = "(" + std::to_string(n) + " - " + std::to_string(n) + ")";
    LoopbackLlmServer::ok(block("  return total;\n", "  return total + " + zero + ";\n"))(
        request, response);
  };
}

struct KeyInEnvironment {
  KeyInEnvironment() { setenv(kKeyVar, kKey, 1); }
  ~KeyInEnvironment() { unsetenv(kKeyVar); }
};

nlohmann::json llm_config(int max_evals, const std::string& base_url) {
  nlohmann::json config = tiny_config(max_evals);
  config["proposers"] = {{{"kind", "llm"}}};
  // Every parent is the baseline, so that each scripted edit applies; one
  // step at a time, so that the scripted answers (request i gets answer i)
  // meet the proposals in step order. (tests/unit/campaign_llm_test.cc runs
  // LLM calls in flight together.)
  config["search"] = {{"strategy", "best_of_n"}, {"in_flight", 1}};
  config["llm"] = {{"models",
                    {{{"base_url", base_url},
                      {"model", "loopback-coder"},
                      {"api_key_env", kKeyVar},
                      {"price_in", 1.0},
                      {"price_out", 4.0},
                      {"timeout_ms", 5000}}}},
                   {"retries", {{"max_attempts", 5}, {"max_seconds", 30}}}};
  return config;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

nlohmann::json db_json(const Ratchet& ratchet, std::vector<std::string> args) {
  args.insert(args.end(), {"--db", ratchet.db().string(), "--format", "json"});
  CommandResult result = ratchet.run(args);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return nlohmann::json::parse(result.out);
}

std::vector<std::string> candidate_edits(const Ratchet& ratchet, int count) {
  std::vector<std::string> edits;
  for (int id = 2; id <= count + 1; ++id) {
    nlohmann::json c = db_json(ratchet, {"db", "show", std::to_string(id)});
    edits.push_back(c["edit"].dump());
  }
  return edits;
}

}  // namespace

TEST_CASE("llm campaign: faults survived, edits applied, every call accounted, key kept secret") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  server.script({LoopbackLlmServer::status(429, "1", "slow down"), LoopbackLlmServer::status(500),
                 LoopbackLlmServer::truncated(), LoopbackLlmServer::ok(in_prose(kEnvProbe)),
                 LoopbackLlmServer::slow(std::chrono::milliseconds(300), in_prose(kSameMath)),
                 LoopbackLlmServer::ok(kWrongOutput), LoopbackLlmServer::ok(kOutsideRegion),
                 LoopbackLlmServer::ok("I cannot think of anything better.")},
                numbered_answers());
  Ratchet ratchet;
  nlohmann::json config = llm_config(6, server.base_url());
  config["llm"]["replay"] = {{"mode", "record"}, {"path", (ratchet.dir() / "exchanges.jsonl").string()}};
  auto file = ratchet.write_config("llm.json", config);
  CommandResult run = ratchet.run({"run", file.string(), "--db", ratchet.db().string()});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Contains("campaign 'tiny-test' (#1) finished"));
  CHECK_THAT(run.out, Contains("llm: 6 calls (0 failed)"));

  // The key went out in the Authorization header of every request.
  auto seen = server.requests();
  REQUIRE(seen.size() == 9);  // 3 faults + 6 answers
  for (const auto& request : seen) CHECK(request.authorization == std::string("Bearer ") + kKey);
  // The prompt carries the task's code and, later, evidence of failures.
  CHECK_THAT(seen[3].body, Contains("EVOLVE-BLOCK-START"));
  CHECK_THAT(seen.back().body, Contains("Recent attempts that failed"));

  // Candidates: the env probe and the same-math edit evaluate; the wrong
  // output fails verify; the out-of-region edit and the prose are refused
  // with their exact reasons.
  nlohmann::json probe = db_json(ratchet, {"db", "show", "2"});
  CHECK(probe["proposer"] == "llm");
  CHECK(probe["model"] == "loopback-coder");
  CHECK(probe["edit"]["kind"] == "diff");
  CHECK(probe["stages"]["verify"] == "ok");  // no key in the candidate's environment
  CHECK(db_json(ratchet, {"db", "show", "3"})["status"] == "evaluated");
  CHECK(db_json(ratchet, {"db", "show", "4"})["status"] == "verify_failed");
  nlohmann::json outside = db_json(ratchet, {"db", "show", "5"});
  CHECK(outside["status"] == "refused");
  // With the probe in its lineage the parent's region is 9 lines longer.
  std::string refusal = outside["artifacts"]["refusal"];
  auto expected = [](const char* line, const char* last) {
    return std::string("block 1: the SEARCH text (tiny.c line ") + line +
           ") lies outside the evolvable regions (lines 7-" + last +
           "); only code between EVOLVE-BLOCK-START and EVOLVE-BLOCK-END may change";
  };
  INFO(refusal);
  CHECK((refusal == expected("33", "16") || refusal == expected("42", "25")));
  nlohmann::json prose = db_json(ratchet, {"db", "show", "6"});
  CHECK(prose["status"] == "refused");
  CHECK_THAT(prose["artifacts"]["refusal"].get<std::string>(),
             Contains("the answer holds neither SEARCH/REPLACE blocks nor a fenced code block"));

  // Accounting: calls, tokens, cost per model in db stats.
  nlohmann::json stats = db_json(ratchet, {"db", "stats"});
  CHECK(stats["llm"]["calls"] == 6);
  CHECK(stats["llm"]["tokens_in"] == 6 * 120);
  CHECK(stats["llm"]["tokens_out"] == 6 * 40);
  CHECK(stats["llm"]["cost_usd"].get<double>() == Approx(6 * (120 * 1.0 + 40 * 4.0) / 1e6));
  CHECK(stats["llm"]["by_model"]["loopback-coder"]["calls"] == 6);
  CommandResult table = ratchet.run({"db", "stats", "--db", ratchet.db().string()});
  CHECK_THAT(table.out, Contains("loopback-coder") && Contains("calls 6"));

  // The key is nowhere: database files (WAL included), logs, replay cache.
  for (const auto& entry : std::filesystem::directory_iterator(ratchet.dir())) {
    INFO(entry.path());
    CHECK(slurp(entry.path()).find(kKey) == std::string::npos);
  }
  CHECK(run.out.find(kKey) == std::string::npos);
  CHECK(run.err.find(kKey) == std::string::npos);
  // ... while the prompts are there for audit (store_text defaults to true).
  CHECK(slurp(ratchet.db()).find("EVOLVE-BLOCK-START") != std::string::npos);
}

TEST_CASE("llm campaign: a recorded run replays with no endpoint, the same way") {
  KeyInEnvironment key;
  Ratchet ratchet;
  auto cache = ratchet.dir() / "exchanges.jsonl";
  std::vector<std::string> recorded;
  {
    LoopbackLlmServer server;
    server.script({LoopbackLlmServer::ok(kSameMath), LoopbackLlmServer::ok(kWrongOutput),
                   LoopbackLlmServer::ok(kOutsideRegion)},
                  numbered_answers());
    nlohmann::json config = llm_config(4, server.base_url());
    config["llm"]["replay"] = {{"mode", "record"}, {"path", cache.string()}};
    auto file = ratchet.write_config("record.json", config);
    CommandResult run = ratchet.run({"run", file.string(), "--db", ratchet.db().string()});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    recorded = candidate_edits(ratchet, 4);
  }
  // No server any more: a closed port, and replay mode never connects.
  Ratchet replay;
  nlohmann::json config = llm_config(4, "http://127.0.0.1:9/v1");
  config["llm"]["replay"] = {{"mode", "replay"}, {"path", cache.string()}};
  unsetenv(kKeyVar);  // no key needed either
  auto file = replay.write_config("replay.json", config);
  CommandResult run = replay.run({"run", file.string(), "--db", replay.db().string()});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  // The same answers in the same order (parents may differ: the population
  // ranks by measured speedups, which are noisy).
  CHECK(candidate_edits(replay, 4) == recorded);
  CHECK_THAT(run.err, !Contains("llm loopback-coder"));  // no failed call
  nlohmann::json stats = db_json(replay, {"db", "stats"});
  CHECK(stats["llm"]["calls"] == 4);
}

TEST_CASE("llm campaign: endpoints down stop the campaign or fall back, as configured") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  server.script({}, LoopbackLlmServer::status(503, "", "overloaded"));
  Ratchet ratchet;
  nlohmann::json config = llm_config(3, server.base_url());
  config["llm"]["retries"] = {{"max_attempts", 2}, {"max_seconds", 10}};
  SECTION("stop") {
    config["llm"]["on_all_down"] = "stop";
    auto file = ratchet.write_config("down.json", config);
    CommandResult run = ratchet.run({"run", file.string(), "--db", ratchet.db().string()});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(run.out, Contains("stopped early: every LLM endpoint is down (loopback-coder at " +
                                 server.base_url() + ": paused"));
    CHECK_THAT(run.err, Contains("llm loopback-coder: HTTP 503: overloaded"));
  }
  SECTION("continue on the built-in proposer") {
    auto file = ratchet.write_config("down.json", config);
    CommandResult run = ratchet.run({"run", file.string(), "--db", ratchet.db().string()});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(run.out, Contains("finished"));
    nlohmann::json stats = db_json(ratchet, {"db", "stats"});
    CHECK(stats["candidates"] == 4);  // the baseline and 3 flag candidates
    CHECK(stats["llm"]["failed"] == stats["llm"]["calls"]);
  }
}

TEST_CASE("llm campaign: a token budget stops the campaign cleanly") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  server.script({}, numbered_answers());
  Ratchet ratchet;
  nlohmann::json config = llm_config(10, server.base_url());
  config["llm"]["budget"] = {{"max_tokens", 300}};
  // Calls in flight together do not overshoot it: the third would start
  // while the second (counted as large as the first) could reach the budget.
  config["search"]["in_flight"] = 3;
  auto file = ratchet.write_config("budget.json", config);
  CommandResult run = ratchet.run({"run", file.string(), "--db", ratchet.db().string()});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Contains("stopped early: the LLM token budget is spent (320 of 300 tokens)"));
  CHECK(server.requests().size() == 2);
}

TEST_CASE("llm campaign: an answer may be a transform rule, and a bad matcher is refused with its position") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  // The same value of the same type: 7919 and 7919ULL, in an unsigned long long sum.
  const std::string rule =
      R"json({"name": "modulus-ull", "match": "integerLiteral(equals(7919)).bind(\"m\")", "replace": "7919ULL"})json";
  const std::string broken =
      R"json({"name": "broken", "match": "integerLiteral(equals(7919)", "replace": "1"})json";
  server.script({LoopbackLlmServer::ok("A rule for it:\n```json\n" + rule + "\n```\n"),
                 LoopbackLlmServer::ok("```json\n" + broken + "\n```\n")},
                numbered_answers());
  Ratchet ratchet;
  auto file = ratchet.write_config("rules.json", llm_config(3, server.base_url()));
  CommandResult run = ratchet.run({"run", file.string(), "--db", ratchet.db().string()});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);

  nlohmann::json applied = db_json(ratchet, {"db", "show", "2"});
  CHECK(applied["edit"]["kind"] == "transform");
  CHECK(applied["edit"]["summary"] == "transform rule 'modulus-ull'");
  CHECK(applied["status"] == "evaluated");
  CommandResult diff = ratchet.run({"db", "show", "2", "--diff", "--db", ratchet.db().string()});
  CHECK_THAT(diff.out, Contains("+      total += v * v % 7919ULL + (v ^ (total >> 3));"));

  nlohmann::json refused = db_json(ratchet, {"db", "show", "3"});
  CHECK(refused["status"] == "refused");
  CHECK(refused["edit"]["kind"] == "transform");
  std::string reason = refused["artifacts"]["refusal"];
  INFO(reason);
  CHECK_THAT(reason, Contains("bad matcher: 1:"));

  // The rule that applied is kept as a reusable transform, introduced by #2.
  nlohmann::json rules = db_json(ratchet, {"db", "transforms"});
  INFO(rules.dump());
  bool found = false;
  for (const auto& stored : rules) {
    if (stored["name"] != "modulus-ull") continue;
    found = true;
    CHECK(stored["origin"] == "llm");
    CHECK(stored["candidate_id"] == 2);
  }
  CHECK(found);
}

TEST_CASE("llm campaign: an edit that only adds a comment or moves blanks is a known program") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  const std::string commented = block(
      "      total += v * v % 7919 + (v ^ (total >> 3));\n",
      "      total += (v * v) % 7919 /* same math */ + (v ^ (total >> 3));\n");
  const std::string respaced = block("      total += v * v % 7919 + (v ^ (total >> 3));\n",
                                     "      total +=   (v*v) % 7919 + (v ^ (total>>3));\n");
  server.script({LoopbackLlmServer::ok(kSameMath), LoopbackLlmServer::ok(commented),
                 LoopbackLlmServer::ok(respaced)},
                numbered_answers());
  Ratchet ratchet;
  auto file = ratchet.write_config("dedupe.json", llm_config(2, server.base_url()));
  CommandResult run = ratchet.run({"run", file.string(), "--db", ratchet.db().string()});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  nlohmann::json stats = db_json(ratchet, {"db", "stats"});
  // kSameMath is candidate #2; the commented and respaced copies of it are
  // skipped before any build; the next numbered answer is #3.
  CHECK(stats["duplicates_skipped"] == 2);
  CHECK(stats["candidates"] == 3);
  CHECK(db_json(ratchet, {"db", "show", "3"})["edit"]["text"].get<std::string>().find("(1 - 1)") !=
        std::string::npos);
}
