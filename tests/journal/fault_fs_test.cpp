// Storage-fault test: the journal on a FileSystem (fault_fs.h) that, at a simulated power
// cut, keeps only what was synced: unsynced bytes, unsynced new files and unsynced renames
// are gone. Round after round, appends with Sync::kSync and Sync::kNone (single records and
// batches with states and meta) are cut at a random point and the journal is reopened from
// what survived: it always opens, verify passes, no synced record is lost or reordered, and
// every batch survives whole or not at all. Some rounds drop a prefix and compact first. SPR_FAULT_SEED=<seed> reruns
// one seed.
#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "core/journal/journal.h"
#include "tests/journal/fault_fs.h"
#include "tests/journal/test_util.h"

namespace spr::journal {
namespace {

using testing::FaultFs;
using testing::TempDir;

struct Appended {
  std::string name;      // the record's object name: unique, so order is checkable
  std::string stateKey;  // non-empty for the first record of a batch that wrote a state
};

struct Model {
  std::vector<Appended> records;  // in sequence order; records[i] has seq i+1
  uint64_t durableSeq = 0;        // the last sequence acknowledged by a synced write
  uint64_t firstSeq = 1;          // records before it were dropped (retention)
  int drops = 0;
  int roundsThatLostUnsynced = 0;
};

// Appends `n` records in one batch (states and meta when n > 1) or alone.
void appendSome(Journal& journal, Model& model, std::mt19937_64& rng) {
  const Sync sync = rng() % 3 == 0 ? Sync::kSync : Sync::kNone;
  const size_t n = 1 + rng() % 3;
  AppendBatch batch;
  batch.sync = sync;
  const uint64_t first = model.records.size() + 1;
  for (size_t i = 0; i < n; ++i) {
    const std::string name = "r" + std::to_string(first + i);
    Record r = testing::observed("tenant-" + std::to_string(rng() % 3), "ns", name, std::to_string(first + i));
    std::get<Observed>(r.payload).objectJson.append(rng() % 2 ? 2000 : 10, 'x');  // some WAL blocks span
    batch.records.push_back(std::move(r));
    model.records.push_back({name, ""});
  }
  if (n > 1) {
    const std::string key = "state-" + std::to_string(first);
    batch.states.push_back({key, "{\"seq\":" + std::to_string(first) + "}"});
    batch.meta.push_back({"fault-test/last", std::to_string(first + n - 1)});
    model.records[first - 1].stateKey = key;
  }
  Result<std::vector<uint64_t>> seqs = journal.append(std::move(batch));
  ASSERT_TRUE(seqs.isOk()) << seqs.status().toString();
  ASSERT_EQ(seqs->front(), first);
  if (sync == Sync::kSync) model.durableSeq = seqs->back();
}

// Checks the reopened journal against the model and trims the model to what survived.
void checkSurvivors(const Journal& journal, Model& model, int round) {
  const VerifyReport report = journal.verify();
  ASSERT_TRUE(report.ok) << "round " << round << ": " << report.reason;
  const uint64_t last = journal.nextSeq() - 1;
  ASSERT_GE(last, model.durableSeq) << "round " << round << ": synced records lost";
  ASSERT_LE(last, model.records.size()) << "round " << round << ": records appeared from nowhere";
  if (last < model.records.size()) ++model.roundsThatLostUnsynced;
  ASSERT_EQ(journal.firstSeq(), model.firstSeq) << "round " << round << ": a synced dropBefore was undone";
  Result<std::vector<Record>> records = journal.readRange(model.firstSeq, last, last + 1);
  ASSERT_TRUE(records.isOk()) << records.status().toString();
  ASSERT_EQ(records->size(), last + 1 - model.firstSeq);
  for (uint64_t seq = model.firstSeq; seq <= last; ++seq) {
    ASSERT_EQ((*records)[seq - model.firstSeq].object.name, model.records[seq - 1].name)
        << "round " << round << ": reordered at " << seq;
  }
  for (uint64_t i = 0; i < model.records.size(); ++i) {
    const std::string& key = model.records[i].stateKey;
    if (key.empty()) continue;
    Result<std::optional<std::string>> state = journal.latestState(key);
    ASSERT_TRUE(state.isOk()) << state.status().toString();
    EXPECT_EQ(state->has_value(), i < last) << "round " << round << ": batch at " << i + 1 << " split by the crash";
  }
  model.records.resize(last);
}

// Retention as `spr journal compact` runs it: drop a prefix (synced), then compact, which
// writes new SST files, a new MANIFEST and deletes old files: the riskiest moment for a cut.
void dropAndCompact(Journal& journal, Model& model, std::mt19937_64& rng) {
  const uint64_t next = journal.nextSeq();
  const uint64_t keep = model.firstSeq + rng() % (next - model.firstSeq + 1);
  ASSERT_TRUE(journal.dropBefore(keep).isOk());
  model.firstSeq = keep;
  model.durableSeq = next - 1;  // a synced write makes every earlier write durable
  ASSERT_TRUE(journal.compactStorage().isOk());
  ++model.drops;
}

TEST(JournalFaultFs, SyncedRecordsSurvivePowerCutsThatDropUnsyncedWrites) {
  uint64_t seed = 20261128;
  if (const char* env = std::getenv("SPR_FAULT_SEED")) seed = std::strtoull(env, nullptr, 10);
  std::mt19937_64 rng(seed);
  TempDir tmp;
  std::string live = tmp.sub("image-0");
  Model model;
  constexpr int kRounds = 60;
  for (int round = 0; round < kRounds; ++round) {
    auto fs = std::make_shared<FaultFs>();
    std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
    Options options;
    options.env = env.get();
    Result<std::unique_ptr<Journal>> journal = Journal::open(live, options);
    ASSERT_TRUE(journal.isOk()) << "seed " << seed << " round " << round << ": " << journal.status().toString();
    checkSurvivors(**journal, model, round);
    if (HasFatalFailure() || HasFailure()) {
      ADD_FAILURE() << "reproduce with SPR_FAULT_SEED=" << seed;
      return;
    }
    const int appends = static_cast<int>(rng() % 12);  // 0: the cut lands right after recovery
    const int dropAt = rng() % 5 == 0 ? static_cast<int>(rng() % (appends + 1)) : -1;
    for (int i = 0; i <= appends; ++i) {
      if (i == dropAt) dropAndCompact(**journal, model, rng);
      if (i < appends) appendSome(**journal, model, rng);
      ASSERT_FALSE(HasFatalFailure());
    }
    const std::string image = tmp.sub("image-" + std::to_string(round + 1));
    fs->crashImage(live, image);
    journal->reset();  // the process "dies"; what it writes while closing stays in `live`
    std::filesystem::remove_all(live);
    live = image;
  }
  // The fault filesystem must have had teeth: some cuts lost unsynced records.
  EXPECT_GT(model.roundsThatLostUnsynced, 0);
  EXPECT_GT(model.durableSeq, 0u);
  EXPECT_GT(model.drops, 0);
}

}  // namespace
}  // namespace spr::journal
