#include "replay/inputs.h"

#include <nlohmann/json.hpp>

#include "runtime/object_util.h"

namespace spr::replay {

using nlohmann::json;
namespace lc = lifecycle;

bool isConfigRecord(const journal::Record& r) {
  const auto* o = std::get_if<journal::Observed>(&r.payload);
  return o != nullptr && o->cluster == "platform";
}

lc::ConfigSeen configSeenOf(const journal::Observed& observed) {
  lc::ConfigSeen seen;
  if (observed.type == journal::WatchType::kDeleted) return seen;
  json object = json::parse(observed.objectJson, nullptr, false);
  if (!object.is_object()) return seen;
  const json meta = object.value("metadata", json::object());
  seen.present = !(meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null());
  const json spec = object.value("spec", json::object());
  seen.pollIntervalMs = runtime::parseDurationMs(spec.value("pollInterval", json()), 60000);
  seen.configHash = runtime::fnv1aHex(spec.dump());
  return seen;
}

namespace {

// The provider reason from a folded EffectDone's description: "... reason=X message=...".
std::string reasonFromEvent(const std::string& event) {
  const std::string key = " reason=";
  size_t messageAt = event.find(" message=\"");
  size_t at = event.find(key);
  if (at == std::string::npos || (messageAt != std::string::npos && at > messageAt)) return "";
  size_t start = at + key.size();
  size_t end = event.find(' ', start);
  return event.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

lc::EffectDone effectDoneOf(const journal::EffectCompleted& c, const std::string& event) {
  lc::EffectDone done;
  done.effectId = c.effectId;
  auto op = opFromName(c.command);
  if (op) done.op = *op;
  done.outcome = static_cast<lc::Outcome>(static_cast<int>(c.outcome));
  json result = json::parse(c.resultJson.empty() ? "{}" : c.resultJson, nullptr, false);
  if (result.is_object()) {
    done.exists = result.value("exists", false);
    done.drift = result.value("drift", false);
    done.ready = result.value("ready", true);
    done.reason = result.value("reason", std::string());
  }
  if (done.reason.empty()) done.reason = reasonFromEvent(event);
  done.message = c.message;
  return done;
}

}  // namespace

std::optional<lc::Input> inputOf(const journal::Record& r, const std::string& recordedEvent) {
  if (const auto* o = std::get_if<journal::Observed>(&r.payload)) {
    if (o->cluster == "platform") return lc::Input(configSeenOf(*o));
    if (o->type == journal::WatchType::kDeleted) return lc::Input(lc::ObjectGone{});
    json object = json::parse(o->objectJson, nullptr, false);
    return lc::Input(runtime::objectSeenOf(object.is_discarded() ? json::object() : object));
  }
  if (const auto* t = std::get_if<journal::TimerFired>(&r.payload)) return lc::Input(lc::TimerFired{t->token});
  if (const auto* c = std::get_if<journal::EffectCompleted>(&r.payload)) return lc::Input(effectDoneOf(*c, recordedEvent));
  return std::nullopt;
}

Result<lc::Op> opFromName(const std::string& name) {
  for (lc::Op op : {lc::Op::kObserve, lc::Op::kCreate, lc::Op::kUpdate, lc::Op::kDelete, lc::Op::kAddFinalizer,
                    lc::Op::kRemoveFinalizer, lc::Op::kWriteStatus, lc::Op::kClearOperationAnnotation})
    if (name == lc::opName(op)) return op;
  return Status(Code::kInvalidArgument, "unknown command '" + name + "'");
}

Result<lc::Command> commandOf(const journal::EffectRequested& requested) {
  auto op = opFromName(requested.command);
  if (!op) return op.status();
  lc::Command command;
  command.op = *op;
  command.effectId = requested.effectId;
  if (command.op == lc::Op::kWriteStatus) {
    json in = json::parse(requested.inputJson, nullptr, false);
    if (!in.is_object() || !in.contains("status") || !in["status"].is_object())
      return Status(Code::kInvalidArgument, "WriteStatus request without a status");
    const json& s = in["status"];
    command.status.phase = s.value("phase", "");
    command.status.ready = s.value("ready", false);
    command.status.reason = s.value("reason", "");
    command.status.message = s.value("message", "");
    command.status.observedGeneration = s.value("observedGeneration", int64_t{0});
  }
  return command;
}

}  // namespace spr::replay
