// `ratchet db top|show|stats|transforms`: querying the candidate database.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <iostream>
#include <map>

#include "common/files.h"
#include "common/result.h"
#include "common/text.h"
#include "engine/cli.h"
#include "engine/database.h"
#include "engine/progress.h"
#include "engine/remote_rewriters.h"
#include "rewriters/transform_rule.h"

namespace ratchet {

namespace {

struct DbOptions {
  std::string db = "ratchet.db";
  std::string format = "table";
  std::optional<std::string> task;
  int limit = 10;
  int64_t id = 0;
  bool diff = false;
  std::string add;  // transforms --add: a rule file
};

// Campaign names and tasks, looked up once per command.
class CampaignNames {
 public:
  explicit CampaignNames(const Database& db) {
    for (const auto& campaign : db.campaigns()) tasks_[campaign.id] = campaign.task_name;
  }
  std::string task(int64_t campaign_id) const {
    auto it = tasks_.find(campaign_id);
    return it == tasks_.end() ? "?" : it->second;
  }

 private:
  std::map<int64_t, std::string> tasks_;
};

nlohmann::json candidate_json(const CandidateRecord& c, const CampaignNames& names) {
  nlohmann::json json = {{"id", c.id},
                         {"campaign_id", c.campaign_id},
                         {"task", names.task(c.campaign_id)},
                         {"parent_id", c.parent_id ? nlohmann::json(*c.parent_id) : nullptr},
                         {"proposer", c.proposer},
                         {"model", c.model},
                         {"status", to_string(c.status)},
                         {"stages", {{"build", to_string(c.build)},
                                     {"verify", to_string(c.verify)},
                                     {"benchmark", to_string(c.benchmark)}}},
                         {"program_hash", c.program_hash},
                         {"flags", c.program.flags},
                         {"edit", c.edit},
                         {"metrics", c.metrics},
                         {"created_at", c.created_at}};
  for (const char* key : {"speedup", "ci_low", "ci_high"}) {
    json[key] = c.metrics.contains(key) ? c.metrics[key] : nlohmann::json(nullptr);
  }
  return json;
}

std::string edit_summary(const CandidateRecord& c) {
  if (!c.edit.is_object()) return c.proposer == "baseline" ? "(baseline)" : "";
  return c.edit.value("summary", "");
}

int top(const DbOptions& options) {
  Database db = Database::open(options.db, /*create=*/false);
  CampaignNames names(db);
  std::vector<CandidateRecord> rows = db.top(options.task, options.limit);
  if (options.format == "json") {
    nlohmann::json json = nlohmann::json::array();
    for (const auto& row : rows) json.push_back(candidate_json(row, names));
    std::cout << json.dump(2) << "\n";
    return kExitOk;
  }
  if (rows.empty()) {
    std::cout << "no evaluated candidates" << (options.task ? " for task '" + *options.task + "'" : "")
              << "\n";
    return kExitOk;
  }
  std::cout << fmt::format("{:>6}  {:<10} {:>6}  {:<28} {:<8} {}\n", "id", "task", "parent",
                           "speedup [95% CI]", "proposer", "edit");
  for (const auto& row : rows) {
    std::cout << fmt::format("{:>6}  {:<10} {:>6}  {:<28} {:<8} {}\n", row.id,
                             names.task(row.campaign_id),
                             row.parent_id ? std::to_string(*row.parent_id) : "-",
                             format_speedup(row), row.proposer, edit_summary(row));
  }
  return kExitOk;
}

std::string program_diff(const Program& before, const Program& after, int64_t before_id,
                         int64_t after_id) {
  std::string out;
  if (before.flags != after.flags) {
    out += fmt::format("flags #{}: {}\nflags #{}: {}\n", before_id, join(before.flags, " "),
                       after_id, join(after.flags, " "));
  }
  std::map<std::string, std::pair<std::string, std::string>> files;
  for (const auto& [path, text] : before.files) files[path].first = text;
  for (const auto& [path, text] : after.files) files[path].second = text;
  for (const auto& [path, texts] : files) {
    out += unified_diff(texts.first, texts.second, fmt::format("a/{} (#{})", path, before_id),
                        fmt::format("b/{} (#{})", path, after_id));
  }
  return out.empty() ? "(no difference from the parent)\n" : out;
}

int show(const DbOptions& options) {
  Database db = Database::open(options.db, /*create=*/false);
  std::optional<CandidateRecord> c = db.candidate(options.id);
  if (!c) usage_error(fmt::format("no candidate #{} in {}", options.id, options.db));
  CampaignNames names(db);
  std::optional<CandidateRecord> parent;
  if (c->parent_id) parent = db.candidate(*c->parent_id);

  if (options.format == "json") {
    nlohmann::json json = candidate_json(*c, names);
    json["artifacts"] = c->artifacts;
    json["files"] = c->program.files;
    if (options.diff && parent) {
      json["diff"] = program_diff(parent->program, c->program, parent->id, c->id);
    }
    std::cout << json.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << fmt::format("candidate #{}  (campaign #{}, task '{}')\n", c->id, c->campaign_id,
                           names.task(c->campaign_id));
  std::cout << fmt::format("  parent     {}\n", c->parent_id ? "#" + std::to_string(*c->parent_id)
                                                             : "none (baseline)");
  std::cout << fmt::format("  proposer   {}{}\n", c->proposer,
                           c->model.empty() ? "" : " (" + c->model + ")");
  std::cout << fmt::format("  edit       {}\n", edit_summary(*c));
  std::cout << fmt::format("  status     {} (build {}, verify {}, benchmark {})\n",
                           to_string(c->status), to_string(c->build), to_string(c->verify),
                           to_string(c->benchmark));
  std::cout << fmt::format("  speedup    {}\n", format_speedup(*c));
  if (c->metrics.contains("pairs")) {
    std::cout << fmt::format("  timing     {} pairs; median {:.2f} ms (baseline {:.2f} ms), {}\n",
                             c->metrics["pairs"].get<int>(), c->metrics.value("candidate_ms", 0.0),
                             c->metrics.value("baseline_ms", 0.0),
                             c->metrics.value("metric", "cpu_time"));
  }
  std::cout << fmt::format("  flags      {}\n", join(c->program.flags, " "));
  std::cout << fmt::format("  hash       {}\n", c->program_hash);
  for (const auto& [stage, artifact] : c->artifacts.items()) {
    if (artifact.is_object()) {
      std::cout << fmt::format("  {:<10} {}: {}\n", stage, artifact.value("status", ""),
                               artifact.value("summary", ""));
      if (artifact.contains("log") && artifact["status"] != "ok") {
        std::cout << "    | " << artifact["log"].get<std::string>() << "\n";
      }
    } else if (artifact.is_string()) {
      std::cout << fmt::format("  {:<10} {}\n", stage, artifact.get<std::string>());
    }
  }
  if (options.diff) {
    std::cout << "\n";
    if (parent) {
      std::cout << program_diff(parent->program, c->program, parent->id, c->id);
    } else {
      std::cout << "(the baseline has no parent to diff against)\n";
    }
  }
  return kExitOk;
}

nlohmann::json llm_json(const std::vector<LlmUsage>& models) {
  nlohmann::json by_model = nlohmann::json::object();
  LlmUsage total;
  for (const auto& m : models) {
    by_model[m.model] = {{"calls", m.calls},         {"failed", m.failed},
                         {"tokens_in", m.tokens_in}, {"tokens_out", m.tokens_out},
                         {"cost_usd", m.cost_usd},   {"mean_latency_ms", m.latency_ms}};
    total.calls += m.calls;
    total.failed += m.failed;
    total.tokens_in += m.tokens_in;
    total.tokens_out += m.tokens_out;
    total.cost_usd += m.cost_usd;
  }
  return {{"calls", total.calls},
          {"failed", total.failed},
          {"tokens_in", total.tokens_in},
          {"tokens_out", total.tokens_out},
          {"cost_usd", total.cost_usd},
          {"by_model", by_model}};
}

int stats(const DbOptions& options) {
  Database db = Database::open(options.db, /*create=*/false);
  DatabaseStats s = db.stats();
  if (options.format == "json") {
    nlohmann::json by_status = nlohmann::json::object();
    for (const auto& entry : s.by_status) by_status[entry.status] = entry.count;
    nlohmann::json failures = nlohmann::json::object();
    for (const auto& entry : s.failures_by_stage) failures[entry.status] = entry.count;
    nlohmann::json best = nlohmann::json::array();
    for (const auto& entry : s.best_per_task) {
      best.push_back({{"task", entry.task},
                      {"candidate_id", entry.candidate_id},
                      {"speedup", entry.speedup},
                      {"ci_low", entry.ci_low},
                      {"ci_high", entry.ci_high}});
    }
    nlohmann::json json = {{"campaigns", s.campaigns},
                           {"candidates", s.candidates},
                           {"evaluations", s.evaluations},
                           {"duplicates_skipped", s.duplicates_skipped},
                           {"binary_reuses", s.binary_reuses},
                           {"build_cache_hits", s.build_cache_hits},
                           {"by_status", by_status},
                           {"failures_by_stage", failures},
                           {"best_per_task", best},
                           {"llm", llm_json(s.llm_by_model)}};
    std::cout << json.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << fmt::format(
      "campaigns {}  candidates {}  evaluations {}  duplicates skipped {}  binaries reused {}  "
      "build cache hits {}\n",
      s.campaigns, s.candidates, s.evaluations, s.duplicates_skipped, s.binary_reuses,
      s.build_cache_hits);
  std::cout << "by status:";
  for (const auto& entry : s.by_status) std::cout << fmt::format("  {} {}", entry.status, entry.count);
  std::cout << "\nfailures by stage:";
  for (const auto& entry : s.failures_by_stage) {
    std::cout << fmt::format("  {} {}", entry.status, entry.count);
  }
  std::cout << "\nbest per task:\n";
  if (s.best_per_task.empty()) std::cout << "  (none)\n";
  for (const auto& entry : s.best_per_task) {
    std::cout << fmt::format("  {:<12} #{:<6} {:.3f}x [{:.3f}, {:.3f}]\n", entry.task,
                             entry.candidate_id, entry.speedup, entry.ci_low, entry.ci_high);
  }
  std::cout << "llm calls by model:\n";
  if (s.llm_by_model.empty()) std::cout << "  (none)\n";
  for (const auto& m : s.llm_by_model) {
    std::cout << fmt::format("  {:<24} calls {:<5} failed {:<4} tokens in {:<8} out {:<8} "
                             "${:.4f}  mean {:.0f} ms\n",
                             m.model, m.calls, m.failed, m.tokens_in, m.tokens_out, m.cost_usd,
                             m.latency_ms);
  }
  return kExitOk;
}

// Stores a user's rule after checking it parses (its matcher included), so
// that the transforms proposer can draw it.
void add_user_transform(Database& db, const std::string& file) {
  auto text = read_file(file);
  if (!text) usage_error(text.error());
  auto rule = parse_rule(*text);
  if (!rule) usage_error(file + ": " + rule.error());
  if (Status ok = remote::check_matcher(rule->match); !ok) usage_error(file + ": " + ok.error());
  TransformRecord record{0, rule->name, *text, "user"};
  db.add_transform(record);
  std::cout << fmt::format("transform #{} '{}' ({})\n", record.id, record.name, record.origin);
}

int transforms(const DbOptions& options) {
  Database db = Database::open(options.db, /*create=*/!options.add.empty());
  if (!options.add.empty()) {
    add_user_transform(db, options.add);
    return kExitOk;
  }
  std::vector<TransformRecord> rules = db.transforms();
  if (options.format == "json") {
    nlohmann::json json = nlohmann::json::array();
    for (const auto& r : rules) {
      json.push_back({{"id", r.id},
                      {"name", r.name},
                      {"origin", r.origin},
                      {"candidate_id", r.candidate_id ? nlohmann::json(*r.candidate_id) : nullptr},
                      {"created_at", r.created_at},
                      {"wins", r.wins},
                      {"losses", r.losses},
                      {"rule", nlohmann::json::parse(r.rule_json)}});
    }
    std::cout << json.dump(2) << "\n";
    return kExitOk;
  }
  if (rules.empty()) {
    std::cout << "no transform rules\n";
    return kExitOk;
  }
  std::cout << fmt::format("{:>4}  {:<28} {:<8} {:>5} {:>6} {:>5}  {}\n", "id", "name", "origin",
                           "wins", "losses", "win%", "from");
  for (const auto& r : rules) {
    int64_t tried = r.wins + r.losses;
    std::cout << fmt::format("{:>4}  {:<28} {:<8} {:>5} {:>6} {:>5}  {}\n", r.id, r.name, r.origin,
                             r.wins, r.losses,
                             tried ? fmt::format("{:.0f}%", 100.0 * r.wins / tried) : "-",
                             r.candidate_id ? "#" + std::to_string(*r.candidate_id) : "-");
  }
  return kExitOk;
}

void add_db_option(CLI::App* command, DbOptions& options) {
  command->add_option("--db", options.db, "Candidate database (default ./ratchet.db)");
}

}  // namespace

void add_db_command(CLI::App& app, int& exit_code) {
  CLI::App* db = app.add_subcommand("db", "Query the candidate database");
  db->require_subcommand(1);
  auto options = std::make_shared<DbOptions>();

  CLI::App* top_command = db->add_subcommand("top", "Best evaluated candidates, fastest first");
  add_db_option(top_command, *options);
  top_command->add_option("--task", options->task, "Only this task");
  top_command->add_option("--limit", options->limit, "How many (default 10)")
      ->check(CLI::Range(1, 1'000'000));
  top_command->add_option("--format", options->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  top_command->callback([options, &exit_code] { exit_code = top(*options); });

  CLI::App* show_command = db->add_subcommand("show", "One candidate: edit, stages, evidence");
  add_db_option(show_command, *options);
  show_command->add_option("id", options->id, "Candidate id")->required();
  show_command->add_flag("--diff", options->diff, "Show what changed from the parent");
  show_command->add_option("--format", options->format, "text or json")
      ->check(CLI::IsMember({"text", "table", "json"}));
  show_command->callback([options, &exit_code] { exit_code = show(*options); });

  CLI::App* stats_command = db->add_subcommand("stats", "Counts by status and stage, best per task");
  add_db_option(stats_command, *options);
  stats_command->add_option("--format", options->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  stats_command->callback([options, &exit_code] { exit_code = stats(*options); });

  CLI::App* transforms_command =
      db->add_subcommand("transforms", "Transform rules with their wins and losses, every task");
  add_db_option(transforms_command, *options);
  transforms_command->add_option("--format", options->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  transforms_command->add_option("--add", options->add,
                                 "Store the rule in this JSON file (origin user; creates the database) and exit");
  transforms_command->callback([options, &exit_code] { exit_code = transforms(*options); });
}

}  // namespace ratchet
