#include "core/fold/fold_input.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace spr::fold {

using nlohmann::json;
namespace lc = lifecycle;

namespace {

const json& metadataOf(const json& object) {
  static const json kEmpty = json::object();
  if (!object.is_object()) return kEmpty;
  auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

bool deletionRequested(const json& meta) {
  auto it = meta.find("deletionTimestamp");
  return it != meta.end() && !it->is_null();
}

// A JSON number field as T, else `fallback` (the journal is data: never trust a type).
template <typename T>
T numberOr(const json& object, const char* key, T fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<T>() : fallback;
}
bool boolOr(const json& object, const char* key, bool fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() ? it->get<bool>() : fallback;
}
std::string stringOr(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A non-negative JSON integer (parsed JSON holds those as unsigned), capped at INT64_MAX; else 0.
int64_t integerOr0(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return 0;
  return it->is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT64_MAX))
                                  : it->get<int64_t>();
}

// status.phase, status.observedGeneration and the Ready condition, as the fold compares them
// with the status it wrote (an interrupted or overwritten status write is written again).
void readStatus(const json& object, lc::ObjectSeen& seen) {
  auto status = object.find("status");
  if (status == object.end() || !status->is_object()) return;
  seen.hasStatus = true;
  seen.statusPhase = stringOr(*status, "phase");
  seen.statusObservedGeneration = integerOr0(*status, "observedGeneration");
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return;
  for (const auto& c : *conditions) {
    if (!c.is_object() || stringOr(c, "type") != "Ready") continue;
    seen.statusReady = stringOr(c, "status") == "True";
    seen.statusReason = stringOr(c, "reason");
  }
}

// Durations are capped at a year: anything longer is a typo, and the cap keeps the
// millisecond arithmetic far from overflow.
constexpr double kMaxDurationMs = 365.0 * 24 * 3600 * 1000;

}  // namespace

lc::ObjectSeen objectSeenOf(const json& object) {
  lc::ObjectSeen seen;
  const json& meta = metadataOf(object);
  seen.generation = integerOr0(meta, "generation");
  seen.deleting = deletionRequested(meta);
  auto finalizers = meta.find("finalizers");
  if (finalizers != meta.end() && finalizers->is_array())
    for (const auto& f : *finalizers)
      if (f.is_string() && f.get<std::string>() == kFinalizer) seen.hasFinalizer = true;
  auto annotations = meta.find("annotations");
  if (annotations != meta.end() && annotations->is_object()) {
    auto it = annotations->find(kOperationAnnotation);
    if (it != annotations->end() && it->is_string()) seen.operation = it->get<std::string>();
  }
  if (object.is_object()) readStatus(object, seen);
  return seen;
}

lc::Input objectInputOf(journal::WatchType type, const json& object) {
  if (type == journal::WatchType::kDeleted) return lc::ObjectGone{};
  return objectSeenOf(object);
}

namespace {

// What the runtime stamps on its journaled copy of the ProviderConfig (runtime/ca_bundle.h):
// the resolved CA bundle's digest and the count of `reconcile` requests. "" when neither is
// stamped, so a config's hash is what it was before stamps existed.
std::string stampsOf(const json& meta) {
  auto annotations = meta.find("annotations");
  if (annotations == meta.end() || !annotations->is_object()) return "";
  std::string ca = stringOr(*annotations, "spr.openmcp.cloud/ca-bundle");
  std::string epoch = stringOr(*annotations, "spr.openmcp.cloud/reconcile-epoch");
  if (ca.empty() && epoch.empty()) return "";
  return "\n" + ca + "\n" + epoch;
}

}  // namespace

lc::ConfigSeen configSeenOf(journal::WatchType type, const json& object) {
  lc::ConfigSeen seen;
  if (type == journal::WatchType::kDeleted || !object.is_object()) return seen;
  seen.present = !deletionRequested(metadataOf(object));
  const json spec = object.value("spec", json::object());
  seen.pollIntervalMs = parseDurationMs(spec.is_object() ? spec.value("pollInterval", json()) : json(), 60000);
  seen.configHash = fnv1aHex(spec.dump() + stampsOf(metadataOf(object)));
  return seen;
}

bool isConfigRecord(const journal::Record& r) {
  const auto* o = std::get_if<journal::Observed>(&r.payload);
  return o != nullptr && o->cluster == "platform";
}

namespace {

// The provider reason in an old Transition's event text: "... reason=X message=...".
std::string legacyReasonOf(const std::string& event) {
  const std::string key = " reason=";
  const size_t messageAt = event.find(" message=\"");
  const size_t at = event.find(key);
  if (at == std::string::npos || (messageAt != std::string::npos && at > messageAt)) return "";
  const size_t start = at + key.size();
  const size_t end = event.find(' ', start);
  return event.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

std::optional<lc::Input> inputOf(const journal::Record& r, const std::string& legacyEvent) {
  if (const auto* o = std::get_if<journal::Observed>(&r.payload)) {
    json object = json::parse(o->objectJson, nullptr, false);
    if (object.is_discarded()) object = json();  // unreadable: a config absent, an object with no metadata
    if (o->cluster == "platform") return lc::Input(configSeenOf(o->type, object));
    return objectInputOf(o->type, object);
  }
  if (const auto* t = std::get_if<journal::TimerFired>(&r.payload)) return lc::Input(lc::TimerFired{t->token});
  if (const auto* c = std::get_if<journal::EffectCompleted>(&r.payload)) {
    lc::EffectDone done = effectDoneOf(*c);
    if (done.reason.empty()) done.reason = legacyReasonOf(legacyEvent);
    return lc::Input(done);
  }
  return std::nullopt;
}

lc::Outcome outcomeOf(journal::Outcome outcome) {
  switch (outcome) {
    case journal::Outcome::kSucceeded: return lc::Outcome::kSucceeded;
    case journal::Outcome::kTransientError: return lc::Outcome::kTransientError;
    case journal::Outcome::kUserError: return lc::Outcome::kUserError;
    case journal::Outcome::kUnknown: return lc::Outcome::kUnknown;
  }
  return lc::Outcome::kUnknown;
}

journal::Outcome journalOutcomeOf(lc::Outcome outcome) {
  switch (outcome) {
    case lc::Outcome::kSucceeded: return journal::Outcome::kSucceeded;
    case lc::Outcome::kTransientError: return journal::Outcome::kTransientError;
    case lc::Outcome::kUserError: return journal::Outcome::kUserError;
    case lc::Outcome::kUnknown: return journal::Outcome::kUnknown;
  }
  return journal::Outcome::kUnknown;
}

Result<lc::Op> opFromName(const std::string& name) {
  for (lc::Op op :
       {lc::Op::kObserve, lc::Op::kCreate, lc::Op::kUpdate, lc::Op::kDelete, lc::Op::kAddFinalizer,
        lc::Op::kRemoveFinalizer, lc::Op::kWriteStatus, lc::Op::kClearOperationAnnotation, lc::Op::kCheckDeletion})
    if (name == lc::opName(op)) return op;
  return Status(Code::kInvalidArgument, "unknown command '" + name + "'");
}

journal::EffectCompleted completedOf(const lc::EffectDone& done, const std::string& errorClass, const json& result,
                                     std::vector<journal::TapeEntry> tape) {
  journal::EffectCompleted c;
  c.effectId = done.effectId;
  c.command = lc::opName(done.op);
  c.outcome = journalOutcomeOf(done.outcome);
  c.errorClass = errorClass;
  c.message = done.message;
  c.resultJson = result.is_null() ? "null" : result.dump();
  c.tape = std::move(tape);
  c.reason = done.reason;
  return c;
}

lc::EffectDone effectDoneOf(const journal::EffectCompleted& c) {
  lc::EffectDone done;
  done.effectId = c.effectId;
  auto op = opFromName(c.command);
  if (op) done.op = *op;
  done.outcome = outcomeOf(c.outcome);
  json result = json::parse(c.resultJson.empty() ? "{}" : c.resultJson, nullptr, false);
  if (result.is_object()) {
    done.exists = boolOr(result, "exists", false);
    done.drift = boolOr(result, "drift", false);
    done.ready = boolOr(result, "ready", true);
    done.blocked = boolOr(result, "blocked", false);
  }
  // Typed since schema field EffectCompleted.reason; before, only in resultJson.
  done.reason = !c.reason.empty() ? c.reason : result.is_object() ? stringOr(result, "reason") : std::string();
  done.message = c.message;
  return done;
}

journal::EffectRequested requestedOf(const lc::Command& command, json context, uint64_t causeSeq) {
  if (!context.is_object()) context = json::object();
  if (command.op == lc::Op::kWriteStatus)
    context["status"] = {{"phase", command.status.phase},
                         {"ready", command.status.ready},
                         {"reason", command.status.reason},
                         {"message", command.status.message},
                         {"observedGeneration", command.status.observedGeneration}};
  return journal::EffectRequested{command.effectId, lc::opName(command.op), context.dump(), causeSeq};
}

Result<lc::Command> commandOf(const journal::EffectRequested& requested) {
  auto op = opFromName(requested.command);
  if (!op)
    return Status(Code::kInvalidArgument,
                  "effect #" + std::to_string(requested.effectId) + ": " + op.status().message());
  lc::Command command;
  command.op = *op;
  command.effectId = requested.effectId;
  if (command.op != lc::Op::kWriteStatus) return command;
  json in = json::parse(requested.inputJson, nullptr, false);
  if (!in.is_object() || !in.contains("status") || !in["status"].is_object())
    return Status(Code::kInvalidArgument,
                  "WriteStatus #" + std::to_string(requested.effectId) + ": its inputJson has no status object");
  const json& s = in["status"];
  command.status.phase = stringOr(s, "phase");
  command.status.ready = boolOr(s, "ready", false);
  command.status.reason = stringOr(s, "reason");
  command.status.message = stringOr(s, "message");
  command.status.observedGeneration = numberOr<int64_t>(s, "observedGeneration", 0);
  return command;
}

journal::Transition transitionOf(lc::Phase from, const lc::FoldResult& result, const lc::Input& input,
                                 uint64_t inputSeq) {
  journal::Transition t;
  t.from = lc::phaseName(from);
  t.to = lc::phaseName(result.rejected ? from : result.state.phase);
  t.event = result.rejected ? "rejected: " + result.reason : lc::describe(input);
  t.inputSeq = inputSeq;
  t.rejected = result.rejected;
  return t;
}

bool wasRejected(const journal::Transition& t) {
  static const std::string kLegacyPrefix = "rejected: ";  // what records before the typed flag said
  return t.rejected || t.event.compare(0, kLegacyPrefix.size(), kLegacyPrefix) == 0;
}

int64_t parseDurationMs(const json& value, int64_t fallbackMs) {
  if (value.is_number()) {
    double ms = value.get<double>() * 1000;
    return std::isfinite(ms) && ms > 0 && ms <= kMaxDurationMs ? static_cast<int64_t>(ms) : fallbackMs;
  }
  if (!value.is_string()) return fallbackMs;
  const std::string text = value.get<std::string>();
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    const std::string digits = text.substr(start, i - start);
    char* end = nullptr;
    double number = std::strtod(digits.c_str(), &end);
    if (digits.empty() || end != digits.c_str() + digits.size() || !std::isfinite(number))
      return fallbackMs;  // "", ".", "1.2.3"
    size_t unitStart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string unit = text.substr(unitStart, i - unitStart);
    if (unit == "ms")
      total += number;
    else if (unit == "s" || unit.empty())
      total += number * 1000;
    else if (unit == "m")
      total += number * 60000;
    else if (unit == "h")
      total += number * 3600000;
    else
      return fallbackMs;
  }
  return total > 0 && total <= kMaxDurationMs ? static_cast<int64_t>(total) : fallbackMs;
}

std::string fnv1aHex(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

}  // namespace spr::fold
