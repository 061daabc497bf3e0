// The per-object lifecycle fold: fold(state, input) -> (state, commands).
// Pure and deterministic (no clock, I/O or randomness; backoff jitter is a hash of
// (objectKey, attempt)), so replay reproduces the same commands byte for byte.
// All functions are stateless and safe to call from any thread. Rules: LIFECYCLE.md.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

namespace spr::lifecycle {

enum class Phase {
  kPending,    // seen, finalizer not yet added
  kObserving,  // an Observe is in flight
  kCreating,   // a Create is in flight (only after Observe said absent)
  kUpdating,   // an Update is in flight (Observe said drift)
  kReady,      // in sync; a poll timer is armed
  kDeleting,   // deletion path: Observe / Delete / RemoveFinalizer
  kDeleted,    // terminal (finalizer removed, or the API object is gone)
  kBackoff,    // transient error; waiting for the backoff timer
  kUserError,  // waits for a new generation or a changed ProviderConfig, no retry
  kIgnored,    // openmcp.cloud/operation: ignore
  // Deleting, but users' resources of the service's kinds are still on the MCP: nothing is
  // deleted; CheckDeletion again after kDeletionRecheckMs.
  kDeletionBlocked,
};
const char* phaseName(Phase phase);  // "Pending", "Observing", ...

// ---- Inputs, built by the runtime from journal records.
struct ObjectSeen {
  int64_t generation = 0;
  bool deleting = false;      // deletionTimestamp set
  bool hasFinalizer = false;  // our finalizer is on the object
  std::string operation;      // openmcp.cloud/operation annotation: "", "ignore", "reconcile"
  // The status the object carries (phase, Ready condition's status and reason,
  // observedGeneration; the message is not compared, the runtime may reword it), so the
  // fold can re-assert its own status when the cluster shows something else.
  bool hasStatus = false;
  std::string statusPhase{};
  std::string statusReason{};
  bool statusReady = false;
  int64_t statusObservedGeneration = 0;
};
struct ObjectGone {};  // the API object no longer exists (watch DELETED)
struct ConfigSeen {    // ProviderConfig (absent or being deleted -> present=false)
  bool present = false;
  int64_t pollIntervalMs = 60000;
  std::string configHash;
};
struct TimerFired {  // a RequeueAfter came due
  uint64_t token = 0;
};

enum class Op {
  kObserve,
  kCreate,
  kUpdate,
  kDelete,
  kAddFinalizer,
  kRemoveFinalizer,
  kWriteStatus,
  kClearOperationAnnotation,
  kCheckDeletion,  // ask the provider what blocks deletion (read-only; before every Delete)
};
const char* opName(Op op);  // "Observe", "Create", ...

enum class Outcome { kSucceeded, kTransientError, kUserError, kUnknown /* crashed before completion */ };
const char* outcomeName(Outcome outcome);  // "Succeeded", "TransientError", ...

struct EffectDone {
  uint64_t effectId = 0;
  Op op = Op::kObserve;
  Outcome outcome = Outcome::kSucceeded;
  bool exists = false;   // Observe's answer: the service exists
  bool drift = false;    // Observe's answer: the service differs from the spec
  bool ready = true;     // Observe's answer: the service is ready
  std::string message;   // provider's human text (errors, progress)
  std::string reason;    // provider's CamelCase reason, e.g. "InvalidSpec"
  bool blocked = false;  // CheckDeletion's answer: users' resources block deletion (message names them)
};

using Input = std::variant<ObjectSeen, ObjectGone, ConfigSeen, TimerFired, EffectDone>;

// ---- Commands the fold asks for. Every Command carries an effectId; the runtime runs
// it and feeds back EffectDone with that id (WriteStatus results are ignored).
struct StatusView {
  std::string phase;  // "Progressing" | "Ready" | "Terminating"
  bool ready = false;
  std::string reason, message;
  int64_t observedGeneration = 0;  // the generation this status refers to
};
bool operator==(const StatusView& a, const StatusView& b);
inline bool operator!=(const StatusView& a, const StatusView& b) { return !(a == b); }

struct Command {
  Op op = Op::kObserve;
  uint64_t effectId = 0;
  StatusView status;  // for kWriteStatus only
};
struct RequeueAfter {  // arm a timer; when due, feed TimerFired{token}
  int64_t delayMs = 0;
  uint64_t token = 0;
};
using AnyCommand = std::variant<Command, RequeueAfter>;

// Stable status reasons (the runtime may rely on them).
inline constexpr const char* kReasonConfigNotFound = "ProviderConfigNotFound";
inline constexpr const char* kReasonReady = "Ready";
inline constexpr const char* kReasonProgressing = "Progressing";
inline constexpr const char* kReasonReconcileError = "ReconcileError";
inline constexpr const char* kReasonDeleting = "Deleting";
// Deletion waits for users' resources to go (openMCP's template names: condition
// DeletionBlocked, reason UserResourcesPresent).
inline constexpr const char* kReasonUserResourcesPresent = "UserResourcesPresent";
// Delay between checks while deletion is blocked.
inline constexpr int64_t kDeletionRecheckMs = 10000;
// Delay before re-observing a service that exists but is not ready yet.
inline constexpr int64_t kNotReadyRequeueMs = 1000;

// One object's folded state. A new object starts as State{} with objectKey set.
struct State {
  Phase phase = Phase::kPending;
  int64_t generation = 0;          // latest metadata.generation seen
  int64_t observedGeneration = 0;  // generation the latest Observe was issued for
  bool hasFinalizer = false;
  bool deleting = false;
  bool configPresent = false;
  int64_t pollIntervalMs = 60000;
  std::string configHash;
  std::optional<uint64_t> inflightEffect;  // at most one tracked effect per object
  Op inflightOp = Op::kObserve;            // meaningful only if inflightEffect
  bool lastObserveAbsent = false;          // Create allowed only if true
  uint32_t attempt = 0;                    // backoff attempt; reset on Ready
  uint64_t nextEffectId = 1;               // effect ids and timer tokens come from this one counter
  uint64_t timerToken = 0;                 // the only TimerFired token that is current (0 = none armed)
  bool dirty = false;                      // spec/config changed while an effect was in flight
  bool ignored = false;                    // operation "ignore" on the latest ObjectSeen
  bool reconcileRequested = false;         // operation "reconcile" seen, annotation not yet cleared
  std::string userErrorReason;             // reason while in kUserError (e.g. ProviderConfigNotFound)
  StatusView status;                       // the status the fold wants on the cluster (last requested)
  // The WriteStatus requested and not yet completed (0 = none): a restart resolves it.
  uint64_t statusWrite = 0;
  // The cluster may not show `status` (a write failed, was cut off by a restart, or an
  // ObjectSeen showed something else): write it again at the next fold that may.
  bool statusUnconfirmed = false;
  std::string objectKey;  // "<namespace>/<name>", for jitter hashing
};

struct FoldResult {
  State state;
  std::vector<AnyCommand> commands;
  bool rejected = false;  // true: state unchanged, no commands, `reason` says why
  std::string reason;     // why rejected, or a short description of the transition
};

// The lifecycle transition. Pure and deterministic; throws nothing but bad_alloc. An
// input not valid in the current state is rejected (rejected=true, state unchanged,
// no commands) with a reason naming the input, the phase and why.
FoldResult fold(const State& state, const Input& input);

// Snapshots (JSON object with every field of State). stateFromJson rejects malformed
// input with kCorruption naming the field.
std::string toJson(const State& state);
[[nodiscard]] Result<State> stateFromJson(const std::string& json);
// The same from an already parsed object (restore parses each state blob once).
[[nodiscard]] Result<State> stateFromJsonObject(const nlohmann::json& json);

// One-line human text, for logs, timelines and divergence reports.
std::string describe(const Input& input);
std::string describe(const AnyCommand& command);

// 1s * 2^attempt capped at 5 min, +/- up to 20% jitter from a hash of
// (objectKey, attempt). Deterministic; within [1 ms, 5 min].
int64_t backoffDelayMs(const std::string& objectKey, uint32_t attempt);

}  // namespace spr::lifecycle
