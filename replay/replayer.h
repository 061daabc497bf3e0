// The replay engine: feeds journal records, in sequence order, through this build's
// lifecycle fold (no cluster) and compares what it produces with what was recorded, field
// by typed field: each Transition's phases and rejection, the EffectRequested commands of
// the same batch (op, effect id, status phase/ready/reason/observedGeneration), the final
// state, and (through an EffectChecker) the cluster requests provider ops make against
// their tapes. Human text (describe(), messages) is never compared, so rewording it makes
// no divergence. Stops at the first divergence. Not thread-safe: one Replayer per replay.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/journal/record.h"
#include "core/statemachine/lifecycle.h"
#include "replay/effect_checker.h"

namespace spr::replay {

using FoldFn = std::function<lifecycle::FoldResult(const lifecycle::State&, const lifecycle::Input&)>;

struct ReplayOptions {
  std::string objectKey;             // replay only this object (ObjectId::key()); "" = every object
  uint64_t untilSeq = 0;             // stop after this sequence; 0 = to the end
  FoldFn fold;                       // empty = lifecycle::fold (tests change one decision here)
  EffectChecker* effects = nullptr;  // re-runs provider ops against their tapes; may be null
  size_t contextRecords = 5;         // records shown before a divergence
};

// A typed difference between the journal and this build.
struct Divergence {
  std::string object;  // "<namespace>/<name>"
  std::string objectKey;
  uint64_t seq = 0;                 // the record where the journal and this build differ
  std::string what;                 // "transition", "command", "state", "input", "cluster request", "effect outcome"
  std::string field;                // which field differs, e.g. "to", "op", "status.reason", "phase"
  std::string expected, got;        // the journal's value, this build's value
  std::string note;                 // human context (event texts, requests); never compared
  std::vector<std::string> before;  // "seq N <time> <summary>", oldest first
};

// One object as of the last record fed.
struct ObjectReplay {
  journal::ObjectId id;
  std::string tenant;
  lifecycle::State state;
  nlohmann::json object;                           // its last API object (redacted, from the journal)
  std::map<uint64_t, lifecycle::Command> pending;  // requested, not yet completed
  std::map<uint64_t, int64_t> requestedAt;         // effect id -> wall time of its EffectRequested
  std::map<uint64_t, uint64_t> requestedConfig;    // effect id -> the config seq its EffectRequested names
  uint64_t lastSeq = 0, folds = 0;
  uint64_t lastWatchEventFolded = 0;           // seq of the newest onboarding Observed a Transition folded
  bool started = false;                        // folded at least once, or restored from a snapshot
  std::map<uint64_t, journal::Record> inputs;  // input records awaiting their Transition
  std::vector<lifecycle::Command> expected;    // produced, not yet matched to EffectRequested
  uint64_t expectedCause = 0;                  // the Transition that produced `expected`
  std::deque<std::string> recent;              // context for divergence reports
};

class Replayer {
 public:
  explicit Replayer(ReplayOptions options);

  // Restores objects (and carried inputs) from a Snapshot written by `spr journal compact`.
  [[nodiscard]] Status preloadSnapshot(const journal::Record& snapshot);
  // Looks up a record outside what is fed (e.g. the ProviderConfig event a ConfigSeen refers
  // to when replaying one object). May be unset.
  void setLookup(std::function<std::optional<journal::Record>(uint64_t seq)> lookup) { lookup_ = std::move(lookup); }
  // Feeds the next record (ascending seq). Returns false when replay should stop
  // (a divergence, or past untilSeq).
  bool feed(const journal::Record& record);
  // End of input: commands this build produced that the journal does not have diverge.
  void finish();
  // Compares each object's folded state with the journal's state table (a full replay).
  void checkStates(const std::function<std::optional<std::string>(const std::string& key)>& stateBlob);

  const std::optional<Divergence>& divergence() const { return divergence_; }
  const std::map<std::string, ObjectReplay>& objects() const { return objects_; }
  // The ProviderConfig events seen so far (fed, or restored from a snapshot), by seq.
  const std::map<uint64_t, journal::Record>& configs() const { return configs_; }
  // Records checked: the replayed objects' records and the ProviderConfig records (never
  // the records of objects filtered out by objectKey).
  uint64_t records() const { return records_; }
  uint64_t folds() const { return folds_; }
  // EffectCompleted records whose op was re-run against its tape (ReplayOptions::effects).
  uint64_t effectsChecked() const { return effectsChecked_; }
  uint64_t tapeRequests() const { return tapeRequests_; }

 private:
  void onTransition(ObjectReplay& o, const journal::Record& r, const journal::Transition& t);
  void onRequested(ObjectReplay& o, const journal::Record& r, const journal::EffectRequested& q);
  void onCompleted(ObjectReplay& o, const journal::Record& r, const journal::EffectCompleted& c);
  std::optional<journal::Record> findInput(ObjectReplay& o, uint64_t seq);
  void diverge(const ObjectReplay& o, uint64_t seq, std::string what, std::string field, std::string expected,
               std::string got, std::string note = "");
  ObjectReplay& track(const journal::Record& r);
  void remember(ObjectReplay& o, const journal::Record& r);

  ReplayOptions options_;
  std::function<std::optional<journal::Record>(uint64_t)> lookup_;
  std::map<std::string, ObjectReplay> objects_;
  std::map<uint64_t, journal::Record> configs_;  // ProviderConfig events by seq
  std::optional<Divergence> divergence_;
  uint64_t records_ = 0, folds_ = 0, effectsChecked_ = 0, tapeRequests_ = 0;
  bool stopped_ = false;
};

}  // namespace spr::replay
