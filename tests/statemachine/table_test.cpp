// Table test: every (phase, input) transition of LIFECYCLE.md, asserting the next phase,
// the commands (op + status payload + requeue delay) and rejections.
#include <functional>

#include "tests/statemachine/driver.h"

namespace spr::lifecycle::testing {
namespace {

struct Case {
  const char* name;
  std::function<Driver()> from;
  std::function<Input(const Driver&)> input;
  Phase phase;           // expected phase afterwards
  std::string commands;  // expected summary(commands)
  bool rejected = false;
};

std::string backoff0() { return "Requeue(" + std::to_string(backoffDelayMs(kKey, 0)) + ")"; }
std::string backoff1() { return "Requeue(" + std::to_string(backoffDelayMs(kKey, 1)) + ")"; }

template <class T>
std::function<Input(const Driver&)> in(T value) {
  return [value](const Driver&) { return Input(value); };
}
std::function<Input(const Driver&)> done(Outcome o, bool exists = false, bool drift = false, bool ready = true,
                                         std::string reason = "") {
  return [=](const Driver& d) { return Input(d.doneInput(o, exists, drift, ready, reason, "provider says")); };
}
std::function<Input(const Driver&)> isChecked(bool blocked) {
  return [=](const Driver& d) { return Input(checked(d, blocked)); };
}
std::function<Input(const Driver&)> currentTimer() {
  return [](const Driver& d) { return Input(d.timer()); };
}
std::function<Input(const Driver&)> staleTimer() {
  return [](const Driver& d) { return Input(TimerFired{d.s.timerToken + 1000}); };
}

const auto S = Outcome::kSucceeded;
const auto T = Outcome::kTransientError;
const auto U = Outcome::kUserError;
const auto X = Outcome::kUnknown;

const std::string kProgressReady = "WriteStatus(Ready,Ready) Requeue(60000)";
const std::string kTerminate = "WriteStatus(Terminating,Deleting) Observe";
const std::string kCfgMissing = "WriteStatus(Progressing,ProviderConfigNotFound)";

std::vector<Case> cases() {
  using P = Phase;
  return {
      // ---- Pending, nothing seen yet
      {"fresh+config", [] { return Driver(); }, in(config()), P::kPending, ""},
      {"fresh+seen no finalizer", fresh, in(seen(1, false)), P::kPending, "AddFinalizer"},
      {"fresh+seen finalizer", fresh, in(seen(1)), P::kObserving, "Observe"},
      {"fresh+seen no config", [] { return Driver(); }, in(seen(1)), P::kUserError, kCfgMissing},
      {"fresh+seen ignore", fresh, in(seen(1, true, "ignore")), P::kIgnored, ""},
      {"fresh+seen reconcile", fresh, in(seen(1, true, "reconcile")), P::kObserving, "ClearOperationAnnotation"},
      {"fresh+seen deleting no finalizer", fresh, in(seenDeleting(1, false)), P::kDeleted, ""},
      {"fresh+seen deleting finalizer", fresh, in(seenDeleting(1)), P::kDeleting, kTerminate},
      {"fresh+timer", fresh, in(TimerFired{5}), P::kPending, "", true},
      {"fresh+effect", fresh, in(effect(1, Op::kObserve, S)), P::kPending, "", true},
      {"fresh+gone", fresh, in(ObjectGone{}), P::kDeleted, ""},
      // ---- Pending, AddFinalizer in flight
      {"addfin ok", pendingAddFinalizer, done(S), P::kObserving, "Observe"},
      {"addfin transient", pendingAddFinalizer, done(T), P::kBackoff,
       "WriteStatus(Progressing,ReconcileError) " + backoff0()},
      {"addfin user error is transient", pendingAddFinalizer, done(U, false, false, true, "Invalid"), P::kBackoff,
       "WriteStatus(Progressing,Invalid) " + backoff0()},
      {"addfin unknown", pendingAddFinalizer, done(X), P::kPending, "AddFinalizer"},
      {"addfin+seen gen2", pendingAddFinalizer, in(seen(2, false)), P::kPending, ""},
      {"addfin+timer", pendingAddFinalizer, staleTimer(), P::kPending, "", true},
      // ---- Observing, Observe in flight
      {"observe absent", observing, done(S, false), P::kCreating, "WriteStatus(Progressing,Creating) Create"},
      {"observe drift", observing, done(S, true, true), P::kUpdating, "WriteStatus(Progressing,Updating) Update"},
      {"observe ready", observing, done(S, true), P::kReady, kProgressReady},
      {"observe not ready", observing, done(S, true, false, false, "Installing"), P::kObserving,
       "WriteStatus(Progressing,Installing) Requeue(1000)"},
      {"observe transient", observing, done(T, false, false, true, "ApiUnavailable"), P::kBackoff,
       "WriteStatus(Progressing,ApiUnavailable) " + backoff0()},
      {"observe user error", observing, done(U, false, false, true, "InvalidSpec"), P::kUserError,
       "WriteStatus(Progressing,InvalidSpec)"},
      {"observe unknown", observing, done(X), P::kObserving, "Observe"},
      {"observe wrong id", observing, in(effect(99, Op::kObserve, S)), P::kObserving, "", true},
      {"observe wrong op", observing,
       [](const Driver& d) { return Input(effect(*d.s.inflightEffect, Op::kCreate, S)); }, P::kObserving, "", true},
      {"observe+stale timer", observing, staleTimer(), P::kObserving, "", true},
      {"observe+seen same gen", observing, in(seen(1)), P::kObserving, ""},
      {"observe+gone", observing, in(ObjectGone{}), P::kDeleted, ""},
      {"not-ready wait+timer", waitingNotReady, currentTimer(), P::kObserving, "Observe"},
      {"not-ready wait+seen gen2", waitingNotReady, in(seen(2)), P::kObserving, "Observe"},
      // ---- Creating
      {"create ok", creating, done(S), P::kObserving, "Observe"},
      {"create unknown observes", creating, done(X), P::kObserving, "Observe"},
      {"create transient", creating, done(T), P::kBackoff, "WriteStatus(Progressing,ReconcileError) " + backoff0()},
      {"create user error", creating, done(U, false, false, true, "VersionNotAllowed"), P::kUserError,
       "WriteStatus(Progressing,VersionNotAllowed)"},
      {"create+config changed", creating, in(config("cfg-2")), P::kCreating, ""},
      // ---- Updating
      {"update ok", updating, done(S), P::kObserving, "Observe"},
      {"update unknown", updating, done(X), P::kObserving, "Observe"},
      {"update transient", updating, done(T), P::kBackoff, "WriteStatus(Progressing,ReconcileError) " + backoff0()},
      {"update user error", updating, done(U, false, false, true, "InvalidSpec"), P::kUserError,
       "WriteStatus(Progressing,InvalidSpec)"},
      // ---- Ready
      {"ready+timer polls", ready, currentTimer(), P::kObserving, "Observe"},
      {"ready+stale timer", ready, staleTimer(), P::kReady, "", true},
      {"ready+seen same gen", ready, in(seen(1)), P::kReady, ""},
      {"ready+seen gen2", ready, in(seen(2)), P::kObserving, "Observe"},
      {"ready+finalizer lost", ready, in(seen(1, false)), P::kPending, "AddFinalizer"},
      {"ready+config same", ready, in(config()), P::kReady, ""},
      {"ready+config changed", ready, in(config("cfg-2")), P::kObserving, "Observe"},
      {"ready+config absent", ready, in(ConfigSeen{}), P::kUserError, kCfgMissing},
      {"ready+reconcile", ready, in(seen(1, true, "reconcile")), P::kObserving, "ClearOperationAnnotation"},
      {"ready+ignore", ready, in(seen(1, true, "ignore")), P::kIgnored, ""},
      {"ready+deleting", ready, in(seenDeleting(1)), P::kDeleting, kTerminate},
      {"ready+status write result", ready, in(effect(6, Op::kWriteStatus, T)), P::kReady, ""},
      {"ready+effect", ready, in(effect(2, Op::kObserve, S)), P::kReady, "", true},
      // ---- Backoff
      {"backoff+timer", backoff, currentTimer(), P::kObserving, "Observe"},
      {"backoff+stale timer", backoff, staleTimer(), P::kBackoff, "", true},
      {"backoff+seen same gen", backoff, in(seen(1)), P::kBackoff, ""},
      {"backoff+seen gen2", backoff, in(seen(2)), P::kObserving, "Observe"},
      {"backoff+config absent", backoff, in(ConfigSeen{}), P::kUserError, kCfgMissing},
      {"backoff+config changed", backoff, in(config("cfg-2")), P::kObserving, "Observe"},
      {"backoff+deleting", backoff, in(seenDeleting(1)), P::kDeleting, kTerminate},
      // ---- UserError (provider) and UserError (no ProviderConfig)
      {"usererr+seen same gen", userError, in(seen(1)), P::kUserError, ""},
      {"usererr+seen gen2", userError, in(seen(2)), P::kObserving, "Observe"},
      {"usererr+config same", userError, in(config()), P::kUserError, ""},
      {"usererr+config changed", userError, in(config("cfg-2")), P::kObserving, "Observe"},
      {"usererr+timer", userError, in(TimerFired{1}), P::kUserError, "", true},
      {"usererr+deleting", userError, in(seenDeleting(1)), P::kDeleting, kTerminate},
      {"nocfg+config", configMissing, in(config()), P::kPending, "AddFinalizer"},
      {"nocfg+config absent", configMissing, in(ConfigSeen{}), P::kUserError, ""},
      {"nocfg+seen gen2", configMissing, in(seen(2, false)), P::kUserError, kCfgMissing},
      {"nocfg+deleting no finalizer", configMissing, in(seenDeleting(1, false)), P::kDeleted, ""},
      // ---- Ignored
      {"ignored+ignore", ignored, in(seen(2, true, "ignore")), P::kIgnored, ""},
      {"ignored+unignore", ignored, in(seen(2)), P::kObserving, "Observe"},
      {"ignored+config changed", ignored, in(config("cfg-2")), P::kIgnored, ""},
      {"ignored+deleting", ignored, in(seenDeleting(2)), P::kDeleting, kTerminate},
      {"ignored+gone", ignored, in(ObjectGone{}), P::kDeleted, ""},
      // ---- Deleting
      {"deleting observe exists", deleting, done(S, true), P::kDeleting, "CheckDeletion"},
      // ---- Deletion blocking: CheckDeletion before every Delete
      {"check clear", deletingCheck, isChecked(false), P::kDeleting, "Delete"},
      {"check blocked", deletingCheck, isChecked(true), P::kDeletionBlocked,
       "WriteStatus(Terminating,UserResourcesPresent) Requeue(10000)"},
      {"check unknown", deletingCheck, done(X), P::kDeleting, "Observe"},
      {"check transient", deletingCheck, done(T, false, false, true, "ApiUnavailable"), P::kBackoff,
       "WriteStatus(Terminating,ApiUnavailable) " + backoff0()},
      {"check user error backs off", deletingCheck, done(U, false, false, true, "Invalid"), P::kBackoff,
       "WriteStatus(Terminating,Invalid) " + backoff0()},
      {"check+gone", deletingCheck, in(ObjectGone{}), P::kDeleted, ""},
      {"blocked+timer", deletionBlocked, currentTimer(), P::kDeleting, "CheckDeletion"},
      {"blocked+stale timer", deletionBlocked, staleTimer(), P::kDeletionBlocked, "", true},
      {"blocked+seen", deletionBlocked, in(seenDeleting(2)), P::kDeletionBlocked, ""},
      {"blocked+config absent", deletionBlocked, in(ConfigSeen{}), P::kDeletionBlocked, ""},
      {"blocked+effect", deletionBlocked, in(effect(3, Op::kDelete, S)), P::kDeletionBlocked, "", true},
      {"blocked+gone", deletionBlocked, in(ObjectGone{}), P::kDeleted, ""},
      {"blocked, recheck still blocked, same message",
       [] {
         Driver d = deletionBlocked();
         d.feed(d.timer());
         return d;
       },
       isChecked(true), P::kDeletionBlocked, "Requeue(10000)"},
      {"blocked, recheck clear",
       [] {
         Driver d = deletionBlocked();
         d.feed(d.timer());
         return d;
       },
       isChecked(false), P::kDeleting, "WriteStatus(Terminating,Deleting) Delete"},
      {"deleting observe absent", deleting, done(S, false), P::kDeleting,
       "WriteStatus(Terminating,Deleting) RemoveFinalizer"},
      {"deleting observe unknown", deleting, done(X), P::kDeleting, "Observe"},
      {"deleting observe transient", deleting, done(T), P::kBackoff,
       "WriteStatus(Terminating,ReconcileError) " + backoff0()},
      {"delete ok", deletingDelete, done(S), P::kDeleting, "Observe"},
      {"delete unknown", deletingDelete, done(X), P::kDeleting, "Observe"},
      {"delete transient", deletingDelete, done(T), P::kBackoff,
       "WriteStatus(Terminating,ReconcileError) " + backoff0()},
      {"delete user error backs off", deletingDelete, done(U, false, false, true, "Forbidden"), P::kBackoff,
       "WriteStatus(Terminating,Forbidden) " + backoff0()},
      {"removefin ok", deletingRemoveFinalizer, done(S), P::kDeleted, ""},
      {"removefin unknown", deletingRemoveFinalizer, done(X), P::kDeleting, "Observe"},
      {"removefin transient", deletingRemoveFinalizer, done(T), P::kBackoff,
       "WriteStatus(Terminating,ReconcileError) " + backoff0()},
      {"deleting+seen gen2", deleting, in(seenDeleting(2)), P::kDeleting, ""},
      {"deleting+config absent", deleting, in(ConfigSeen{}), P::kDeleting, ""},
      {"deleting+gone", deleting, in(ObjectGone{}), P::kDeleted, ""},
      {"deleting backoff+timer", deletingBackoff, currentTimer(), P::kDeleting, kTerminate},
      {"deleting backoff+seen", deletingBackoff, in(seenDeleting(1)), P::kBackoff, ""},
      {"deleting backoff+config absent", deletingBackoff, in(ConfigSeen{}), P::kBackoff, ""},
      {"deleting backoff again",
       [] {
         Driver d = deletingBackoff();
         d.feed(d.timer());
         return d;
       },
       done(T), P::kBackoff, "WriteStatus(Terminating,ReconcileError) " + backoff1()},
      // ---- Deleted (terminal)
      {"deleted+seen deleting", deleted, in(seenDeleting(1)), P::kDeleted, "", true},
      {"deleted+gone", deleted, in(ObjectGone{}), P::kDeleted, "", true},
      {"deleted+config", deleted, in(config("cfg-2")), P::kDeleted, "", true},
      {"deleted+timer", deleted, in(TimerFired{1}), P::kDeleted, "", true},
      {"deleted+effect", deleted, in(effect(3, Op::kObserve, S)), P::kDeleted, "", true},
      {"deleted+recreated", deleted, in(seen(1)), P::kObserving, "Observe"},
  };
}

TEST(LifecycleTable, EveryTransition) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    Driver d = c.from();
    ASSERT_FALSE(HasFailure()) << "could not reach the starting state";
    const State before = d.s;
    const Input input = c.input(d);
    const FoldResult r = fold(before, input);
    EXPECT_EQ(r.rejected, c.rejected) << r.reason;
    EXPECT_EQ(phaseName(r.state.phase), std::string(phaseName(c.phase))) << r.reason;
    EXPECT_EQ(summary(r.commands), c.commands) << r.reason;
    if (c.rejected) {
      EXPECT_EQ(toJson(r.state), toJson(before)) << "a rejected input must not change the state";
      EXPECT_NE(r.reason.find("rejected in phase"), std::string::npos) << r.reason;
    }
  }
}

}  // namespace
}  // namespace spr::lifecycle::testing
