// The seam through which replay re-runs provider operations against their tapes: given
// the command, the API object and ProviderConfig as replay knows them, and the recorded
// EffectCompleted, an EffectChecker re-executes the op with every cluster request answered
// from the tape and reports the first difference. The tape-backed implementation
// (replay/tape_checker.h) needs spr_runtime (EffectExecutor) and is built only where that
// library exists. Implementations are used from one replay thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/journal/record.h"
#include "core/statemachine/lifecycle.h"

namespace spr::replay {

struct EffectContext {
  lifecycle::Command command;
  nlohmann::json object;  // the API object as the live run had it before the command (redacted)
  nlohmann::json config;  // the ProviderConfig in force, or null
  uint64_t configSeq = 0;
  std::string configName;  // the ProviderConfig's name (= the live --provider-name), "" if none seen
  lifecycle::Phase phase = lifecycle::Phase::kPending;
  uint64_t completedSeq = 0;       // the EffectCompleted record being checked
  int64_t requestedWallNanos = 0;  // wall time of the EffectRequested record (0 = unknown)
  int64_t completedWallNanos = 0;  // wall time of the EffectCompleted record
};

struct EffectMismatch {
  std::string what = "cluster request";  // or "effect outcome" (outcome, message, Observe's answer)
  std::string recorded, produced;        // e.g. the tape's request vs the request this build made
  std::string field;                     // the differing field, e.g. "outcome", "request body" ("" = whole)
};

struct EffectCheck {
  bool ran = false;                        // the op was re-run (false: this checker cannot)
  std::optional<EffectMismatch> mismatch;  // the first difference, if any
  nlohmann::json updatedObject;            // the API object after the effect, or null (unchanged)
};

class EffectChecker {
 public:
  virtual ~EffectChecker() = default;
  virtual EffectCheck check(const EffectContext& context, const journal::EffectCompleted& recorded) = 0;
};

}  // namespace spr::replay
