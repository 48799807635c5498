// End-to-end campaigns: the real binary, a real task, the real sandbox and a
// real SQLite file; then the db commands read what the campaign wrote.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <thread>

#include "tests/integration/cli_helpers.h"

using namespace ratchet::testing;
using Catch::Matchers::Contains;

namespace {

nlohmann::json db_json(const Ratchet& ratchet, const std::vector<std::string>& args) {
  std::vector<std::string> full = args;
  full.push_back("--db");
  full.push_back(ratchet.db().string());
  full.push_back("--format");
  full.push_back("json");
  CommandResult result = ratchet.run(full);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return nlohmann::json::parse(result.out);
}

// Processes whose command line names `dir` (the test's own temp dir), other
// than this test; killed when `kill_them`. A sandboxed child that outlived a
// SIGKILLed ratchet (one waiting on its start pipe, say) would hold the
// benchmark lock, and a resumed campaign would wait for it forever.
int leftovers(const std::filesystem::path& dir, bool kill_them) {
  int found = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    if (pid == getpid()) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(dir.string()) == std::string::npos) continue;
    ++found;
    if (kill_them) kill(pid, SIGKILL);
  }
  return found;
}

}  // namespace

TEST_CASE("campaign: a run records candidates that db top, show and stats report") {
  Ratchet ratchet;
  auto config = ratchet.write_config("tiny.json", tiny_config(3));
  CommandResult run = ratchet.run({"run", config.string(), "--db", ratchet.db().string()});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Contains("campaign 'tiny-test' (#1) finished"));
  CHECK_THAT(run.err, Contains("baseline #1: A/A"));

  nlohmann::json stats = db_json(ratchet, {"db", "stats"});
  CHECK(stats["campaigns"] == 1);
  CHECK(stats["candidates"].get<int>() == 4);  // the baseline and three candidates
  CHECK(stats["evaluations"].get<int>() == 4);

  nlohmann::json top = db_json(ratchet, {"db", "top", "--limit", "10"});
  REQUIRE(top.is_array());
  REQUIRE_FALSE(top.empty());
  for (const auto& row : top) {
    CHECK(row["task"] == "tiny");
    CHECK(row["parent_id"].is_number_integer());
    CHECK(row["edit"]["kind"] == "flags");
    CHECK(row["status"] == "evaluated");
    CHECK(row["speedup"].is_number());
    CHECK(row["ci_low"].get<double>() <= row["ci_high"].get<double>());
  }
  for (size_t i = 1; i < top.size(); ++i) {
    CHECK(top[i - 1]["speedup"].get<double>() >= top[i]["speedup"].get<double>());
  }

  int64_t id = top[0]["id"];
  CommandResult show = ratchet.run({"db", "show", std::to_string(id), "--diff", "--db",
                                    ratchet.db().string()});
  REQUIRE(show.exit_code == 0);
  CHECK_THAT(show.out, Contains("candidate #" + std::to_string(id)));
  CHECK_THAT(show.out, Contains("flags #" + std::to_string(top[0]["parent_id"].get<int>()) + ":"));
  CHECK_THAT(show.out, Contains("verify     ok"));

  CommandResult missing = ratchet.run({"db", "show", "999", "--db", ratchet.db().string()});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Contains("no candidate #999"));
}

TEST_CASE("campaign: with two benchmark slots every candidate is verified and benchmarked") {
  if (std::thread::hardware_concurrency() < 2) return;  // one core: one slot
  Ratchet ratchet;
  nlohmann::json config = tiny_config(6);
  config["benchmark"]["slots"] = 2;
  config["search"] = {{"in_flight", 4}};
  CommandResult run = ratchet.run({"run", ratchet.write_config("slots.json", config).string(),
                                   "--db", ratchet.db().string()});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  nlohmann::json stats = db_json(ratchet, {"db", "stats"});
  CHECK(stats["evaluations"].get<int>() == 7);
  for (const auto& row : db_json(ratchet, {"db", "top", "--limit", "10"})) {
    CHECK(row["status"] == "evaluated");
    CHECK(row["speedup"].get<double>() > 0);
  }
}

TEST_CASE("campaign: measure --cpu pins both commands, and a CPU ratchet may not use is refused") {
  Ratchet ratchet;
  CommandResult pinned = ratchet.run({"measure", "--cpu", "0", "--min-pairs", "2", "--max-pairs",
                                      "2", "--format", "json", "--baseline", "true", "--",
                                      "true"});
  INFO(pinned.err);
  REQUIRE(pinned.exit_code == 0);
  CHECK(nlohmann::json::parse(pinned.out)["pairs"] == 2);
  CommandResult refused = ratchet.run({"measure", "--cpu", "4000", "--baseline", "/bin/true",
                                       "--", "true"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Contains("cpu 4000 is not one ratchet may run on"));
}

TEST_CASE("campaign: --resume continues the same campaign and counts the whole budget") {
  Ratchet ratchet;
  auto config = ratchet.write_config("tiny.json", tiny_config(2));
  REQUIRE(ratchet.run({"run", config.string(), "--db", ratchet.db().string()}).exit_code == 0);
  CommandResult resumed = ratchet.run(
      {"run", config.string(), "--db", ratchet.db().string(), "--resume", "--max-evals", "4"});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.err, Contains("resumed campaign 'tiny-test' (#1): 2 candidates so far"));

  nlohmann::json stats = db_json(ratchet, {"db", "stats"});
  CHECK(stats["campaigns"] == 1);
  CHECK(stats["candidates"].get<int>() == 5);  // baseline + 4
}

TEST_CASE("campaign: --resume without an earlier campaign exits 2") {
  Ratchet ratchet;
  auto config = ratchet.write_config("tiny.json", tiny_config(2));
  CommandResult result =
      ratchet.run({"run", config.string(), "--db", ratchet.db().string(), "--resume"});
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Contains("--resume: no campaign named 'tiny-test'"));
}

TEST_CASE("campaign: Ctrl-C stops cleanly with a summary, and --resume goes on") {
  Ratchet ratchet;
  auto config = ratchet.write_config("tiny.json", tiny_config(1000));
  auto running = ratchet.start({"run", config.string(), "--db", ratchet.db().string()});
  // Wait until the campaign has recorded a few candidates.
  bool started = false;
  for (int i = 0; i < 600 && !started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!std::filesystem::exists(ratchet.db())) continue;
    CommandResult stats = ratchet.run({"db", "stats", "--db", ratchet.db().string(), "--format",
                                       "json"});
    if (stats.exit_code != 0) continue;
    started = nlohmann::json::parse(stats.out)["candidates"].get<int>() >= 3;
  }
  REQUIRE(started);
  running->signal(SIGINT);
  CommandResult stopped = running->wait(std::chrono::seconds(30));
  INFO(stopped.err);
  CHECK(stopped.exit_code == 130);
  CHECK_THAT(stopped.out, Contains("interrupted; continue with --resume"));

  CommandResult resumed = ratchet.run({"run", config.string(), "--db", ratchet.db().string(),
                                       "--resume", "--max-evals", "6"});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  nlohmann::json stats = db_json(ratchet, {"db", "stats"});
  CHECK(stats["campaigns"] == 1);
  CHECK(stats["by_status"].value("pending", 0) == 0);
  CHECK(stats["candidates"].get<int>() >= 7);
}

TEST_CASE("campaign: killed with SIGKILL mid-campaign, --resume loses nothing and repeats nothing") {
  Ratchet ratchet;
  nlohmann::json config_json = tiny_config(1000);
  config_json["search"] = {{"in_flight", 3}};
  auto config = ratchet.write_config("tiny.json", config_json);
  auto stats_now = [&]() -> nlohmann::json {
    CommandResult stats = ratchet.run({"db", "stats", "--db", ratchet.db().string(), "--format",
                                       "json"});
    return stats.exit_code == 0 ? nlohmann::json::parse(stats.out) : nlohmann::json();
  };
  auto running = ratchet.start({"run", config.string(), "--db", ratchet.db().string()});
  nlohmann::json before;
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!std::filesystem::exists(ratchet.db())) continue;
    before = stats_now();
    if (before.is_object() && before["candidates"].get<int>() >= 5) break;
  }
  REQUIRE(before.is_object());
  running->signal(SIGKILL);  // no handler, no summary, no last write
  CommandResult killed = running->wait(std::chrono::seconds(30));
  REQUIRE(killed.exit_code == 128 + SIGKILL);
  // Its sandboxed children die with it (parent-death signal, or EOF on a
  // start pipe that no sibling holds open): none outlives it for long.
  int left = leftovers(ratchet.dir(), false);
  for (int i = 0; i < 30 && left > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    left = leftovers(ratchet.dir(), false);
  }
  CHECK(left == 0);
  leftovers(ratchet.dir(), true);  // after a failure, still resume without waiting

  nlohmann::json after_kill = stats_now();
  REQUIRE(after_kill.is_object());
  int recorded = after_kill["candidates"].get<int>();  // the baseline included
  int pending = after_kill["by_status"].value("pending", 0);
  int budget = recorded + 4;  // candidates beyond the baseline, whole campaign
  CommandResult resumed = ratchet.run({"run", config.string(), "--db", ratchet.db().string(),
                                       "--resume", "--max-evals", std::to_string(budget)});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.err, Contains("resumed campaign 'tiny-test' (#1)"));
  if (pending > 0) CHECK_THAT(resumed.err, Contains("left pending"));

  nlohmann::json stats = stats_now();
  CHECK(stats["campaigns"] == 1);
  CHECK(stats["by_status"].value("pending", 0) == 0);
  // The whole campaign is the budget: baseline + budget candidates, each
  // program once (the database refuses a program hash twice per campaign).
  CHECK(stats["candidates"].get<int>() == budget + 1);
  int refused = stats["by_status"].value("refused", 0);
  CHECK(stats["evaluations"].get<int>() == budget + 1 - refused);
  // Duplicates counted before the kill are kept, and the summary counts them
  // over the whole campaign.
  CHECK(stats["duplicates_skipped"].get<int>() >= after_kill["duplicates_skipped"].get<int>());
  CHECK_THAT(resumed.out, Contains("duplicates skipped " +
                                   std::to_string(stats["duplicates_skipped"].get<int>())));
  CHECK_THAT(resumed.out, Contains("candidates " + std::to_string(budget)));
}
