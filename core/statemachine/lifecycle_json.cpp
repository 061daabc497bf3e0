// JSON snapshots of the lifecycle State (nlohmann_json; keys sorted, so the text is
// deterministic). A missing field takes its default (older snapshots); a field of the
// wrong type or an unknown enum name is kCorruption naming the field.
#include <nlohmann/json.hpp>

#include "core/statemachine/lifecycle.h"

namespace spr::lifecycle {
namespace {

using nlohmann::json;

constexpr Phase kAllPhases[] = {Phase::kPending,   Phase::kObserving, Phase::kCreating,       Phase::kUpdating,
                                Phase::kReady,     Phase::kDeleting,  Phase::kDeleted,        Phase::kBackoff,
                                Phase::kUserError, Phase::kIgnored,   Phase::kDeletionBlocked};
constexpr Op kAllOps[] = {Op::kObserve,      Op::kCreate,          Op::kUpdate,      Op::kDelete,
                          Op::kAddFinalizer, Op::kRemoveFinalizer, Op::kWriteStatus, Op::kClearOperationAnnotation,
                          Op::kCheckDeletion};

json statusJson(const StatusView& s) {
  return json{{"phase", s.phase},
              {"ready", s.ready},
              {"reason", s.reason},
              {"message", s.message},
              {"observedGeneration", s.observedGeneration}};
}

// Reads `key` of `j` into `out` if present. Throws json::exception on a type mismatch.
template <class T>
void read(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it != j.end()) out = it->get<T>();
}

Status readEnums(const json& j, State& s) {
  std::string phase = phaseName(s.phase);
  std::string op = opName(s.inflightOp);
  read(j, "phase", phase);
  read(j, "inflightOp", op);
  bool phaseOk = false, opOk = false;
  for (Phase p : kAllPhases) {
    if (phase == phaseName(p)) s.phase = p, phaseOk = true;
  }
  for (Op o : kAllOps) {
    if (op == opName(o)) s.inflightOp = o, opOk = true;
  }
  if (!phaseOk) return Status(Code::kCorruption, "lifecycle snapshot: unknown phase \"" + phase + "\"");
  if (!opOk) return Status(Code::kCorruption, "lifecycle snapshot: unknown inflightOp \"" + op + "\"");
  return Status::ok();
}

void readFields(const json& j, State& s) {
  read(j, "generation", s.generation);
  read(j, "observedGeneration", s.observedGeneration);
  read(j, "hasFinalizer", s.hasFinalizer);
  read(j, "deleting", s.deleting);
  read(j, "configPresent", s.configPresent);
  read(j, "pollIntervalMs", s.pollIntervalMs);
  read(j, "configHash", s.configHash);
  if (auto it = j.find("inflightEffect"); it != j.end() && !it->is_null()) s.inflightEffect = it->get<uint64_t>();
  read(j, "lastObserveAbsent", s.lastObserveAbsent);
  read(j, "attempt", s.attempt);
  read(j, "nextEffectId", s.nextEffectId);
  read(j, "timerToken", s.timerToken);
  read(j, "dirty", s.dirty);
  read(j, "ignored", s.ignored);
  read(j, "reconcileRequested", s.reconcileRequested);
  read(j, "userErrorReason", s.userErrorReason);
  read(j, "objectKey", s.objectKey);
  read(j, "statusWrite", s.statusWrite);
  read(j, "statusUnconfirmed", s.statusUnconfirmed);
  if (auto it = j.find("status"); it != j.end()) {
    read(*it, "phase", s.status.phase);
    read(*it, "ready", s.status.ready);
    read(*it, "reason", s.status.reason);
    read(*it, "message", s.status.message);
    read(*it, "observedGeneration", s.status.observedGeneration);
  }
}

}  // namespace

std::string toJson(const State& s) {
  json j{{"phase", phaseName(s.phase)},
         {"generation", s.generation},
         {"observedGeneration", s.observedGeneration},
         {"hasFinalizer", s.hasFinalizer},
         {"deleting", s.deleting},
         {"configPresent", s.configPresent},
         {"pollIntervalMs", s.pollIntervalMs},
         {"configHash", s.configHash},
         {"inflightEffect", s.inflightEffect ? json(*s.inflightEffect) : json(nullptr)},
         {"inflightOp", opName(s.inflightOp)},
         {"lastObserveAbsent", s.lastObserveAbsent},
         {"attempt", s.attempt},
         {"nextEffectId", s.nextEffectId},
         {"timerToken", s.timerToken},
         {"dirty", s.dirty},
         {"ignored", s.ignored},
         {"reconcileRequested", s.reconcileRequested},
         {"userErrorReason", s.userErrorReason},
         {"status", statusJson(s.status)},
         {"objectKey", s.objectKey},
         {"statusWrite", s.statusWrite},
         {"statusUnconfirmed", s.statusUnconfirmed}};
  // Replace invalid UTF-8 (from provider messages) instead of throwing.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<State> stateFromJson(const std::string& text) {
  try {
    return stateFromJsonObject(json::parse(text));
  } catch (const json::exception& e) {
    return Status(Code::kCorruption, std::string("lifecycle snapshot: ") + e.what());
  }
}

Result<State> stateFromJsonObject(const json& j) {
  try {
    if (!j.is_object()) return Status(Code::kCorruption, "lifecycle snapshot: not a JSON object");
    if (!j.contains("phase")) return Status(Code::kCorruption, "lifecycle snapshot: missing field \"phase\"");
    State s;
    SPR_RETURN_IF_ERROR(readEnums(j, s));
    readFields(j, s);
    return s;
  } catch (const json::exception& e) {
    return Status(Code::kCorruption, std::string("lifecycle snapshot: ") + e.what());
  }
}

}  // namespace spr::lifecycle
