// ObjectId keys, names of enum values, hex and equality for journal records.
#include "core/journal/record.h"

namespace spr::journal {

std::string ObjectId::key() const { return cluster + "/" + group + "/" + kind + "/" + ns + "/" + name; }

const char* payloadKind(const Payload& payload) {
  static constexpr const char* kNames[] = {"Observed",   "TimerFired", "EffectRequested", "EffectCompleted",
                                           "Transition", "Snapshot",   "ProcessStarted"};
  return kNames[payload.index()];
}

const char* watchTypeName(WatchType type) {
  switch (type) {
    case WatchType::kAdded: return "ADDED";
    case WatchType::kModified: return "MODIFIED";
    case WatchType::kDeleted: return "DELETED";
    case WatchType::kBookmark: return "BOOKMARK";
  }
  return "UNKNOWN";
}

const char* outcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSucceeded: return "Succeeded";
    case Outcome::kTransientError: return "TransientError";
    case Outcome::kUserError: return "UserError";
    case Outcome::kUnknown: return "Unknown";
  }
  return "Unknown";
}

std::string toHex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

bool operator==(const ObjectId& a, const ObjectId& b) {
  return a.cluster == b.cluster && a.group == b.group && a.version == b.version && a.kind == b.kind && a.ns == b.ns &&
         a.name == b.name && a.uid == b.uid;
}
bool operator==(const TapeEntry& a, const TapeEntry& b) {
  return a.cluster == b.cluster && a.method == b.method && a.path == b.path && a.requestBody == b.requestBody &&
         a.status == b.status && a.responseBody == b.responseBody && a.error == b.error &&
         a.requestBodyDigest == b.requestBodyDigest && a.responseBodyDigest == b.responseBodyDigest &&
         a.tapeDigest == b.tapeDigest;
}
bool operator==(const Observed& a, const Observed& b) {
  return a.cluster == b.cluster && a.type == b.type && a.objectJson == b.objectJson &&
         a.resourceVersion == b.resourceVersion && a.generation == b.generation &&
         a.objectJsonDigest == b.objectJsonDigest;
}
bool operator==(const TimerFired& a, const TimerFired& b) {
  return a.timer == b.timer && a.token == b.token && a.dueUnixNanos == b.dueUnixNanos;
}
bool operator==(const EffectRequested& a, const EffectRequested& b) {
  return a.effectId == b.effectId && a.command == b.command && a.inputJson == b.inputJson && a.causeSeq == b.causeSeq &&
         a.inputJsonDigest == b.inputJsonDigest;
}
bool operator==(const EffectCompleted& a, const EffectCompleted& b) {
  return a.effectId == b.effectId && a.command == b.command && a.outcome == b.outcome && a.errorClass == b.errorClass &&
         a.message == b.message && a.resultJson == b.resultJson && a.tape == b.tape && a.reason == b.reason;
}
bool operator==(const Transition& a, const Transition& b) {
  return a.from == b.from && a.to == b.to && a.event == b.event && a.inputSeq == b.inputSeq && a.rejected == b.rejected;
}
bool operator==(const Snapshot& a, const Snapshot& b) {
  return a.stateJson == b.stateJson && a.throughSeq == b.throughSeq;
}
bool operator==(const ProcessStarted& a, const ProcessStarted& b) {
  return a.version == b.version && a.build == b.build && a.flagsDigest == b.flagsDigest && a.flagNames == b.flagNames &&
         a.hostname == b.hostname && a.pid == b.pid;
}
bool operator==(const Record& a, const Record& b) {
  return a.seq == b.seq && a.schemaVersion == b.schemaVersion && a.wallUnixNanos == b.wallUnixNanos &&
         a.object == b.object && a.tenant == b.tenant && a.prevHash == b.prevHash && a.hash == b.hash &&
         a.payload == b.payload;
}

}  // namespace spr::journal
