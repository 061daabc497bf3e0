// Values passed between the reconciler loop and the effect executor: what a command
// needs (the object, the ProviderConfig) and what it produced (outcome, Observe's
// answer, the updated object, the tape). Plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/journal/record.h"
#include "core/statemachine/lifecycle.h"

namespace spr::runtime {

struct EffectInput {
  lifecycle::Command command;
  nlohmann::json object;   // the API object as last observed (unredacted; never journaled as is)
  nlohmann::json config;   // the ProviderConfig object, or null when absent
  uint64_t configSeq = 0;  // the journal record the config came from (0 = none)
  lifecycle::Phase phase = lifecycle::Phase::kPending;  // the phase before the command (for Events)
  std::string previousStatusPhase;                      // status.phase before a WriteStatus
  // A Create journaled before a crash that never completed, run again on restart under the
  // same effect id: Observe first, and Create only when the service is absent.
  bool resume = false;
};

struct EffectOutput {
  lifecycle::EffectDone done;
  std::string errorClass;                            // "" on success, else e.g. "Unavailable", "Invalid", "Conflict"
  nlohmann::json result = nlohmann::json::object();  // e.g. {"exists":true,"drift":false,"ready":true}
  nlohmann::json updatedObject;                      // the object after a finalizer/status/annotation write, or null
  bool objectGone = false;                           // the API object no longer exists (404 on write)
  bool unauthorized = false;                         // credentials refused (401/403)
  // Shutdown aborted the effect's cluster calls: its outcome is not known, so it is not
  // journaled; the restart resolves it as Unknown, as after kill -9.
  bool interrupted = false;
  std::vector<journal::TapeEntry> tape;
};

// Runs one command against the clusters (or, for replay, against a tape).
// Implementations must be safe to call concurrently for different objects.
class EffectRunner {
 public:
  virtual ~EffectRunner() = default;
  virtual EffectOutput run(const EffectInput& input) = 0;
};

}  // namespace spr::runtime
