// The lifecycle fold's invariants that more than one checker needs (the property test,
// table tests through driver.h, and the lifecycle fuzz target): state equality, when a
// UserError object may wake up, and that Delete waits for CheckDeletion to say clear. No gtest here, so the fuzz target
// can include it. Pure functions; thread-safe.
#pragma once

#include <variant>

#include "core/statemachine/lifecycle.h"

namespace spr::lifecycle::testing {

// Field-by-field equality of two states (cheaper than comparing snapshots).
inline bool sameState(const State& a, const State& b) {
  return a.phase == b.phase && a.generation == b.generation && a.observedGeneration == b.observedGeneration &&
         a.hasFinalizer == b.hasFinalizer && a.deleting == b.deleting && a.configPresent == b.configPresent &&
         a.pollIntervalMs == b.pollIntervalMs && a.configHash == b.configHash && a.inflightEffect == b.inflightEffect &&
         (!a.inflightEffect || a.inflightOp == b.inflightOp) && a.lastObserveAbsent == b.lastObserveAbsent &&
         a.attempt == b.attempt && a.nextEffectId == b.nextEffectId && a.timerToken == b.timerToken &&
         a.dirty == b.dirty && a.ignored == b.ignored && a.reconcileRequested == b.reconcileRequested &&
         a.userErrorReason == b.userErrorReason && a.status == b.status && a.objectKey == b.objectKey &&
         a.statusWrite == b.statusWrite && a.statusUnconfirmed == b.statusUnconfirmed;
}

inline bool isProviderOp(Op op) {
  return op == Op::kObserve || op == Op::kCreate || op == Op::kUpdate || op == Op::kDelete || op == Op::kCheckDeletion;
}

// Deletion blocking: a Delete is issued only after an accepted CheckDeletion said nothing
// blocks, and at most one Delete per such answer. Feed every folded input, then every command.
struct DeletionGate {
  bool clear = false;
  void onInput(const Input& in, const FoldResult& r) {
    const auto* d = std::get_if<EffectDone>(&in);
    if (!r.rejected && d && d->op == Op::kCheckDeletion && d->outcome == Outcome::kSucceeded) clear = !d->blocked;
  }
  // False for a Delete the gate did not open.
  bool allows(const Command& c) {
    if (c.op != Op::kDelete) return true;
    const bool ok = clear;
    clear = false;
    return ok;
  }
};

// A UserError object stays quiet unless the spec, the config or deletion changes.
inline bool wakesUserError(const State& before, const Input& in) {
  if (const auto* o = std::get_if<ObjectSeen>(&in)) {
    return o->deleting || o->generation > before.generation || !o->operation.empty() ||
           (before.hasFinalizer && !o->hasFinalizer);
  }
  if (const auto* c = std::get_if<ConfigSeen>(&in)) {
    return c->present != before.configPresent || (c->present && c->configHash != before.configHash);
  }
  return std::holds_alternative<ObjectGone>(in);
}

}  // namespace spr::lifecycle::testing
