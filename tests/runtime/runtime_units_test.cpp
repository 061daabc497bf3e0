// Small units of the runtime: work queue semantics, status building, durations.
#include <gtest/gtest.h>

#include "runtime/object_util.h"
#include "runtime/status.h"
#include "runtime/workqueue.h"

namespace spr::runtime {
namespace {

TEST(WorkQueue, KeyReaddedWhileProcessingIsHandedOutAgainAfterDone) {
  WorkQueue q;
  q.add("a");
  q.add("a");  // deduplicated while queued
  EXPECT_EQ(q.depth(), 1u);
  std::string key;
  ASSERT_TRUE(q.get(&key));
  q.add("a");  // while processing: not handed to a second worker
  EXPECT_EQ(q.depth(), 0u);
  q.done("a");
  EXPECT_EQ(q.depth(), 1u);
  ASSERT_TRUE(q.get(&key));
  EXPECT_EQ(key, "a");
  q.done("a");
  q.shutdown();
  EXPECT_FALSE(q.get(&key));
}

TEST(Status, ReadyConditionKeepsTransitionTimeUntilItFlips) {
  lifecycle::StatusView progressing{"Progressing", false, "Progressing", "creating", 1};
  nlohmann::json s1 = buildStatus(progressing, nlohmann::json(), 1000000000LL * 1700000000);
  EXPECT_EQ(s1["phase"], "Progressing");
  EXPECT_EQ(s1["observedGeneration"], 1);
  ASSERT_EQ(s1["conditions"].size(), 1u);
  EXPECT_EQ(s1["conditions"][0]["status"], "False");
  std::string t1 = s1["conditions"][0]["lastTransitionTime"];
  nlohmann::json s2 = buildStatus(progressing, s1, 1000000000LL * 1700000100);
  EXPECT_EQ(s2["conditions"][0]["lastTransitionTime"], t1);
  lifecycle::StatusView ready{"Ready", true, "Ready", "", 1};
  nlohmann::json s3 = buildStatus(ready, s2, 1000000000LL * 1700000200);
  EXPECT_EQ(s3["conditions"][0]["status"], "True");
  EXPECT_NE(s3["conditions"][0]["lastTransitionTime"], t1);
}

TEST(Status, ConfigNotFoundMessageNamesTheObject) {
  std::string m = configNotFoundMessage("crossplane", "crossplane.services.open-control-plane.io/v1alpha1");
  EXPECT_NE(m.find("ProviderConfig \"crossplane\""), std::string::npos);
  EXPECT_NE(m.find("cluster-scoped"), std::string::npos);
}

TEST(ObjectUtil, DurationsAndOperationAnnotation) {
  EXPECT_EQ(parseDurationMs("30s", 1), 30000);
  EXPECT_EQ(parseDurationMs("1m30s", 1), 90000);
  EXPECT_EQ(parseDurationMs("250ms", 1), 250);
  EXPECT_EQ(parseDurationMs("bogus", 7), 7);
  EXPECT_EQ(parseDurationMs(nlohmann::json(), 7), 7);
  nlohmann::json o = {
      {"metadata",
       {{"generation", 3}, {"annotations", {{kOperationAnnotation, "ignore"}}}, {"finalizers", {kFinalizer}}}}};
  auto seen = objectSeenOf(o);
  EXPECT_EQ(seen.generation, 3);
  EXPECT_EQ(seen.operation, "ignore");
  EXPECT_TRUE(seen.hasFinalizer);
  EXPECT_FALSE(seen.deleting);
}

// A user's 200 KB spec.version echoed into an error message, with a right-to-left override
// and control characters: the condition holds at most 32,768 bytes, none of them hidden.
TEST(Status, ConditionMessageIsCappedAndStrippedOfControlAndBidiCharacters) {
  std::string version = "1.2\u202Eevil\x07\x1b[31m" + std::string(200000, 'x');
  lifecycle::StatusView view{"Progressing", false, "InvalidSpec", "spec.version \"" + version + "\" is not allowed", 1};
  nlohmann::json status = buildStatus(view, nlohmann::json(), 1000000000LL * 1700000000);
  std::string message = status["conditions"][0]["message"];
  EXPECT_LE(message.size(), kMaxConditionMessage);
  EXPECT_GT(message.size(), kMaxConditionMessage - 100);
  EXPECT_EQ(message.rfind("spec.version \"1.2evil[31mxxx", 0), 0u) << message.substr(0, 40);
  EXPECT_NE(message.find("bytes, cut]"), std::string::npos);
  EXPECT_EQ(message.find("\u202E"), std::string::npos);
  for (char c : message) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
  EXPECT_NO_THROW((void)status.dump());

  EXPECT_EQ(conditionMessage("line one\nline\ttwo\u2066x\u2069"), "line one line twox");
  EXPECT_EQ(conditionMessage("bad \xff byte; caf\xc3\xa9"), "bad \uFFFD byte; caf\u00e9");
  EXPECT_EQ(conditionMessage(std::string(kMaxConditionMessage, 'a')), std::string(kMaxConditionMessage, 'a'));
  std::string accents;
  while (accents.size() < 2 * kMaxConditionMessage) accents += "\u00e9";
  std::string cut = conditionMessage(accents);
  EXPECT_LE(cut.size(), kMaxConditionMessage);
  EXPECT_EQ(cut.find("\uFFFD"), std::string::npos);  // cut between characters, never inside one
  EXPECT_NO_THROW((void)nlohmann::json(cut).dump());
}

}  // namespace
}  // namespace spr::runtime

namespace spr::runtime {
namespace {

TEST(ObjectUtil, MalformedNumbersFallBackInsteadOfThrowing) {
  EXPECT_EQ(parseDurationMs(".", 7), 7);
  EXPECT_EQ(parseDurationMs("1.2.3s", 7), 7);
  EXPECT_EQ(parseDurationMs("99999999999999999999999999999999999999h", 7), 7);
  EXPECT_EQ(parseDurationMs(1e300, 7), 7);
  EXPECT_EQ(parseDurationMs(-5, 7), 7);
  EXPECT_EQ(parseDurationMs("1.5s", 7), 1500);
  nlohmann::json o = {{"metadata", {{"generation", "three"}}}};
  EXPECT_EQ(objectSeenOf(o).generation, 0);
  EXPECT_EQ(generationOf(nlohmann::json("not an object")), 0);
  EXPECT_EQ(generationOf({{"metadata", {{"generation", 4}}}}), 4);
  // As parsed from the API server's JSON (non-negative integers are unsigned there).
  auto parsed =
      nlohmann::json::parse(R"({"metadata":{"generation":2},"status":{"phase":"Ready","observedGeneration":2,)"
                            R"("conditions":[{"type":"Ready","status":"True","reason":"Ready"}]}})");
  auto seen = objectSeenOf(parsed);
  EXPECT_EQ(seen.generation, 2);
  EXPECT_TRUE(seen.hasStatus);
  EXPECT_EQ(seen.statusObservedGeneration, 2);
  EXPECT_TRUE(seen.statusReady);
  EXPECT_EQ(seen.statusReason, "Ready");
}

}  // namespace
}  // namespace spr::runtime

namespace spr::runtime {
namespace {

TEST(WorkQueue, UserKeysGoAheadOfPollsAndPollsAreCapped) {
  WorkQueue q;
  q.setPollCap(1);
  q.add("poll-1", WorkQueue::Priority::kPoll);
  q.add("poll-2", WorkQueue::Priority::kPoll);
  q.add("user", WorkQueue::Priority::kUser);
  q.add("poll-3", WorkQueue::Priority::kPoll);
  q.add("poll-3", WorkQueue::Priority::kUser);  // a user action on a key waiting to poll promotes it
  q.add("retry", WorkQueue::Priority::kRetry);
  std::string key;
  ASSERT_TRUE(q.get(&key));
  EXPECT_EQ(key, "user");
  ASSERT_TRUE(q.get(&key));
  EXPECT_EQ(key, "poll-3");
  ASSERT_TRUE(q.get(&key));
  EXPECT_EQ(key, "retry") << "retries go ahead of polls, behind users";
  ASSERT_TRUE(q.get(&key));
  EXPECT_EQ(key, "poll-1");
  // The one poll slot is taken: poll-2 waits although a worker is free; a user key does not.
  q.add("user-2", WorkQueue::Priority::kUser);
  ASSERT_TRUE(q.get(&key));
  EXPECT_EQ(key, "user-2");
  EXPECT_EQ(q.depth(), 1u);
  q.done("poll-1");
  ASSERT_TRUE(q.get(&key));
  EXPECT_EQ(key, "poll-2");
  q.shutdown();
}

}  // namespace
}  // namespace spr::runtime
