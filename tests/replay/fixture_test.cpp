// The replay-v1 fixture (tests/fixtures/journals/replay-v1): a `spr demo` journal written
// by the release that made replay compare typed fields (re-recorded when that release
// changed its decisions: status re-assertion, narrowed AccessRequests; then crossplane through
// Flux with openMCP's ProviderConfig, deletion blocking, effect inputs by digest; then the
// deletion check's list grant on ops.crossplane.io and the sim's real Crossplane CRDs; then apply listing
// its copies on the MCP to remove those the offer no longer names). It must keep
// replaying clean with every later build that decides the same way, reworded
// human text (describe() event texts, condition and provider messages) must make no
// divergence, and a changed decision must diverge at its record with a typed difference.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/journal/journal.h"
#include "replay/replay_run.h"
#include "replay/tape_checker.h"
#include "tests/replay/journal_maker.h"
#include "tests/support/paths.h"
#include "tests/support/run_command.h"

namespace spr::replay {
namespace {

namespace lc = lifecycle;
using nlohmann::json;

constexpr uint64_t kFixtureRecords = 260;
constexpr uint64_t kReplayedRecords = 259;  // all but the ProcessStarted record, which replay skips

class ReplayV1Fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::tempDir("v1");
    std::filesystem::copy(spr::testing::fixturesDir() + "/journals/replay-v1", dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::vector<journal::Record> records() {
    auto j = journal::Journal::openForReading(dir_);
    EXPECT_TRUE(j.isOk()) << j.status().toString();
    std::vector<journal::Record> out;
    if (!j.isOk()) return out;
    EXPECT_TRUE((*j)->scan(1,
                           [&](const journal::Record& r) {
                             out.push_back(r);
                             return true;
                           })
                    .isOk());
    return out;
  }
  std::string dir_;
};

TEST_F(ReplayV1Fixture, ReplaysCleanAndVerifiesWithThisBuild) {
  int status = 0;
  std::string out = spr::testing::runCommand(spr::testing::sprBinary() + " replay --journal " + dir_, &status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("replayed " + std::to_string(kReplayedRecords) + " records"), std::string::npos) << out;
  EXPECT_NE(out.find("no divergence"), std::string::npos) << out;
  out = spr::testing::runCommand(spr::testing::sprBinary() + " journal verify --journal " + dir_, &status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
}

// The records with their describe() event texts and provider messages reworded: what
// the journal says and what this build says then differ only in human text.
std::vector<journal::Record> reworded(std::vector<journal::Record> records) {
  for (auto& r : records) {
    if (auto* t = std::get_if<journal::Transition>(&r.payload))
      t->event = t->event.rfind("rejected: ", 0) == 0 ? "rejected: (reworded)" : "(reworded event)";
    if (auto* c = std::get_if<journal::EffectCompleted>(&r.payload))
      if (!c->message.empty()) c->message = "(reworded) " + c->message;
  }
  return records;
}

// A fold that words every condition message differently (this build's wording).
lc::FoldResult rewordingFold(const lc::State& s, const lc::Input& in) {
  static const std::string kPrefix = "(reworded) ";
  lc::State unworded = s;
  if (unworded.status.message.rfind(kPrefix, 0) == 0) unworded.status.message.erase(0, kPrefix.size());
  lc::FoldResult r = lc::fold(unworded, in);
  for (auto& any : r.commands)
    if (auto* c = std::get_if<lc::Command>(&any))
      if (c->op == lc::Op::kWriteStatus) c->status.message = kPrefix + c->status.message;
  if (!r.rejected) r.state.status.message = kPrefix + r.state.status.message;
  return r;
}

TEST_F(ReplayV1Fixture, RewordedTextsAndMessagesMakeNoDivergence) {
  auto all = records();
  ASSERT_EQ(all.size(), kFixtureRecords);
  ReplayOptions options;
  options.fold = rewordingFold;
  journal::ObjectId api;
  for (const auto& r : all)
    if (r.object.cluster == "onboarding") api = r.object;
  auto provider = providerServing(api);
  ASSERT_TRUE(provider.isOk()) << provider.status().toString();
  TapeEffectChecker checker(std::move(*provider), "");
  options.effects = &checker;
  Replayer replayer(options);
  ASSERT_TRUE(replayRecords(reworded(all), replayer, options).isOk());
  ASSERT_FALSE(replayer.divergence()) << replayer.divergence()->seq << " " << replayer.divergence()->field << ": "
                                      << replayer.divergence()->expected << " | " << replayer.divergence()->got;
  EXPECT_EQ(replayer.records(), kReplayedRecords);
  EXPECT_GT(replayer.effectsChecked(), 40u);  // the provider messages were re-run, not skipped
}

TEST_F(ReplayV1Fixture, ChangedDecisionDivergesAtItsRecordWithATypedDifference) {
  // A "build" that reports Ready as not ready: a decision, not a wording.
  ReplayOptions options;
  options.fold = [](const lc::State& s, const lc::Input& in) {
    lc::FoldResult r = lc::fold(s, in);
    for (auto& any : r.commands)
      if (auto* c = std::get_if<lc::Command>(&any))
        if (c->op == lc::Op::kWriteStatus && c->status.phase == "Ready") c->status.ready = false;
    return r;
  };
  auto all = records();
  uint64_t want = 0;
  std::string object;
  for (const auto& r : all) {
    const auto* q = std::get_if<journal::EffectRequested>(&r.payload);
    if (want == 0 && q && q->command == "WriteStatus" &&
        q->inputJson.find("\"phase\":\"Ready\"") != std::string::npos) {
      want = r.seq;
      object = r.object.ns + "/" + r.object.name;
    }
  }
  ASSERT_NE(want, 0u);
  Replayer replayer(options);
  ASSERT_TRUE(replayRecords(all, replayer, options).isOk());
  ASSERT_TRUE(replayer.divergence());
  const Divergence& d = *replayer.divergence();
  EXPECT_EQ(d.seq, want);
  EXPECT_EQ(d.object, object);
  EXPECT_EQ(d.what, "command");
  EXPECT_EQ(d.field, "status.ready");
  EXPECT_EQ(d.expected, "true");
  EXPECT_EQ(d.got, "false");
}

}  // namespace
}  // namespace spr::replay
