// Internal to core/statemachine: the working set of one fold() call. route() validates an
// input and records the facts it carries; the Boost.MSM table (lifecycle_machine.cpp)
// then picks the transition and calls the plain-C++ actions below. No Boost here.
// One FoldContext per fold() call; never shared between threads.
#pragma once

#include <string>
#include <vector>

#include "core/statemachine/lifecycle.h"

namespace spr::lifecycle::detail {

// Where an input goes after route(): one MSM event, or handled without the machine.
enum class Route {
  kReject,            // invalid here; state unchanged (reason set)
  kAbsorb,            // valid, facts updated at most, no transition
  kWake,              // something relevant changed, or the current timer came due
  kFreshStart,        // ObjectSeen for a recreated object after Deleted
  kGone,              // the API object no longer exists
  kResume,            // the in-flight effect finished; re-decide (or re-observe)
  kObserved,          // the in-flight Observe succeeded (and nothing changed meanwhile)
  kFailed,            // the in-flight effect failed (transient or user error)
  kFinalizerRemoved,  // RemoveFinalizer succeeded
  kChecked,           // the in-flight CheckDeletion succeeded (blocked or clear)
};

// What the Decide junction chooses, from the facts alone.
enum class Next { kDeleted, kDelete, kIgnore, kClearAnnotation, kConfigMissing, kAddFinalizer, kObserve };
Next decide(const State& s);

class FoldContext {
 public:
  explicit FoldContext(const State& s) : state_(s), before_(s) {}
  FoldContext(const FoldContext&) = delete;
  FoldContext& operator=(const FoldContext&) = delete;

  // Validates `input` against the current state and applies the facts it carries.
  Route route(const Input& input);

  // ---- guards (read the facts and the effect result being folded)
  Next next() const { return decide(state_); }
  Phase restoredPhase() const { return before_.phase; }
  bool serviceAbsent() const { return done_ != nullptr && !done_->exists; }
  bool serviceDrifted() const { return done_ != nullptr && done_->exists && done_->drift; }
  bool serviceReady() const { return done_ != nullptr && done_->exists && !done_->drift && done_->ready; }
  bool serviceNotReady() const { return done_ != nullptr && done_->exists && !done_->drift && !done_->ready; }
  bool serviceExists() const { return done_ != nullptr && done_->exists; }
  bool confirmedAbsent() const { return serviceAbsent() && state_.lastObserveAbsent; }
  bool transientFault() const { return done_ != nullptr && done_->outcome == Outcome::kTransientError; }
  bool userFault() const { return done_ != nullptr && done_->outcome == Outcome::kUserError; }
  bool mayCreate() const { return serviceAbsent() && state_.lastObserveAbsent; }
  bool deletionBlocked() const { return done_ != nullptr && done_->blocked; }
  bool deletionClear() const { return done_ != nullptr && !done_->blocked; }

  // ---- actions (each appends what it did to the transition note)
  void enterDecide();
  void markDeleted();
  void startDeletion();
  void ignore();
  void clearAnnotation();
  void configMissing();
  void addFinalizer();
  void observe();
  void reobserveDeletion();  // Observe again while deleting (observedGeneration unchanged)
  void create();
  void update();
  void becomeReady();
  void waitNotReady();
  void backoff();
  void userError();
  void checkDeletion();    // the service exists: ask what blocks deletion before Delete
  void blockDeletion();    // users' resources remain: say which, re-check after a while
  void recheckDeletion();  // the re-check timer came due
  void deleteService();
  void removeFinalizer();
  void finalizerRemoved();
  void freshStart();
  void forget();
  void setPhase(Phase p) { state_.phase = p; }
  void noTransition() { unhandled_ = true; }

  // After the transition: writes the wanted status again if the cluster may not show it
  // (not while a write is outstanding, nor right after a failed write: no hot loop).
  void settleStatus();

  // Builds the result: the new state and commands, or the original state if rejected.
  FoldResult finish(const Input& input) &&;

 private:
  Route reject(std::string why);
  Route routeSeen(const ObjectSeen& o);
  Route routeConfig(const ConfigSeen& c);
  Route routeTimer(const TimerFired& t);
  Route routeDone(const EffectDone& d);
  Route classifyDone(const EffectDone& d);
  Route routeStatusDone(const EffectDone& d);
  void compareStatus(const ObjectSeen& o);
  bool seenIsRelevant(const ObjectSeen& o) const;
  bool configIsRelevant(const ConfigSeen& c) const;
  void applySeen(const ObjectSeen& o);
  uint64_t issue(Op op);
  void emitStatus(const char* phase, bool ready, std::string reason, std::string message);
  void armTimer(int64_t delayMs);
  void note(const std::string& what);

  State state_;
  const State& before_;  // the caller's state; outlives this context
  std::vector<AnyCommand> commands_;
  std::string note_;
  std::string rejectReason_;
  bool unhandled_ = false;
  const EffectDone* done_ = nullptr;  // the effect result being folded, if any
  const ObjectSeen* seen_ = nullptr;  // the ObjectSeen being folded, if any
  bool statusWriteFailed_ = false;    // folding a failed WriteStatus: do not retry in this fold
};

}  // namespace spr::lifecycle::detail
