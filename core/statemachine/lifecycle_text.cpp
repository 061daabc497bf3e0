// Names, one-line descriptions and the deterministic backoff of the lifecycle fold.
#include <algorithm>
#include <string>

#include "core/statemachine/lifecycle.h"

namespace spr::lifecycle {
namespace {

std::string yesNo(bool b) { return b ? "true" : "false"; }

// Quotes free text so a description stays one line.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out + "\"";
}

struct InputText {
  std::string operator()(const ObjectSeen& o) const {
    return "ObjectSeen gen=" + std::to_string(o.generation) + " deleting=" + yesNo(o.deleting) +
           " finalizer=" + yesNo(o.hasFinalizer) + (o.operation.empty() ? "" : " operation=" + o.operation);
  }
  std::string operator()(const ObjectGone&) const { return "ObjectGone"; }
  std::string operator()(const ConfigSeen& c) const {
    if (!c.present) return "ConfigSeen absent";
    return "ConfigSeen present poll=" + std::to_string(c.pollIntervalMs) + "ms hash=" + c.configHash;
  }
  std::string operator()(const TimerFired& t) const { return "TimerFired token=" + std::to_string(t.token); }
  std::string operator()(const EffectDone& d) const {
    std::string s = "EffectDone #" + std::to_string(d.effectId) + " " + opName(d.op) + " " + outcomeName(d.outcome);
    if (d.op == Op::kObserve && d.outcome == Outcome::kSucceeded) {
      s += " exists=" + yesNo(d.exists) + " drift=" + yesNo(d.drift) + " ready=" + yesNo(d.ready);
    }
    if (d.op == Op::kCheckDeletion && d.outcome == Outcome::kSucceeded) s += " blocked=" + yesNo(d.blocked);
    if (!d.reason.empty()) s += " reason=" + d.reason;
    if (!d.message.empty()) s += " message=" + quoted(d.message);
    return s;
  }
};

struct CommandText {
  std::string operator()(const Command& c) const {
    std::string s = std::string(opName(c.op)) + " #" + std::to_string(c.effectId);
    if (c.op == Op::kWriteStatus) {
      s += " phase=" + c.status.phase + " ready=" + yesNo(c.status.ready) + " reason=" + c.status.reason +
           " observedGeneration=" + std::to_string(c.status.observedGeneration) +
           " message=" + quoted(c.status.message);
    }
    return s;
  }
  std::string operator()(const RequeueAfter& r) const {
    return "RequeueAfter " + std::to_string(r.delayMs) + "ms token=" + std::to_string(r.token);
  }
};

// FNV-1a over the key, then a splitmix64 finalizer with the attempt mixed in.
uint64_t jitterHash(const std::string& key, uint32_t attempt) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= static_cast<uint64_t>(attempt) + 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

const char* phaseName(Phase phase) {
  switch (phase) {
    case Phase::kPending: return "Pending";
    case Phase::kObserving: return "Observing";
    case Phase::kCreating: return "Creating";
    case Phase::kUpdating: return "Updating";
    case Phase::kReady: return "Ready";
    case Phase::kDeleting: return "Deleting";
    case Phase::kDeleted: return "Deleted";
    case Phase::kBackoff: return "Backoff";
    case Phase::kUserError: return "UserError";
    case Phase::kIgnored: return "Ignored";
    case Phase::kDeletionBlocked: return "DeletionBlocked";
  }
  return "Unknown";
}

const char* opName(Op op) {
  switch (op) {
    case Op::kObserve: return "Observe";
    case Op::kCreate: return "Create";
    case Op::kUpdate: return "Update";
    case Op::kDelete: return "Delete";
    case Op::kAddFinalizer: return "AddFinalizer";
    case Op::kRemoveFinalizer: return "RemoveFinalizer";
    case Op::kWriteStatus: return "WriteStatus";
    case Op::kClearOperationAnnotation: return "ClearOperationAnnotation";
    case Op::kCheckDeletion: return "CheckDeletion";
  }
  return "Unknown";
}

const char* outcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSucceeded: return "Succeeded";
    case Outcome::kTransientError: return "TransientError";
    case Outcome::kUserError: return "UserError";
    case Outcome::kUnknown: return "Unknown";
  }
  return "Invalid";
}

bool operator==(const StatusView& a, const StatusView& b) {
  return a.phase == b.phase && a.ready == b.ready && a.reason == b.reason && a.message == b.message &&
         a.observedGeneration == b.observedGeneration;
}

std::string describe(const Input& input) { return std::visit(InputText{}, input); }
std::string describe(const AnyCommand& command) { return std::visit(CommandText{}, command); }

int64_t backoffDelayMs(const std::string& objectKey, uint32_t attempt) {
  constexpr int64_t kCapMs = 5 * 60 * 1000;
  const int64_t base = attempt >= 20 ? kCapMs : std::min<int64_t>(kCapMs, int64_t{1000} << attempt);
  const int64_t span = base / 5;  // +/- 20%
  const auto offset = static_cast<int64_t>(jitterHash(objectKey, attempt) % static_cast<uint64_t>(2 * span + 1));
  return std::clamp<int64_t>(base - span + offset, 1, kCapMs);
}

}  // namespace spr::lifecycle
