// Multi-step scenarios of the lifecycle (what an operator user would see over time),
// snapshots, descriptions and the deterministic backoff.
#include <set>

#include "tests/statemachine/driver.h"

namespace spr::lifecycle::testing {
namespace {

Command onlyCommand(const FoldResult& r, Op op) {
  for (const auto& any : r.commands) {
    if (const auto* c = std::get_if<Command>(&any); c && c->op == op) return *c;
  }
  ADD_FAILURE() << "no " << opName(op) << " in: " << summary(r.commands);
  return {};
}

TEST(LifecycleScenario, HappyPathThenDeletion) {
  Driver d = fresh();
  EXPECT_EQ(summary(d.feed(seen(1, false)).commands), "AddFinalizer");
  EXPECT_EQ(summary(d.done(Outcome::kSucceeded).commands), "Observe");
  EXPECT_EQ(summary(d.observed(false).commands), "WriteStatus(Progressing,Creating) Create");
  EXPECT_EQ(summary(d.done(Outcome::kSucceeded).commands), "Observe");
  const FoldResult& r = d.observed(true);
  Command status = onlyCommand(r, Op::kWriteStatus);
  EXPECT_EQ(status.status.phase, "Ready");
  EXPECT_TRUE(status.status.ready);
  EXPECT_EQ(status.status.observedGeneration, 1);
  // A poll that finds nothing new writes no status.
  EXPECT_EQ(summary(d.feed(d.timer()).commands), "Observe");
  EXPECT_EQ(summary(d.observed(true).commands), "Requeue(60000)");
  EXPECT_EQ(summary(d.feed(seenDeleting(1)).commands), "WriteStatus(Terminating,Deleting) Observe");
  EXPECT_EQ(summary(d.observed(true).commands), "CheckDeletion");
  EXPECT_EQ(summary(d.feed(checked(d, false)).commands), "Delete");
  EXPECT_EQ(summary(d.done(Outcome::kSucceeded).commands), "Observe");
  EXPECT_EQ(summary(d.observed(false).commands), "WriteStatus(Terminating,Deleting) RemoveFinalizer");
  d.done(Outcome::kSucceeded);
  EXPECT_EQ(d.s.phase, Phase::kDeleted);
  EXPECT_TRUE(d.feed(ObjectGone{}, true).rejected);
}

TEST(LifecycleScenario, UnknownCreateIsResolvedByObserveNotRepeated) {
  Driver d = creating();
  EXPECT_EQ(summary(d.done(Outcome::kUnknown).commands), "Observe");
  EXPECT_FALSE(d.s.lastObserveAbsent);
  // The crashed Create did create it: no second Create.
  EXPECT_EQ(summary(d.observed(true).commands), "WriteStatus(Ready,Ready) Requeue(60000)");
}

TEST(LifecycleScenario, SpecChangeDuringCreateReobservesInsteadOfContinuing) {
  Driver d = creating();
  EXPECT_TRUE(d.feed(seen(2)).commands.empty());
  EXPECT_TRUE(d.s.dirty);
  EXPECT_EQ(summary(d.done(Outcome::kTransientError).commands), "Observe");
  EXPECT_FALSE(d.s.dirty);
  EXPECT_EQ(d.s.observedGeneration, 2);
}

TEST(LifecycleScenario, DeletionDuringCreateFinishesCreateThenDeletes) {
  Driver d = creating();
  d.feed(seenDeleting(1));
  EXPECT_EQ(summary(d.done(Outcome::kSucceeded).commands), "WriteStatus(Terminating,Deleting) Observe");
  EXPECT_EQ(d.s.phase, Phase::kDeleting);
}

TEST(LifecycleScenario, UserErrorWaitsWithoutRetry) {
  Driver d = userError();
  const Command status = std::get<Command>(d.last.commands.at(0));
  EXPECT_EQ(status.status.reason, "InvalidSpec");
  EXPECT_EQ(status.status.message, "spec.version: 9.9 is not offered");
  EXPECT_FALSE(status.status.ready);
  EXPECT_EQ(d.s.timerToken, 0u);
  EXPECT_FALSE(d.s.inflightEffect.has_value());
  EXPECT_TRUE(d.feed(seen(1)).commands.empty());
  EXPECT_EQ(summary(d.feed(seen(2)).commands), "Observe");
}

TEST(LifecycleScenario, ReconcileAnnotationIsClearedThenForcesObserve) {
  Driver d = ready();
  EXPECT_EQ(summary(d.feed(seen(1, true, "reconcile")).commands), "ClearOperationAnnotation");
  EXPECT_EQ(summary(d.done(Outcome::kTransientError).commands), "Observe");
  EXPECT_FALSE(d.s.reconcileRequested);
  EXPECT_EQ(summary(d.observed(true).commands), "Requeue(60000)");
}

TEST(LifecycleScenario, BackoffGrowsAndResetsOnReady) {
  Driver d = backoff();
  EXPECT_EQ(d.s.attempt, 1u);
  d.feed(d.timer());
  d.done(Outcome::kTransientError);
  EXPECT_EQ(d.s.attempt, 2u);
  d.feed(d.timer());
  d.observed(true);
  EXPECT_EQ(d.s.attempt, 0u);
  EXPECT_EQ(d.s.phase, Phase::kReady);
}

TEST(LifecycleScenario, RejectionNamesInputAndPhase) {
  Driver d = ready();
  const FoldResult r = fold(d.s, TimerFired{12345});
  EXPECT_TRUE(r.rejected);
  EXPECT_NE(r.reason.find("TimerFired token=12345"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("Ready"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("stale timer"), std::string::npos) << r.reason;
  EXPECT_TRUE(r.commands.empty());
}

TEST(LifecycleScenario, CorruptPhaseIsRejectedNotUndefined) {
  State s;
  s.phase = static_cast<Phase>(42);
  const FoldResult r = fold(s, seen(1));
  EXPECT_TRUE(r.rejected);
  EXPECT_TRUE(r.commands.empty());
}

TEST(LifecycleSnapshot, RoundTripsEveryField) {
  Driver d = deletingBackoff();
  d.s.dirty = true;
  d.s.ignored = true;
  d.s.reconcileRequested = true;
  d.s.userErrorReason = "InvalidSpec";
  d.s.status.message = "quote \" and newline \n";
  const std::string json = toJson(d.s);
  Result<State> back = stateFromJson(json);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(toJson(*back), json);
  EXPECT_EQ(back->phase, Phase::kBackoff);
  EXPECT_EQ(back->timerToken, d.s.timerToken);
  EXPECT_EQ(back->objectKey, kKey);
}

TEST(LifecycleSnapshot, RejectsCorruptInput) {
  EXPECT_EQ(stateFromJson("{").status().code(), Code::kCorruption);
  EXPECT_EQ(stateFromJson("[]").status().code(), Code::kCorruption);
  EXPECT_EQ(stateFromJson(R"({"generation":1})").status().code(), Code::kCorruption);
  const Result<State> badPhase = stateFromJson(R"({"phase":"Flying"})");
  EXPECT_EQ(badPhase.status().code(), Code::kCorruption);
  EXPECT_NE(badPhase.status().message().find("Flying"), std::string::npos);
  EXPECT_EQ(stateFromJson(R"({"phase":"Ready","generation":"x"})").status().code(), Code::kCorruption);
}

TEST(LifecycleBackoff, DeterministicGrowingCappedAndJittered) {
  std::set<int64_t> distinct;
  for (uint32_t a = 0; a < 40; ++a) {
    const int64_t base = std::min<int64_t>(300000, a >= 20 ? 300000 : (int64_t{1000} << a));
    const int64_t delay = backoffDelayMs(kKey, a);
    EXPECT_EQ(delay, backoffDelayMs(kKey, a));
    EXPECT_GE(delay, base - base / 5) << "attempt " << a;
    EXPECT_LE(delay, std::min<int64_t>(300000, base + base / 5)) << "attempt " << a;
  }
  for (int i = 0; i < 50; ++i) distinct.insert(backoffDelayMs("ns/obj-" + std::to_string(i), 3));
  EXPECT_GT(distinct.size(), 25u) << "objects should not retry in lockstep";
}

TEST(LifecycleDescribe, OneLineTexts) {
  EXPECT_EQ(describe(Input(seen(3, true, "reconcile"))),
            "ObjectSeen gen=3 deleting=false finalizer=true operation=reconcile");
  EXPECT_EQ(describe(AnyCommand(RequeueAfter{1500, 9})), "RequeueAfter 1500ms token=9");
  Command c{Op::kWriteStatus, 4, {"Ready", true, "Ready", "line1\nline2", 2}};
  const std::string text = describe(AnyCommand(c));
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_NE(text.find("WriteStatus #4 phase=Ready"), std::string::npos) << text;
}

}  // namespace
}  // namespace spr::lifecycle::testing

namespace spr::lifecycle::testing {
namespace {

// Users' resources hold the deletion: nothing is deleted, the status names them, the check
// repeats every 10 s without rewriting an unchanged status, and deletion proceeds once clear.
TEST(LifecycleScenario, DeletionBlockedByUserResourcesWaitsThenProceeds) {
  Driver d = deletingCheck();
  const FoldResult& blocked = d.feed(checked(d, true, "1 Object (objects.kubernetes.crossplane.io): team-a/db"));
  EXPECT_EQ(d.s.phase, Phase::kDeletionBlocked);
  EXPECT_EQ(blocked.reason.rfind("Deleting -> DeletionBlocked", 0), 0u) << blocked.reason;
  Command status = onlyCommand(blocked, Op::kWriteStatus);
  EXPECT_EQ(status.status.phase, "Terminating");
  EXPECT_EQ(status.status.reason, kReasonUserResourcesPresent);
  EXPECT_EQ(status.status.message, "1 Object (objects.kubernetes.crossplane.io): team-a/db");
  EXPECT_FALSE(d.s.inflightEffect.has_value()) << "nothing runs while blocked";
  EXPECT_EQ(summary(d.feed(d.timer()).commands), "CheckDeletion");
  EXPECT_EQ(summary(d.feed(checked(d, true, "1 Object (objects.kubernetes.crossplane.io): team-a/db")).commands),
            "Requeue(10000)");
  // The user deleted one more, another remains: the message follows.
  d.feed(d.timer());
  EXPECT_EQ(summary(d.feed(checked(d, true, "1 Object (objects.kubernetes.crossplane.io): team-b/x")).commands),
            "WriteStatus(Terminating,UserResourcesPresent) Requeue(10000)");
  d.feed(d.timer());
  EXPECT_EQ(summary(d.feed(checked(d, false)).commands), "WriteStatus(Terminating,Deleting) Delete");
  EXPECT_EQ(summary(d.done(Outcome::kSucceeded).commands), "Observe");
  EXPECT_EQ(summary(d.observed(false).commands), "WriteStatus(Terminating,Deleting) RemoveFinalizer");
  d.done(Outcome::kSucceeded);
  EXPECT_EQ(d.s.phase, Phase::kDeleted);
}

// A restart while blocked: the snapshot keeps the phase, and the re-check timer's token.
TEST(LifecycleScenario, DeletionBlockedSurvivesASnapshot) {
  Driver d = deletionBlocked();
  Result<State> back = stateFromJson(toJson(d.s));
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(back->phase, Phase::kDeletionBlocked);
  EXPECT_TRUE(sameState(*back, d.s));
  EXPECT_EQ(summary(fold(*back, TimerFired{d.s.timerToken}).commands), "CheckDeletion");
}

}  // namespace
}  // namespace spr::lifecycle::testing
