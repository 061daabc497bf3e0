// Test helper: drives one object's lifecycle through fold() and reaches each phase by
// a realistic input sequence, so table tests start from states the fold itself built.
// Not thread-safe; one Driver per test.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "core/statemachine/lifecycle.h"
#include "tests/statemachine/invariants.h"

namespace spr::lifecycle {
inline void PrintTo(const StatusView& v, std::ostream* os) {
  *os << v.phase << "/" << v.reason << " ready=" << v.ready << " gen=" << v.observedGeneration << " \"" << v.message
      << "\"";
}
}  // namespace spr::lifecycle

namespace spr::lifecycle::testing {

inline const std::string kKey = "tenant-a/mcp-1";

// "Op Op WriteStatus(Phase,Reason) Requeue(ms)": what a reader checks in a table row.
inline std::string summary(const std::vector<AnyCommand>& commands) {
  std::string out;
  for (const auto& any : commands) {
    if (!out.empty()) out += " ";
    if (const auto* r = std::get_if<RequeueAfter>(&any)) {
      out += "Requeue(" + std::to_string(r->delayMs) + ")";
      continue;
    }
    const auto& c = std::get<Command>(any);
    out += opName(c.op);
    if (c.op == Op::kWriteStatus) out += "(" + c.status.phase + "," + c.status.reason + ")";
  }
  return out;
}

struct Driver {
  State s;
  FoldResult last;

  Driver() { s.objectKey = kKey; }

  // Folds `in`; keeps the new state unless rejected. Fails the test on a rejection
  // unless `mayReject`.
  const FoldResult& feed(const Input& in, bool mayReject = false) {
    last = fold(s, in);
    if (!mayReject) {
      EXPECT_FALSE(last.rejected) << describe(in) << ": " << last.reason;
    }
    if (!last.rejected) s = last.state;
    return last;
  }
  // Completes the in-flight effect.
  const FoldResult& done(Outcome outcome, bool exists = false, bool drift = false, bool ready = true,
                         const std::string& reason = "", const std::string& message = "") {
    EXPECT_TRUE(s.inflightEffect.has_value()) << "nothing in flight in " << phaseName(s.phase);
    EffectDone d{s.inflightEffect.value_or(0), s.inflightOp, outcome, exists, drift, ready, message, reason};
    return feed(d);
  }
  const FoldResult& observed(bool exists, bool drift = false, bool ready = true) {
    return done(Outcome::kSucceeded, exists, drift, ready);
  }
  EffectDone doneInput(Outcome outcome, bool exists = false, bool drift = false, bool ready = true,
                       const std::string& reason = "", const std::string& message = "") const {
    return EffectDone{s.inflightEffect.value_or(0), s.inflightOp, outcome, exists, drift, ready, message, reason};
  }
  TimerFired timer() const { return TimerFired{s.timerToken}; }
};

// An EffectDone with no observe answer and no text.
inline EffectDone effect(uint64_t id, Op op, Outcome outcome) {
  EffectDone d;
  d.effectId = id;
  d.op = op;
  d.outcome = outcome;
  return d;
}

inline ConfigSeen config(const std::string& hash = "cfg-1", int64_t pollMs = 60000) {
  return ConfigSeen{true, pollMs, hash};
}
inline ObjectSeen seen(int64_t gen, bool finalizer = true, const std::string& operation = "") {
  return ObjectSeen{gen, false, finalizer, operation};
}
inline ObjectSeen seenDeleting(int64_t gen, bool finalizer = true) { return ObjectSeen{gen, true, finalizer, ""}; }

// ---- reach each phase (generation 1, config "cfg-1", our finalizer on the object)
inline Driver fresh() {
  Driver d;
  d.feed(config());
  return d;
}
inline Driver pendingAddFinalizer() {
  Driver d = fresh();
  d.feed(seen(1, /*finalizer=*/false));
  return d;
}
inline Driver observing() {
  Driver d = fresh();
  d.feed(seen(1));
  return d;
}
inline Driver creating() {
  Driver d = observing();
  d.observed(false);
  return d;
}
inline Driver updating() {
  Driver d = observing();
  d.observed(true, /*drift=*/true);
  return d;
}
inline Driver ready() {
  Driver d = observing();
  d.observed(true);
  return d;
}
inline Driver waitingNotReady() {
  Driver d = observing();
  d.observed(true, false, /*ready=*/false);
  return d;
}
inline Driver backoff() {
  Driver d = observing();
  d.done(Outcome::kTransientError, false, false, true, "ApiUnavailable", "the MCP cluster did not answer");
  return d;
}
inline Driver userError() {
  Driver d = creating();
  d.done(Outcome::kUserError, false, false, true, "InvalidSpec", "spec.version: 9.9 is not offered");
  return d;
}
inline Driver configMissing() {
  Driver d;
  d.feed(seen(1, /*finalizer=*/false));
  return d;
}
inline Driver ignored() {
  Driver d = fresh();
  d.feed(seen(1, true, "ignore"));
  return d;
}
inline Driver deleting() {
  Driver d = ready();
  d.feed(seenDeleting(1));
  return d;
}
inline Driver deletingCheck() {  // CheckDeletion in flight (Observe said the service exists)
  Driver d = deleting();
  d.observed(true);
  return d;
}
// The in-flight CheckDeletion's answer: users' resources block deletion, or nothing does.
inline EffectDone checked(const Driver& d, bool blocked, const std::string& message = "2 Object remain") {
  EffectDone e = d.doneInput(Outcome::kSucceeded, false, false, true, blocked ? kReasonUserResourcesPresent : "",
                             blocked ? message : "");
  e.blocked = blocked;
  return e;
}
inline Driver deletingDelete() {  // Delete in flight
  Driver d = deletingCheck();
  d.feed(checked(d, false));
  return d;
}
inline Driver deletionBlocked() {  // blocked; the re-check timer armed
  Driver d = deletingCheck();
  d.feed(checked(d, true));
  return d;
}
inline Driver deletingRemoveFinalizer() {  // RemoveFinalizer in flight
  Driver d = deleting();
  d.observed(false);
  return d;
}
inline Driver deletingBackoff() {
  Driver d = deletingDelete();
  d.done(Outcome::kTransientError, false, false, true, "ApiUnavailable", "timeout");
  return d;
}
inline Driver deleted() {
  Driver d = deletingRemoveFinalizer();
  d.done(Outcome::kSucceeded);
  return d;
}

}  // namespace spr::lifecycle::testing
