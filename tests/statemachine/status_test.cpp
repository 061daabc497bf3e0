// The fold keeps the cluster's status honest: a status write cut off by a restart or
// refused by the API server, or a status someone else changed, is written again; a write
// the cluster confirmed is not repeated.
#include "tests/statemachine/driver.h"

namespace spr::lifecycle::testing {
namespace {

ObjectSeen showing(const char* phase, bool ready, const char* reason, int64_t observedGeneration) {
  ObjectSeen o = seen(1);
  o.hasStatus = true;
  o.statusPhase = phase;
  o.statusReady = ready;
  o.statusReason = reason;
  o.statusObservedGeneration = observedGeneration;
  return o;
}

TEST(LifecycleStatus, StatusWriteCutOffByARestartIsWrittenAgainUntilConfirmed) {
  Driver d = ready();
  const uint64_t write = d.s.statusWrite;
  ASSERT_NE(write, 0u) << "the Ready status write is tracked until it completes";
  EXPECT_EQ(summary(d.feed(effect(write, Op::kWriteStatus, Outcome::kUnknown)).commands), "WriteStatus(Ready,Ready)");
  EXPECT_EQ(d.s.phase, Phase::kReady);
  const uint64_t again = d.s.statusWrite;
  EXPECT_GT(again, write);
  EXPECT_TRUE(d.s.statusUnconfirmed);
  EXPECT_EQ(summary(d.feed(effect(again, Op::kWriteStatus, Outcome::kSucceeded)).commands), "");
  EXPECT_FALSE(d.s.statusUnconfirmed);
  EXPECT_EQ(d.s.statusWrite, 0u);
}

TEST(LifecycleStatus, ObjectShowingAnotherStatusGetsTheFoldedStatusBack) {
  Driver d = ready();
  d.feed(effect(d.s.statusWrite, Op::kWriteStatus, Outcome::kSucceeded));
  // The acme/mcp-8: folded Ready, the cluster still shows Progressing/Creating.
  EXPECT_EQ(summary(d.feed(showing("Progressing", false, "Creating", 1)).commands), "WriteStatus(Ready,Ready)");
  // While that write is outstanding, an event showing the old status writes nothing more.
  EXPECT_EQ(summary(d.feed(showing("Progressing", false, "Creating", 1)).commands), "");
  d.feed(effect(d.s.statusWrite, Op::kWriteStatus, Outcome::kSucceeded));
  EXPECT_EQ(summary(d.feed(showing("Ready", true, "Ready", 1)).commands), "");
}

TEST(LifecycleStatus, StaleResultOfAnOlderStatusWriteIsIgnored) {
  Driver d = creating();
  const uint64_t creatingWrite = d.s.statusWrite;
  d.done(Outcome::kSucceeded);
  d.observed(true);  // Ready: a newer write supersedes the Creating one
  ASSERT_NE(d.s.statusWrite, creatingWrite);
  EXPECT_EQ(summary(d.feed(effect(creatingWrite, Op::kWriteStatus, Outcome::kUnknown)).commands), "");
  EXPECT_FALSE(d.s.statusUnconfirmed);
}

TEST(LifecycleStatus, FailedStatusWriteIsNotRetriedAtOnceButAtTheNextFold) {
  Driver d = ready();
  EXPECT_EQ(summary(d.feed(effect(d.s.statusWrite, Op::kWriteStatus, Outcome::kTransientError)).commands), "");
  EXPECT_TRUE(d.s.statusUnconfirmed);
  EXPECT_EQ(summary(d.feed(d.timer()).commands), "Observe WriteStatus(Ready,Ready)");
  d.feed(effect(d.s.statusWrite, Op::kWriteStatus, Outcome::kSucceeded));
  EXPECT_EQ(summary(d.observed(true).commands), "Requeue(60000)");
}

TEST(LifecycleStatus, SnapshotKeepsTheOutstandingStatusWrite) {
  Driver d = ready();
  d.s.statusUnconfirmed = true;
  auto back = stateFromJson(toJson(d.s));
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(back->statusWrite, d.s.statusWrite);
  EXPECT_TRUE(back->statusUnconfirmed);
}

}  // namespace
}  // namespace spr::lifecycle::testing
