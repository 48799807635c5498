#include "engine/llm_proposer.h"

#include <fmt/format.h>

#include "common/result.h"
#include "common/text.h"
#include "engine/llm/answer.h"
#include "engine/progress.h"
#include "rewriters/plain_edit.h"
#include "rewriters/search_replace.h"

namespace ratchet {

namespace {

constexpr int kInspirations = 3;
constexpr size_t kEvidenceBytes = 1'200;
constexpr size_t kRefusedAnswerBytes = 8'000;

std::string edit_summary(const nlohmann::json& edit) {
  return edit.is_object() ? edit.value("summary", "") : "";
}

}  // namespace

LlmProposer::LlmProposer(const LlmConfig& config, const Task& task, int fallback_max_genes)
    : config_(config), task_(task), fallback_(task, fallback_max_genes) {
  if (config_.replay_mode == "replay") {
    auto cache = llm::ReplayCache::load(config_.replay_path);
    if (!cache) usage_error(cache.error());
    replay_ = std::move(*cache);
    return;
  }
  if (config_.replay_mode == "record") replay_ = llm::ReplayCache::for_recording(config_.replay_path);
  llm::RetryPolicy policy;
  policy.max_attempts = config_.max_attempts;
  policy.max_seconds = config_.max_retry_seconds;
  client_ = std::make_unique<llm::LlmClient>(config_.models, policy);
}

std::optional<size_t> LlmProposer::pick_model(std::mt19937_64& rng) const {
  double total = 0;
  std::vector<size_t> up;
  for (size_t i = 0; i < config_.models.size(); ++i) {
    if (config_.models[i].weight <= 0) continue;
    if (client_ && !client_->available(i)) continue;
    up.push_back(i);
    total += config_.models[i].weight;
  }
  if (up.empty()) return std::nullopt;
  double x = std::uniform_real_distribution<double>(0, total)(rng);
  for (size_t i : up) {
    if (x < config_.models[i].weight) return i;
    x -= config_.models[i].weight;
  }
  return up.back();
}

llm::PromptInput LlmProposer::gather(const ProposalContext& context,
                                     const std::string& file) const {
  const CandidateRecord& parent = context.parent;
  llm::PromptInput input;
  input.task = task_.name;
  input.description = task_.description;
  input.language = task_.language;
  input.file = file;
  input.code = parent.program.files.at(file);
  input.parent_id = parent.id;
  input.flags = parent.program.flags;
  input.metrics = parent.metrics;
  auto inspire = [&](const CandidateRecord& c) {
    if (c.id == parent.id || static_cast<int>(input.inspirations.size()) >= kInspirations) return;
    auto it = c.program.files.find(file);
    if (it == c.program.files.end()) return;
    input.inspirations.push_back({c.id, "speedup " + format_speedup(c), edit_summary(c.edit),
                                  llm::region_text(it->second)});
  };
  // The islands' choice (best and diverse) when the campaign gives one; the
  // task's fastest candidates otherwise.
  for (const CandidateRecord* c : context.inspirations) inspire(*c);
  if (context.db && context.inspirations.empty()) {
    for (const CandidateRecord& c : context.db->top(task_.name, kInspirations + 1)) inspire(c);
  }
  // The campaign's latest failures, their evidence rendered once per failure
  // (it never changes after).
  for (const CandidateRecord* c : context.failures) {
    if (static_cast<int>(input.failures.size()) >= kRecentFailures) break;
    {
      std::lock_guard lock(mutex_);
      if (auto it = failures_.find(c->id); it != failures_.end()) {
        input.failures.push_back(it->second);
        continue;
      }
    }
    llm::PromptFailure failure{c->id, to_string(c->status), edit_summary(c->edit),
                               llm::failure_evidence(c->artifacts, kEvidenceBytes)};
    input.failures.push_back(failure);
    std::lock_guard lock(mutex_);
    constexpr size_t kKept = 64;  // the latest few are asked for again and again
    if (failures_.size() >= kKept) failures_.erase(failures_.begin());  // the oldest
    failures_.emplace(c->id, std::move(failure));
  }
  return input;
}

llm::CallResult LlmProposer::exchange(size_t model, const llm::ChatRequest& request,
                                      const std::string& key) {
  if (!client_) {  // replay
    std::lock_guard lock(mutex_);
    llm::CallResult result;
    result.model = model;
    if (auto hit = replay_->lookup(key)) {
      result.answer = hit->answer;
    } else {
      result.status = "replay_miss";
      result.error = fmt::format("replay: the cache {} has no answer left for this request",
                                 config_.replay_path.string());
    }
    return result;
  }
  llm::CallResult result = client_->call(model, request);
  std::lock_guard lock(mutex_);
  if (result.ok() && replay_) {
    if (Status recorded = replay_->record(key, config_.models[model].model, result.answer);
        !recorded) {
      runtime_error(recorded.error());
    }
  }
  return result;
}

void LlmProposer::check_budget() {
  int64_t tokens = usage_.tokens_in + usage_.tokens_out;
  if (config_.max_tokens > 0 && tokens >= config_.max_tokens) {
    stop_reason_ = fmt::format("the LLM token budget is spent ({} of {} tokens)", tokens,
                               config_.max_tokens);
  } else if (config_.max_cost_usd > 0 && usage_.cost_usd >= config_.max_cost_usd) {
    stop_reason_ = fmt::format("the LLM cost budget is spent (${:.4f} of ${:.4f})",
                               usage_.cost_usd, config_.max_cost_usd);
  }
}

std::optional<Proposal> LlmProposer::fallback(const ProposalContext& context,
                                              const std::string& why) {
  std::optional<Proposal> proposal = fallback_.propose(context);
  if (proposal) proposal->note = why;
  return proposal;
}

bool LlmProposer::room_for_a_call() const {
  bool budgets = config_.max_tokens > 0 || config_.max_cost_usd > 0;
  if (!budgets || calls_in_flight_ == 0) return true;
  if (!largest_call_) return false;
  auto [tokens, cost] = *largest_call_;
  int64_t spent = usage_.tokens_in + usage_.tokens_out;
  if (config_.max_tokens > 0 && spent + calls_in_flight_ * tokens >= config_.max_tokens) return false;
  if (config_.max_cost_usd > 0 && usage_.cost_usd + calls_in_flight_ * cost >= config_.max_cost_usd) {
    return false;
  }
  return true;
}

std::string LlmProposer::stop_reason() const {
  std::lock_guard lock(mutex_);
  return stop_reason_;
}

std::optional<Proposal> LlmProposer::propose(const ProposalContext& context) {
  std::unique_lock lock(mutex_);
  // Budgets count the whole campaign, resumed runs included.
  if (context.db && usage_campaign_ != context.campaign_id) {
    usage_ = context.db->llm_usage(context.campaign_id);
    usage_campaign_ = context.campaign_id;
  }
  check_budget();
  if (!stop_reason_.empty()) return std::nullopt;

  std::optional<size_t> model = pick_model(context.rng);
  if (!model) {
    std::string status;
    for (size_t i = 0; i < config_.models.size(); ++i) {
      std::string line = client_ ? client_->status_line(i) : "";
      if (!line.empty()) status += (status.empty() ? "" : "; ") + line;
    }
    if (config_.on_all_down == "stop") {
      stop_reason_ = "every LLM endpoint is down (" + status + ")";
      return std::nullopt;
    }
    bool first = !said_all_down_;
    said_all_down_ = true;
    lock.unlock();
    return fallback(context, first ? "every LLM endpoint is down (" + status +
                                         "); using the built-in flag mutator until one is back"
                                   : "");
  }
  if (said_all_down_) said_all_down_ = false;
  // Budgets: no more calls in flight than the budget has room for.
  while (!room_for_a_call()) {
    call_done_.wait(lock);
    check_budget();
    if (!stop_reason_.empty()) return std::nullopt;
  }
  ++calls_in_flight_;
  struct CallInFlight {  // until the call is counted in usage_, whatever happens
    LlmProposer& self;
    bool counted = false;
    void end() {  // caller holds mutex_
      counted = true;
      --self.calls_in_flight_;
      self.call_done_.notify_all();
    }
    ~CallInFlight() {
      if (counted) return;
      std::lock_guard lock(self.mutex_);
      end();
    }
  } in_flight{*this};
  // The prompt, the call and the parsing run unlocked: other threads' calls
  // are in flight meanwhile.
  lock.unlock();

  auto file = edit_target_file(context.parent.program, Edit{EditKind::diff});
  if (!file) return fallback(context, "llm: " + file.error());
  const LlmModelConfig& chosen = config_.models[*model];
  llm::ChatRequest request =
      llm::build_prompt(gather(context, *file), {config_.system_template, config_.user_template},
                        chosen.temperature, chosen.max_tokens);
  std::string key = llm::request_key(chosen, request);
  llm::CallResult result = exchange(*model, request, key);

  // The call's record, success or not: it travels with the proposal and is
  // written with the step's candidate (a crash before then loses it, as a
  // crash during the request would).
  LlmCallRecord call;
  call.campaign_id = context.campaign_id;
  call.model = chosen.model;
  call.endpoint = client_ ? chosen.base_url : "replay:" + config_.replay_path.string();
  call.kind = client_ ? chosen.kind : "replay";
  call.status = result.status;
  call.http_status = result.http_status;
  call.tokens_in = result.answer.tokens_in;
  call.tokens_out = result.answer.tokens_out;
  call.latency_ms = result.seconds * 1000;
  call.retries = result.retries;
  call.cost_usd = client_ ? llm::call_cost(chosen, result.answer) : 0;
  call.request_key = key;
  call.error = result.error;
  if (config_.store_text) {
    std::string prompt;
    size_t size = 0;
    for (const auto& message : request.messages) size += message.role.size() + message.content.size() + 4;
    prompt.reserve(size);
    for (const auto& message : request.messages) {
      prompt.append("[").append(message.role).append("]\n").append(message.content).append("\n");
    }
    call.prompt = std::move(prompt);
    if (result.ok()) call.response = result.answer.text;
  }
  lock.lock();
  usage_.calls++;
  usage_.tokens_in += call.tokens_in;
  usage_.tokens_out += call.tokens_out;
  usage_.cost_usd += call.cost_usd;
  if (result.ok()) {
    auto [tokens, cost] = largest_call_.value_or(std::pair<int64_t, double>{0, 0.0});
    largest_call_ = {std::max(tokens, call.tokens_in + call.tokens_out), std::max(cost, call.cost_usd)};
  }
  if (!result.ok() && result.status == "replay_miss") stop_reason_ = result.error;
  in_flight.end();
  lock.unlock();

  if (!result.ok()) {
    auto proposal = fallback(context, fmt::format("llm {}: {}", chosen.model, result.error));
    if (proposal) {
      proposal->llm_call = std::move(call);
    } else if (context.db) {  // no step to carry it
      context.db->insert_llm_call(call);
    }
    return proposal;
  }
  Proposal proposal;
  proposal.proposer = "llm";
  proposal.model = chosen.model;
  proposal.llm_call = std::move(call);
  auto edit = llm::edit_from_llm_answer(result.answer.text, *file, 0);
  if (edit) {
    proposal.edit = std::move(*edit);
  } else {
    proposal.edit.kind = EditKind::diff;
    proposal.edit.file = *file;
    proposal.edit.text = truncate_middle(result.answer.text, kRefusedAnswerBytes);
    proposal.edit.summary = "unparsable answer";
    proposal.refusal = edit.error();
  }
  return proposal;
}

}  // namespace ratchet
