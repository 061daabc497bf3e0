// Journal records as plain C++ values: the envelope (sequence, schema version, wall
// time, object id, tenant, hash chain) and one payload of six kinds. No Cap'n Proto
// here; core/journal/codec.h converts to and from the on-disk bytes.
// Plain values: safe to copy and to share read-only between threads.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace spr::journal {

// The schema version this build writes. Readers refuse records/journals with a newer one.
// 2: ProcessStarted records; text of kBodyThreshold bytes or more is stored by digest in the `bodies` column family
// (core/journal/bodies.h); records of version 1 keep all text inline.
// 3: EffectRequested.inputJson of kBodyThreshold bytes or more is stored by digest too (inline in versions 1-2).
constexpr uint32_t kSchemaVersion = 3;

struct ObjectId {
  std::string cluster, group, version, kind, ns, name, uid;
  // Stable index key "cluster/group/kind/ns/name" (no version, no uid); ns empty for
  // cluster-scoped objects.
  std::string key() const;
};

enum class WatchType { kAdded, kModified, kDeleted, kBookmark };

// A watch event. objectJson has Secret data and credentials redacted by the writer.
struct Observed {
  std::string cluster;
  WatchType type = WatchType::kAdded;
  std::string objectJson;
  std::string resourceVersion;
  int64_t generation = 0;
  // The stored form only (a record as decoded from the log, before its bodies are read
  // back): SHA-256 of objectJson, which is then empty. Records returned by Journal reads
  // have the text back and this empty. Same for the other *Digest fields.
  std::string objectJsonDigest{};  // {}: callers may omit it in aggregate initialisers
};

struct TimerFired {
  std::string timer;
  uint64_t token = 0;
  int64_t dueUnixNanos = 0;
};

struct EffectRequested {
  uint64_t effectId = 0;
  std::string command;
  std::string inputJson;
  uint64_t causeSeq = 0;
  std::string inputJsonDigest{};  // stored form only, schema >= 3 (see Observed)
};

enum class Outcome { kSucceeded, kTransientError, kUserError, kUnknown };

// One cluster request and its response, as made by an effect (bodies redacted).
struct TapeEntry {
  std::string cluster, method, path, requestBody;
  int32_t status = 0;
  std::string responseBody, error;
  std::string requestBodyDigest{}, responseBodyDigest{};  // stored form only (see Observed)
  // Stored form only: this entry, alone in its tape, stands for the whole tape, stored as
  // one body (bodies.h).
  std::string tapeDigest{};
};

struct EffectCompleted {
  uint64_t effectId = 0;
  std::string command;
  Outcome outcome = Outcome::kSucceeded;
  std::string errorClass, message, resultJson;
  std::vector<TapeEntry> tape;
  std::string reason;  // the provider's CamelCase reason ("" in records before the field)
};

struct Transition {
  std::string from, to, event;
  uint64_t inputSeq = 0;
  bool rejected = false;  // the fold rejected the input (false in records before the field)
};

struct Snapshot {
  std::string stateJson;
  uint64_t throughSeq = 0;
};

// A `spr run` start. flagsDigest covers flag values; the values themselves never reach the journal.
struct ProcessStarted {
  std::string version, build, flagsDigest, flagNames, hostname;
  int64_t pid = 0;
};

// The object id ProcessStarted records carry, so they are found through the object index.
inline ObjectId processObjectId() { return ObjectId{"spr", "", "", "Process", "", "spr", ""}; }

using Payload =
    std::variant<Observed, TimerFired, EffectRequested, EffectCompleted, Transition, Snapshot, ProcessStarted>;

struct Record {
  uint64_t seq = 0;
  uint32_t schemaVersion = kSchemaVersion;
  int64_t wallUnixNanos = 0;
  ObjectId object;
  std::string tenant;
  std::string prevHash, hash;  // 32 raw bytes each (SHA-256); empty before append
  Payload payload;
};

// "Observed", "TimerFired", "EffectRequested", "EffectCompleted", "Transition", "Snapshot", "ProcessStarted".
const char* payloadKind(const Payload& payload);
const char* watchTypeName(WatchType type);  // "ADDED", "MODIFIED", "DELETED", "BOOKMARK"
const char* outcomeName(Outcome outcome);   // "Succeeded", "TransientError", ...
// Lower-case hex of raw bytes.
std::string toHex(const std::string& bytes);

bool operator==(const ObjectId& a, const ObjectId& b);
bool operator==(const TapeEntry& a, const TapeEntry& b);
bool operator==(const Observed& a, const Observed& b);
bool operator==(const TimerFired& a, const TimerFired& b);
bool operator==(const EffectRequested& a, const EffectRequested& b);
bool operator==(const EffectCompleted& a, const EffectCompleted& b);
bool operator==(const Transition& a, const Transition& b);
bool operator==(const Snapshot& a, const Snapshot& b);
bool operator==(const ProcessStarted& a, const ProcessStarted& b);
bool operator==(const Record& a, const Record& b);

}  // namespace spr::journal
