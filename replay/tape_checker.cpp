#include "replay/tape_checker.h"

#include "core/fold/fold_input.h"
#include "runtime/effects.h"
#include "runtime/types.h"

namespace spr::replay {

using nlohmann::json;
namespace lc = lifecycle;

namespace {

// The live run's clock, as far as replay knows it: the EffectCompleted record's wall time.
class RecordedClock : public runtime::Clock {
 public:
  explicit RecordedClock(int64_t nanos) : nanos_(nanos) {}
  int64_t nowUnixNanos() const override { return nanos_; }

 private:
  int64_t nanos_;
};

std::string outcomeText(lc::Outcome outcome, const std::string& errorClass, const std::string& message) {
  std::string s = std::string("outcome ") + lc::outcomeName(outcome);
  if (!errorClass.empty()) s += " (" + errorClass + ")";
  if (!message.empty()) s += ": " + message;
  return s;
}

// The first result field that differs. "reason" is compared only when the journal has it
// (journals written before the runtime recorded it carry only Observe's answer).
std::optional<std::string> resultDifference(const json& recorded, const json& produced) {
  json keys = json::object();
  for (const auto& [k, v] : recorded.items()) keys[k] = true;
  for (const auto& [k, v] : produced.items()) keys[k] = true;
  for (const auto& [k, unused] : keys.items()) {
    if (k == "reason" && !recorded.contains(k)) continue;
    json r = recorded.contains(k) ? recorded[k] : json(), p = produced.contains(k) ? produced[k] : json();
    if (r != p) return k;
  }
  return std::nullopt;
}

}  // namespace

TapeEffectChecker::TapeEffectChecker(std::unique_ptr<providers::Provider> provider, std::string providerName)
    : provider_(std::move(provider)), providerName_(std::move(providerName)) {
  if (providerName_.empty()) providerName_ = provider_->name();
}

EffectCheck TapeEffectChecker::check(const EffectContext& ctx, const journal::EffectCompleted& recorded) {
  EffectCheck result;
  RecordedClock clock(ctx.completedWallNanos);
  TapeSession session(recorded, ctx.completedSeq,
                      ClockWindow{ctx.requestedWallNanos, ctx.completedWallNanos, ctx.completedWallNanos});
  factory_.setSession(&session);
  runtime::EffectExecutor::Config config;
  config.providerName = providerName_;
  config.providerConfigName = ctx.configName;  // "" = the provider name, as `spr run` defaults it
  config.provider = provider_.get();
  config.clock = &clock;
  config.factory = &factory_;
  config.retry.sleepMs = [](long) {};  // the recorded retries are answered at once
  runtime::EffectExecutor executor(std::move(config));
  runtime::EffectInput input;
  input.command = ctx.command;
  input.object = ctx.object;
  input.config = ctx.config;
  input.configSeq = ctx.configSeq;
  input.phase = ctx.phase;
  json recordedResult = json::parse(recorded.resultJson.empty() ? "{}" : recorded.resultJson, nullptr, false);
  if (!recordedResult.is_object()) recordedResult = json::object();
  // A Create resumed after a restart ran Observe first; run it the same way.
  auto resumed = recordedResult.find("resumed");
  input.resume =
      recorded.command == "Create" && resumed != recordedResult.end() && resumed->is_boolean() && resumed->get<bool>();
  runtime::EffectOutput out = executor.run(input);
  session.finish();
  factory_.setSession(nullptr);
  result.ran = true;
  const std::string head = "EffectCompleted seq " + std::to_string(ctx.completedSeq) + " (" + recorded.command + " #" +
                           std::to_string(recorded.effectId) + "): ";
  if (session.mismatch()) {
    result.mismatch = session.mismatch();
    return result;
  }
  // Typed fields only: the provider's message is human text and may be reworded.
  const auto recordedOutcome = fold::outcomeOf(recorded.outcome);
  const char* field = recordedOutcome != out.done.outcome                              ? "outcome"
                      : recorded.errorClass != out.errorClass                          ? "errorClass"
                      : !recorded.reason.empty() && recorded.reason != out.done.reason ? "reason"
                                                                                       : nullptr;
  if (field != nullptr) {
    result.mismatch =
        EffectMismatch{"effect outcome", head + outcomeText(recordedOutcome, recorded.errorClass, recorded.message),
                       outcomeText(out.done.outcome, out.errorClass, out.done.message), field};
    return result;
  }
  if (auto field = resultDifference(recordedResult, out.result)) {
    result.mismatch = EffectMismatch{"effect outcome", head + "result " + recordedResult.dump(),
                                     "result " + out.result.dump() + " (differs in \"" + *field + "\")" +
                                         (out.done.message.empty() ? "" : ": " + out.done.message),
                                     "result." + *field};
    return result;
  }
  result.updatedObject = out.updatedObject;
  return result;
}

Result<std::unique_ptr<providers::Provider>> providerServing(const journal::ObjectId& id) {
  for (const auto& name : providers::providerNames()) {
    auto provider = providers::makeProvider(name);
    if (!provider) continue;
    const providers::ProviderKinds kinds = provider->kinds();
    if (kinds.api.group == id.group && kinds.api.version == id.version && kinds.apiKind == id.kind) return provider;
  }
  return Status(Code::kNotFound, "no provider in this build serves " + id.group + "/" + id.version + " " + id.kind);
}

}  // namespace spr::replay
