// core/fold: what the runtime journals reads back as the same fold input and command;
// older records (no typed reason / rejected flag) read through their fallbacks; journal
// and object data of the wrong shape never throws.
#include <gtest/gtest.h>

#include "core/fold/fold_input.h"

namespace spr::fold {
namespace {

namespace lc = lifecycle;
using nlohmann::json;

TEST(FoldInput, EffectDoneRoundTripsThroughItsRecord) {
  lc::EffectDone done;
  done.effectId = 9;
  done.op = lc::Op::kObserve;
  done.outcome = lc::Outcome::kUserError;
  done.exists = true;
  done.drift = true;
  done.ready = false;
  done.reason = "VersionNotAllowed";
  done.message = "version 9 is not offered";
  journal::EffectCompleted c =
      completedOf(done, "UserError", json{{"exists", true}, {"drift", true}, {"ready", false}}, {});
  EXPECT_EQ(c.outcome, journal::Outcome::kUserError);
  EXPECT_EQ(c.reason, "VersionNotAllowed");
  lc::EffectDone back = effectDoneOf(c);
  EXPECT_EQ(back.effectId, 9u);
  EXPECT_EQ(back.op, lc::Op::kObserve);
  EXPECT_EQ(back.outcome, lc::Outcome::kUserError);
  EXPECT_TRUE(back.exists);
  EXPECT_TRUE(back.drift);
  EXPECT_FALSE(back.ready);
  EXPECT_EQ(back.reason, "VersionNotAllowed");
  EXPECT_EQ(back.message, done.message);
}

TEST(FoldInput, OlderRecordsReadTheirReasonFromResultJsonThenTheEventText) {
  journal::EffectCompleted c;
  c.command = "Create";
  c.outcome = journal::Outcome::kTransientError;
  c.resultJson = R"({"reason":"ClusterUnreachable"})";
  EXPECT_EQ(effectDoneOf(c).reason, "ClusterUnreachable");
  c.resultJson = "null";
  journal::Record r;
  r.payload = c;
  auto in = inputOf(r, "EffectDone #8 Create TransientError reason=Quota message=\"x reason=no\"");
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(std::get<lc::EffectDone>(*in).reason, "Quota");
  in = inputOf(r, "EffectDone #8 Create TransientError message=\"has reason=inside the message\"");
  EXPECT_EQ(std::get<lc::EffectDone>(*in).reason, "");
}

TEST(FoldInput, WriteStatusCommandRoundTripsThroughItsRecord) {
  lc::Command c;
  c.op = lc::Op::kWriteStatus;
  c.effectId = 4;
  c.status = {"Ready", true, "Ready", "the service is ready", 3};
  journal::EffectRequested q = requestedOf(c, json{{"generation", 3}}, 17);
  EXPECT_EQ(q.causeSeq, 17u);
  auto back = commandOf(q);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(back->op, c.op);
  EXPECT_EQ(back->effectId, 4u);
  EXPECT_TRUE(back->status == c.status);
  q.inputJson = R"({"status":{"phase":7,"ready":"yes","observedGeneration":"3"}})";  // wrong types: defaults
  back = commandOf(q);
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->status.phase, "");
  EXPECT_FALSE(back->status.ready);
  q.inputJson = "{}";
  back = commandOf(q);
  ASSERT_FALSE(back.isOk());
  EXPECT_NE(back.status().message().find("WriteStatus #4"), std::string::npos) << back.status().message();
  q.command = "Explode";
  EXPECT_NE(commandOf(q).status().message().find("unknown command 'Explode'"), std::string::npos);
}

TEST(FoldInput, RejectedIsTypedWithALegacyFallback) {
  lc::State s;
  s.objectKey = "a/b";
  lc::FoldResult rejected = lc::fold(s, lc::TimerFired{77});  // no timer armed: rejected
  ASSERT_TRUE(rejected.rejected);
  journal::Transition t = transitionOf(s.phase, rejected, lc::TimerFired{77}, 5);
  EXPECT_TRUE(t.rejected);
  EXPECT_EQ(t.from, t.to);
  EXPECT_TRUE(wasRejected(t));
  journal::Transition old{"Ready", "Ready", "rejected: TimerFired token 3 is stale", 5, false};
  EXPECT_TRUE(wasRejected(old));
  old.event = "TimerFired token=3";
  EXPECT_FALSE(wasRejected(old));
}

TEST(FoldInput, ObjectAndConfigDataOfTheWrongShapeNeverThrow) {
  json odd = {
      {"metadata", {{"generation", "7"}, {"finalizers", "not-a-list"}, {"annotations", {{kOperationAnnotation, 1}}}}}};
  lc::ObjectSeen seen = objectSeenOf(odd);
  EXPECT_EQ(seen.generation, 0);
  EXPECT_FALSE(seen.hasFinalizer);
  EXPECT_EQ(seen.operation, "");
  EXPECT_EQ(objectSeenOf(json("a string")).generation, 0);
  for (const char* poll : {".", "1..s", "s", "-", "5x", ""})
    EXPECT_EQ(parseDurationMs(json(poll), 60000), 60000) << poll;
  EXPECT_EQ(parseDurationMs(json("1m30s"), 1), 90000);
  lc::ConfigSeen cfg = configSeenOf(journal::WatchType::kModified, json{{"metadata", 5}, {"spec", "odd"}});
  EXPECT_TRUE(cfg.present);
  EXPECT_EQ(cfg.pollIntervalMs, 60000);
  journal::Record r;
  r.payload = journal::Observed{"platform", journal::WatchType::kAdded, "{not json", "1", 0};
  auto in = inputOf(r);
  ASSERT_TRUE(in.has_value());
  EXPECT_FALSE(std::get<lc::ConfigSeen>(*in).present);
  journal::EffectCompleted c;
  c.resultJson = R"({"exists":"yes","reason":5})";
  EXPECT_FALSE(effectDoneOf(c).exists);
  EXPECT_EQ(effectDoneOf(c).reason, "");
}

TEST(FoldInput, OutcomesMapByNameNotByNumber) {
  for (auto o : {lc::Outcome::kSucceeded, lc::Outcome::kTransientError, lc::Outcome::kUserError, lc::Outcome::kUnknown})
    EXPECT_STREQ(journal::outcomeName(journalOutcomeOf(o)), lc::outcomeName(o));
  for (auto o : {journal::Outcome::kSucceeded, journal::Outcome::kTransientError, journal::Outcome::kUserError,
                 journal::Outcome::kUnknown})
    EXPECT_EQ(journalOutcomeOf(outcomeOf(o)), o);
}

// The runtime's stamps on its journaled copy of the ProviderConfig (the CA bundle's digest,
// the count of `reconcile` requests) are part of the hash: a changed bundle or a reconcile
// re-reconciles every object. Without stamps the hash is the spec's, as journals before them.
TEST(FoldInput, ConfigHashCoversTheRuntimesStampsAndOnlyThem) {
  json config = {{"metadata", {{"name", "template"}}}, {"spec", {{"image", "x"}}}};
  const std::string plain = configSeenOf(journal::WatchType::kModified, config).configHash;
  EXPECT_EQ(plain, fnv1aHex(config["spec"].dump()));
  config["metadata"]["annotations"] = {{"unrelated", "1"}, {"openmcp.cloud/operation", "ignore"}};
  EXPECT_EQ(configSeenOf(journal::WatchType::kModified, config).configHash, plain);
  config["metadata"]["annotations"]["spr.openmcp.cloud/ca-bundle"] = "sha256:aa";
  const std::string first = configSeenOf(journal::WatchType::kModified, config).configHash;
  EXPECT_NE(first, plain);
  config["metadata"]["annotations"]["spr.openmcp.cloud/ca-bundle"] = "sha256:bb";
  const std::string second = configSeenOf(journal::WatchType::kModified, config).configHash;
  EXPECT_NE(second, first);
  config["metadata"]["annotations"]["spr.openmcp.cloud/reconcile-epoch"] = "1";
  EXPECT_NE(configSeenOf(journal::WatchType::kModified, config).configHash, second);
}

}  // namespace
}  // namespace spr::fold
