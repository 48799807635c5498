// The rewriter worker seen from the controller: requests, results equal to
// the in-process rewriters', restarts, and every way the worker can fail
// (crash, exit, stall, garbage), injected with `ratchet-rewriter --fault`.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/files.h"
#include "engine/campaign.h"
#include "engine/database.h"
#include "engine/remote_rewriters.h"
#include "engine/rewriter_client.h"
#include "rewriters/apply_edit.h"
#include "rewriters/llvm_ir.h"
#include "rewriters/semantic_hash.h"
#include "tiny_task.h"

using namespace ratchet;

namespace {

RewriterClient faulty(const std::string& fault, double timeout_seconds = 60) {
  return RewriterClient({"", {"--fault", fault}, timeout_seconds});
}

// Waits until `pid` (a child of this process, not reaped) has exited.
void wait_until_dead(pid_t pid) {
  for (int i = 0; i < 400; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    size_t paren = line.rfind(')');
    if (!stat || paren == std::string::npos || line.substr(paren + 2, 1) == "Z") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  FAIL("the worker did not die");
}

const nlohmann::json kGood = {{"pipeline", "function(sroa)"}};

RewriteContext c_context(const Task& task) {
  RewriteContext context;
  context.language = task.language;
  context.flags = task.fixed_flags;
  context.directory = task.dir;
  context.validate = true;
  return context;
}

}  // namespace

TEST_CASE("rewriter client: the worker starts on the first request and answers each") {
  RewriterClient client;
  CHECK(client.pid() == -1);
  CHECK(client.call("check_pipeline", kGood));
  pid_t pid = client.pid();
  CHECK(pid > 0);
  auto bad = client.call("check_pipeline", {{"pipeline", "function(instcombin)"}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().find("instcombin") != std::string::npos);
  auto unknown = client.call("no_such_op", nlohmann::json::object());
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error() == "unknown op 'no_such_op'");
  CHECK(client.pid() == pid);  // errors of the op's own keep the worker
  CHECK(client.starts() == 1);
}

TEST_CASE("rewriter client: remote edits and hashes equal the in-process ones") {
  Task task = testing::tiny_task(10000);
  Program parent = task.baseline();
  RewriteContext context = c_context(task);
  Edit diff{EditKind::diff};
  diff.text = "<<<<<<< SEARCH\n      total += v * v % 7919 + (v ^ (total >> 3));\n=======\n"
              "      total += v * v % 7919u + (v ^ (total >> 3));\n>>>>>>> REPLACE\n";
  auto local = apply_edit(parent, diff, {}, context);
  auto remote = remote::apply_edit(parent, diff, {}, context);
  REQUIRE(local);
  REQUIRE(remote);
  CHECK(*remote == *local);

  Edit broken = diff;
  broken.text = "<<<<<<< SEARCH\n      total += v * v % 7919 + (v ^ (total >> 3));\n=======\n"
                "      total += w;\n>>>>>>> REPLACE\n";
  auto refused = remote::apply_edit(parent, broken, {}, context);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == apply_edit(parent, broken, {}, context).error());

  Edit builtin{EditKind::transform};
  builtin.text = R"({"builtin": "unroll-inner-loops"})";
  CHECK(*remote::apply_edit(parent, builtin, {}, context) ==
        *apply_edit(parent, builtin, {}, context));

  CHECK(remote::semantic_hash(*local, context) == semantic_hash(*local, context));
  int requests = rewriter_client().requests();
  Program flagged = *local;
  flagged.flags = {"-O3"};
  CHECK(remote::semantic_hash(flagged, context) == semantic_hash(flagged, context));
  CHECK(rewriter_client().requests() == requests);  // tiny.c's token hash was cached

  std::mt19937_64 a(7), b(7);
  CHECK(remote::mutate_pipeline("default<O2>", a) == mutate_pipeline("default<O2>", b));
  CHECK(a() == b());  // the generator advanced alike
}

TEST_CASE("rewriter client: an ir edit is lowered in the controller, then spliced in the worker") {
  Task task = testing::tiny_task(10000);
  Program parent = task.baseline();
  RewriteContext context = c_context(task);
  Edit edit{EditKind::ir};
  edit.symbol = "f";
  edit.text = "define i32 @f(i32 %x) {\n  %y = add i32 %x, 1\n  ret i32 %y\n}\n";
  auto unlowered = remote::apply_edit(parent, edit, {}, context);
  REQUIRE_FALSE(unlowered);
  CHECK(unlowered.error() == apply_edit(parent, edit, {}, context).error());
  int lowered = 0;
  context.lower_to_ir = [&](const Program&, const std::string& file) -> Result<std::string> {
    ++lowered;
    CHECK(file == "tiny.c");
    return std::string("define i32 @f(i32 %x) {\n  ret i32 %x\n}\n");
  };
  auto local = apply_edit(parent, edit, {}, context);
  auto remote = remote::apply_edit(parent, edit, {}, context);
  REQUIRE(local);
  REQUIRE(remote);
  CHECK(*remote == *local);
  CHECK(remote->files.count("tiny.c.ll") == 1);
  CHECK(lowered == 2);
  edit.text = "define i32 @f(i32 %x) {\n  ret i32 %z\n}\n";
  auto refused = remote::apply_edit(parent, edit, {}, context);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == apply_edit(parent, edit, {}, context).error());
}

TEST_CASE("rewriter client: a flag-only edit needs no worker") {
  RewriterClient& client = rewriter_client();
  int requests = client.requests();
  Program parent;
  parent.flags = {"-O2"};
  Edit edit{EditKind::flags};
  edit.flags = {"-O3"};
  auto child = remote::apply_edit(parent, edit, {});
  REQUIRE(child);
  CHECK(child->flags == std::vector<std::string>{"-O3"});
  CHECK(client.requests() == requests);
  edit.text = "function(instcombin)";
  auto refused = remote::apply_edit(parent, edit, {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().find("the pass pipeline 'function(instcombin)' is refused: ") == 0);
}

TEST_CASE("rewriter client: a worker killed between requests is restarted transparently") {
  RewriterClient client;
  REQUIRE(client.call("check_pipeline", kGood));
  pid_t first = client.pid();
  kill(first, SIGKILL);
  wait_until_dead(first);
  CHECK(client.call("check_pipeline", kGood));
  CHECK(client.pid() != first);
  CHECK(client.starts() == 2);
}

TEST_CASE("rewriter client: a crash fails that request with the reason, the next one works") {
  RewriterClient client = faulty("crash:CRASH_ME");
  REQUIRE(client.call("check_pipeline", kGood));
  auto crashed = client.call("check_pipeline", {{"pipeline", "CRASH_ME"}}, "this edit");
  REQUIRE_FALSE(crashed);
  CHECK(crashed.error().find("the rewriter crashed (signal 11") == 0);
  CHECK(crashed.error().find("on this edit") != std::string::npos);
  CHECK(client.call("check_pipeline", kGood));
  CHECK(client.starts() == 2);
}

TEST_CASE("rewriter client: a worker that exits, stalls or garbles its reply is an error") {
  SECTION("exit") {
    RewriterClient client = faulty("exit:BAD");
    auto failed = client.call("check_pipeline", {{"pipeline", "BAD"}});
    REQUIRE_FALSE(failed);
    CHECK(failed.error() == "the rewriter exited with status 3 on this request (check_pipeline)");
    CHECK(client.call("check_pipeline", kGood));
  }
  SECTION("stall") {
    RewriterClient client = faulty("stall:BAD", 0.5);
    auto failed = client.call("check_pipeline", {{"pipeline", "BAD"}});
    REQUIRE_FALSE(failed);
    CHECK(failed.error().find("the rewriter timed out after 0.5 s on this request") == 0);
    CHECK(client.call("check_pipeline", kGood));
  }
  SECTION("killed during a request") {
    RewriterClient client = faulty("stall:BAD");
    REQUIRE(client.call("check_pipeline", kGood));
    pid_t pid = client.pid();
    std::thread killer([pid] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      kill(pid, SIGKILL);
    });
    auto failed = client.call("check_pipeline", {{"pipeline", "BAD"}}, "this edit");
    killer.join();
    REQUIRE_FALSE(failed);
    CHECK(failed.error() == "the rewriter was killed (signal 9, Killed) on this edit");
    CHECK(client.call("check_pipeline", kGood));
    CHECK(client.starts() == 2);
  }
  SECTION("garble") {
    RewriterClient client = faulty("garble:BAD");
    auto failed = client.call("check_pipeline", {{"pipeline", "BAD"}});
    REQUIRE_FALSE(failed);
    CHECK(failed.error().find("the rewriter's reply to this request (check_pipeline) is "
                              "malformed (not a CBOR message)") == 0);
    CHECK(client.call("check_pipeline", kGood));
    CHECK(client.starts() == 2);
  }
  SECTION("a missing executable") {
    RewriterClient client({"/nonexistent/ratchet-rewriter"});
    auto failed = client.call("check_pipeline", kGood);
    REQUIRE_FALSE(failed);
    CHECK(failed.error() ==
          "cannot start the rewriter /nonexistent/ratchet-rewriter: No such file or directory");
  }
}

TEST_CASE("rewriter client: requests from several threads are serialized") {
  RewriterClient client;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) ok += client.call("check_pipeline", kGood).ok();
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(ok == 40);
  CHECK(client.starts() == 1);
}

TEST_CASE("rewriter client: the worker's environment holds no API key") {
  setenv("OPENAI_API_KEY", "sk-test-not-for-the-worker", 1);
  RewriterClient client;
  REQUIRE(client.call("check_pipeline", kGood));
  std::ifstream file("/proc/" + std::to_string(client.pid()) + "/environ");
  std::stringstream environ;
  environ << file.rdbuf();
  unsetenv("OPENAI_API_KEY");
  CHECK(environ.str().find("sk-test-not-for-the-worker") == std::string::npos);
  CHECK(environ.str().find("API_KEY") == std::string::npos);
  CHECK(environ.str().find("PATH=") != std::string::npos);
}

namespace {

// Rewrites tiny.c's block with a new constant at each step; the third edit
// carries the fault's trigger, and before the fifth the worker is killed.
class RewriteProposer final : public Proposer {
 public:
  std::string kind() const override { return "rewrite-test"; }
  std::optional<Proposal> propose(const ProposalContext&) override {
    ++count;
    if (count == 5) {
      pid_t pid = rewriter_client().pid();
      if (pid > 0) {
        kill(pid, SIGKILL);
        wait_until_dead(pid);
      }
    }
    Proposal proposal;
    proposal.proposer = kind();
    proposal.edit.kind = EditKind::rewrite;
    proposal.edit.file = "tiny.c";
    proposal.edit.text = std::string(count == 3 ? "/* CRASH_ME */\n" : "") +
                         "static unsigned long long churn(const unsigned* values, long n, int "
                         "passes) {\n  unsigned long long total = 0;\n  for (int p = 0; p < passes;"
                         " ++p)\n    for (long i = 0; i < n; ++i)\n      total += values[i] % " +
                         std::to_string(7000 + count) + ";\n  return total;\n}\n";
    return proposal;
  }
  int count = 0;
};

class Instant final : public Evaluator {
 public:
  Evaluation evaluate(const Program&, uint64_t) override {
    Evaluation evaluation;
    evaluation.build = evaluation.verify = evaluation.benchmark = {StageStatus::ok, "", "", 0};
    evaluation.metrics = {{"speedup", 1.0}, {"ci_low", 0.99}, {"ci_high", 1.01}, {"pairs", 5}};
    return evaluation;
  }
  Evaluation evaluate_baseline(uint64_t seed) override { return evaluate({}, seed); }
};

}  // namespace

TEST_CASE("rewriter client: a crash in the worker refuses that candidate and the campaign goes on") {
  configure_rewriter_client({"", {"--fault", "crash:CRASH_ME"}});
  TempDir dir("rewriter-campaign-");
  Task task = testing::tiny_task(10000);
  CampaignConfig config;
  config.name = "unit";
  config.task_dir = task.dir;
  config.seed = 5;
  config.max_evals = 7;
  config.search.in_flight = 1;
  config.search.confirm_top = 0;
  Database db = Database::open(dir.path() / "c.db", true);
  Instant evaluator;
  std::ostringstream log;
  Progress progress(log, false, config.max_evals);
  std::atomic<bool> stop{false};
  std::vector<WeightedProposer> proposers;
  auto owned = std::make_unique<RewriteProposer>();
  RewriteProposer* proposer = owned.get();
  proposers.push_back({std::move(owned), 1.0});
  Campaign campaign(config, task, db, evaluator, std::move(proposers), progress, stop);
  campaign.start(false, nlohmann::json::object());
  CampaignOutcome outcome = campaign.run();

  int refused = 0, evaluated = 0;
  for (const auto& c : db.candidates(outcome.campaign_id)) {
    if (c.status == CandidateStatus::refused) {
      ++refused;
      CHECK(c.artifacts["refusal"].get<std::string>().find(
                "the rewriter crashed (signal 11, ") == 0);
      CHECK(c.artifacts["refusal"].get<std::string>().find("on this edit") != std::string::npos);
    } else if (c.proposer == "rewrite-test") {
      ++evaluated;
      CHECK(c.status == CandidateStatus::evaluated);
    }
  }
  CHECK(refused == 1);
  CHECK(evaluated >= 5);
  CHECK(proposer->count >= 6);
  CHECK(rewriter_client().starts() >= 3);  // the first, after the crash, after the kill
  configure_rewriter_client({});
}
