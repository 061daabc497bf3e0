// Replay of real journals (written by the runtime's Reconciler with fake clusters):
// no divergence with this build's fold, the exact divergent record when one decision is
// changed, time travel, bundles, tenant isolation and compaction.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/journal/journal.h"
#include "replay/bundle.h"
#include "replay/compact.h"
#include "replay/inputs.h"
#include "replay/replay_run.h"
#include "replay/timeline.h"
#include "tests/replay/journal_maker.h"

namespace spr::replay {
namespace {

using testing::tempDir;

class ReplayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    master_ = new std::string(
        (std::filesystem::temp_directory_path() / ("spr-replay-master-" + std::to_string(::getpid()))).string());
    std::filesystem::remove_all(*master_);
    testing::writeScenarioJournal(*master_);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*master_);
    delete master_;
  }
  void SetUp() override {
    dir_ = tempDir("j");
    std::filesystem::copy(*master_, dir_, std::filesystem::copy_options::recursive);
    auto j = journal::Journal::open(dir_);
    ASSERT_TRUE(j.isOk()) << j.status().toString();
    journal_ = std::move(*j);
  }
  void TearDown() override {
    journal_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string key(const std::string& ns, const std::string& name) {
    auto k = resolveObject(*journal_, ns + "/" + name);
    EXPECT_TRUE(k.isOk()) << k.status().toString();
    return k.isOk() ? *k : "";
  }
  // The first record (global order) matching `pred`.
  uint64_t firstSeq(const std::function<bool(const journal::Record&)>& pred) {
    uint64_t found = 0;
    EXPECT_TRUE(journal_
                    ->scan(journal_->firstSeq(),
                           [&](const journal::Record& r) {
                             if (pred(r)) found = r.seq;
                             return found == 0;
                           })
                    .isOk());
    return found;
  }
  static std::string* master_;
  std::string dir_;
  std::unique_ptr<journal::Journal> journal_;
};
std::string* ReplayTest::master_ = nullptr;

TEST_F(ReplayTest, RecordedJournalIncludingCrashReplaysWithNoDivergence) {
  ReplayOptions options;
  Replayer replayer(options);
  ASSERT_TRUE(replayJournal(*journal_, replayer, options).isOk());
  ASSERT_FALSE(replayer.divergence()) << replayer.divergence()->seq << " " << replayer.divergence()->expected << " | "
                                      << replayer.divergence()->got;
  EXPECT_EQ(replayer.records(), journal_->nextSeq() - 1);
  EXPECT_EQ(replayer.objects().size(), 4u);
  EXPECT_GT(replayer.folds(), 40u);
  // The crash left an Unknown Create, resolved by Observe; replay folded it the same way.
  EXPECT_EQ(replayer.objects().at(key("acme-2", "crash")).state.phase, lifecycle::Phase::kReady);
  EXPECT_EQ(replayer.objects().at(key("acme", "c")).state.phase, lifecycle::Phase::kDeleted);
}

TEST_F(ReplayTest, RewordedConditionMessageIsNoDivergence) {
  // A "build" that words every condition message differently: human text, not a decision.
  static const std::string kPrefix = "reworded: ";
  ReplayOptions options;
  options.fold = [](const lifecycle::State& s, const lifecycle::Input& in) {
    lifecycle::State unworded = s;  // the fold of this build words messages with kPrefix
    if (unworded.status.message.rfind(kPrefix, 0) == 0) unworded.status.message.erase(0, kPrefix.size());
    lifecycle::FoldResult r = lifecycle::fold(unworded, in);
    for (auto& any : r.commands)
      if (auto* c = std::get_if<lifecycle::Command>(&any))
        if (c->op == lifecycle::Op::kWriteStatus) c->status.message = kPrefix + c->status.message;
    if (!r.rejected) r.state.status.message = kPrefix + r.state.status.message;
    return r;
  };
  Replayer replayer(options);
  ASSERT_TRUE(replayJournal(*journal_, replayer, options).isOk());
  EXPECT_FALSE(replayer.divergence()) << replayer.divergence()->field << ": " << replayer.divergence()->expected
                                      << " | " << replayer.divergence()->got;
  EXPECT_EQ(replayer.records(), journal_->nextSeq() - 1);
}

TEST_F(ReplayTest, ChangedDecisionInTheFoldNamesTheExactRecordAndField) {
  // A "build" whose fold gives Ready a different reason: the first WriteStatus(Ready)
  // EffectRequested in the journal is where it must diverge, on status.reason.
  ReplayOptions options;
  options.fold = [](const lifecycle::State& s, const lifecycle::Input& in) {
    lifecycle::FoldResult r = lifecycle::fold(s, in);
    for (auto& any : r.commands)
      if (auto* c = std::get_if<lifecycle::Command>(&any))
        if (c->op == lifecycle::Op::kWriteStatus && c->status.phase == "Ready") c->status.reason = "AllGood";
    return r;
  };
  uint64_t expected = firstSeq([](const journal::Record& r) {
    const auto* q = std::get_if<journal::EffectRequested>(&r.payload);
    return q && q->command == "WriteStatus" && q->inputJson.find("\"phase\":\"Ready\"") != std::string::npos;
  });
  ASSERT_NE(expected, 0u);
  Replayer replayer(options);
  ASSERT_TRUE(replayJournal(*journal_, replayer, options).isOk());
  ASSERT_TRUE(replayer.divergence());
  const Divergence& d = *replayer.divergence();
  EXPECT_EQ(d.seq, expected);
  EXPECT_EQ(d.what, "command");
  EXPECT_EQ(d.field, "status.reason");
  EXPECT_EQ(d.expected, "Ready");
  EXPECT_EQ(d.got, "AllGood");
  auto at = journal_->readRange(expected, expected, 1);
  ASSERT_TRUE(at.isOk() && !at->empty());
  EXPECT_EQ(d.objectKey, at->front().object.key());
  EXPECT_FALSE(d.before.empty());
  EXPECT_EQ(replayer.records(), expected);  // stopped right there
}

TEST_F(ReplayTest, ChangedTransitionIsReportedAtTheTransitionRecord) {
  // A fold that never backs off (treats a transient Observe failure as a user error).
  ReplayOptions options;
  options.fold = [](const lifecycle::State& s, const lifecycle::Input& in) {
    lifecycle::Input changed = in;
    if (auto* d = std::get_if<lifecycle::EffectDone>(&changed))
      if (d->outcome == lifecycle::Outcome::kTransientError) d->outcome = lifecycle::Outcome::kUserError;
    return lifecycle::fold(s, changed);
  };
  uint64_t expected = firstSeq([](const journal::Record& r) {
    const auto* t = std::get_if<journal::Transition>(&r.payload);
    return t && t->to == "Backoff";
  });
  ASSERT_NE(expected, 0u);
  Replayer replayer(options);
  ASSERT_TRUE(replayJournal(*journal_, replayer, options).isOk());
  ASSERT_TRUE(replayer.divergence());
  EXPECT_EQ(replayer.divergence()->seq, expected);
  EXPECT_EQ(replayer.divergence()->what, "transition");
  EXPECT_EQ(replayer.divergence()->field, "to");
  EXPECT_EQ(replayer.divergence()->expected, "Backoff");
  EXPECT_EQ(replayer.divergence()->got, "UserError");
}

TEST_F(ReplayTest, UntilStopsAndShowStateGivesStateObjectAndPendingCommands) {
  const std::string k = key("acme", "a");
  // The first EffectRequested of acme/a: as of it, that command is pending.
  uint64_t until = firstSeq([&](const journal::Record& r) {
    return r.object.key() == k && std::holds_alternative<journal::EffectRequested>(r.payload);
  });
  ReplayOptions options;
  options.objectKey = k;
  options.untilSeq = until;
  Replayer replayer(options);
  ASSERT_TRUE(replayJournal(*journal_, replayer, options).isOk());
  ASSERT_FALSE(replayer.divergence());
  const ObjectReplay& o = replayer.objects().at(k);
  EXPECT_EQ(o.lastSeq, until);
  nlohmann::json view = stateView(o, until);
  EXPECT_EQ(view["object"], "acme/a");
  EXPECT_EQ(view["phase"], "Pending");
  EXPECT_EQ(view["apiObject"]["metadata"]["name"], "a");
  ASSERT_EQ(view["pendingCommands"].size(), 1u);
  EXPECT_EQ(view["pendingCommands"][0].get<std::string>().rfind("AddFinalizer", 0), 0u);
}

TEST_F(ReplayTest, TimelineListsEveryRecordInOrderWithCauses) {
  auto b = exportObject(*journal_, key("acme", "a"));
  ASSERT_TRUE(b.isOk());
  auto rows = timelineRows(b->records);
  auto own = journal_->readObject(key("acme", "a"), journal::Order::kOldestFirst, 10000);
  ASSERT_TRUE(own.isOk());
  ASSERT_EQ(rows.size(), own->size());
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_LT(rows[i - 1]["seq"], rows[i]["seq"]);
  // The first transition was caused by the ConfigSeen of the ProviderConfig event, or the ADDED.
  bool sawUpdate = false;
  for (const auto& row : rows)
    if (row["record"] == "Transition" && row.value("commands", "").find("Update") != std::string::npos)
      sawUpdate = true;
  EXPECT_TRUE(sawUpdate);
  EXPECT_EQ(rows.front()["record"], "Observed");
}

TEST_F(ReplayTest, ObjectBundleRoundTripsAndReplays) {
  auto b = exportObject(*journal_, key("acme", "a"));
  ASSERT_TRUE(b.isOk());
  const std::string path = dir_ + ".bundle";
  ASSERT_TRUE(writeBundle(path, b->header, b->records).isOk());
  auto back = readBundle(path);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  ASSERT_EQ(back->records.size(), b->records.size());
  for (size_t i = 0; i < b->records.size(); ++i) EXPECT_TRUE(back->records[i] == b->records[i]) << i;
  bool hasConfig = false;
  for (const auto& r : back->records) hasConfig |= isConfigRecord(r);
  EXPECT_TRUE(hasConfig);
  ReplayOptions options;
  Replayer replayer(options);
  ASSERT_TRUE(replayRecords(back->records, replayer, options).isOk());
  EXPECT_FALSE(replayer.divergence());
  EXPECT_EQ(replayer.objects().size(), 1u);
  std::filesystem::remove(path);
}

TEST_F(ReplayTest, TenantExportNeverIncludesAPrefixTenant) {
  auto acme = exportTenant(*journal_, "acme");
  auto acme2 = exportTenant(*journal_, "acme-2");
  ASSERT_TRUE(acme.isOk() && acme2.isOk());
  size_t acmeRecords = 0, acme2Records = 0;
  for (const auto& r : acme->records) {
    if (isConfigRecord(r)) continue;
    EXPECT_EQ(r.tenant, "acme");
    ++acmeRecords;
  }
  for (const auto& r : acme2->records) {
    if (isConfigRecord(r)) continue;
    EXPECT_EQ(r.tenant, "acme-2");
    ++acme2Records;
  }
  EXPECT_GT(acmeRecords, 10u);
  EXPECT_GT(acme2Records, 10u);
}

TEST_F(ReplayTest, MalformedBundleNamesTheFileAndTheProblem) {
  const std::string path = dir_ + ".bad";
  {
    std::ofstream out(path);
    out << "{\"format\":\"spr-replay-bundle\",\"version\":1,\"kind\":\"object\"}\n{\"seq\": 1}\n";
  }
  auto b = readBundle(path);
  ASSERT_FALSE(b.isOk());
  EXPECT_NE(b.status().message().find(path), std::string::npos);
  EXPECT_NE(b.status().message().find("line 2"), std::string::npos) << b.status().message();
  // A header field of the wrong type is named, not thrown as an internal error.
  for (const char* header : {R"({"format":"spr-replay-bundle","version":"1"})", R"({"format":7,"version":1})"}) {
    std::ofstream(path, std::ios::trunc) << header << "\n";
    b = readBundle(path);
    ASSERT_FALSE(b.isOk()) << header;
    EXPECT_NE(b.status().message().find("line 1"), std::string::npos) << b.status().message();
  }
  std::filesystem::remove(path);
}

TEST_F(ReplayTest, CompactArchivesOldHistoryAndBothPartsReplayAndVerify) {
  // Cut in the middle: before acme/a's second generation was observed.
  uint64_t cutSeq = firstSeq([](const journal::Record& r) {
    const auto* o = std::get_if<journal::Observed>(&r.payload);
    return o && o->generation == 2;
  });
  ASSERT_GT(cutSeq, 1u);
  auto cutRecord = journal_->readRange(cutSeq, cutSeq, 1);
  ASSERT_TRUE(cutRecord.isOk());
  const std::string archive = dir_ + ".archive";
  auto res = compactJournal(*journal_, cutRecord->front().wallUnixNanos, archive);
  ASSERT_TRUE(res.isOk()) << res.status().toString();
  EXPECT_FALSE(res->nothingToDo);
  EXPECT_EQ(journal_->firstSeq(), res->keptFrom);
  EXPECT_GT(res->snapshots, 0u);
  journal::VerifyReport v = journal_->verify();
  EXPECT_TRUE(v.ok) << v.reason;
  // The live journal replays from its snapshots.
  ReplayOptions options;
  Replayer live(options);
  ASSERT_TRUE(replayJournal(*journal_, live, options).isOk());
  EXPECT_FALSE(live.divergence()) << live.divergence()->seq << " " << live.divergence()->expected << " | "
                                  << live.divergence()->got;
  // The archive replays on its own, and its head hash is the live chain's first prevHash.
  auto a = readBundle(archive);
  ASSERT_TRUE(a.isOk()) << a.status().toString();
  EXPECT_EQ(a->records.back().seq, res->keptFrom - 1);
  auto first = journal_->readRange(res->keptFrom, res->keptFrom, 1);
  ASSERT_TRUE(first.isOk());
  EXPECT_EQ(journal::toHex(first->front().prevHash), res->archiveHeadHash);
  Replayer old(options);
  ASSERT_TRUE(replayRecords(a->records, old, options).isOk());
  EXPECT_FALSE(old.divergence());
  std::filesystem::remove(archive);
}

}  // namespace
}  // namespace spr::replay
