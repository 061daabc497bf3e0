// A failed journal write poisons the journal: that append and every later one fail,
// nothing half-written is visible, and a reopen (an operator restart) recovers.
// One test uses the Journal's hook, one a real RocksDB Env whose WAL sync fails; the
// same Env shows that Sync::kSync really syncs the WAL.
#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include <atomic>

#include "core/journal/journal.h"
#include "test_util.h"

namespace spr::journal {
namespace {

using testing::observed;
using testing::TempDir;

// A WAL file whose Append/Sync fail while `failing` is set: a disk that went bad.
class FailingWal : public rocksdb::WritableFileWrapper {
 public:
  FailingWal(std::unique_ptr<rocksdb::WritableFile> base, const std::atomic<bool>& failing, std::atomic<int>& syncs)
      : rocksdb::WritableFileWrapper(base.get()), base_(std::move(base)), failing_(failing), syncs_(syncs) {}
  rocksdb::Status Append(const rocksdb::Slice& data) override {
    if (failing_) return rocksdb::Status::IOError("injected: disk write failed");
    return rocksdb::WritableFileWrapper::Append(data);
  }
  rocksdb::Status Sync() override {
    ++syncs_;
    if (failing_) return rocksdb::Status::IOError("injected: fsync failed");
    return rocksdb::WritableFileWrapper::Sync();
  }
  rocksdb::Status Fsync() override { return Sync(); }

 private:
  std::unique_ptr<rocksdb::WritableFile> base_;
  const std::atomic<bool>& failing_;
  std::atomic<int>& syncs_;
};

class FaultEnv : public rocksdb::EnvWrapper {
 public:
  FaultEnv() : rocksdb::EnvWrapper(rocksdb::Env::Default()) {}
  const char* Name() const override { return "SprFaultEnv"; }
  rocksdb::Status NewWritableFile(const std::string& f, std::unique_ptr<rocksdb::WritableFile>* r,
                                  const rocksdb::EnvOptions& options) override {
    rocksdb::Status s = rocksdb::EnvWrapper::NewWritableFile(f, r, options);
    if (s.ok() && f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0) {
      *r = std::make_unique<FailingWal>(std::move(*r), failing, walSyncs);
      ++walsWrapped;
    }
    return s;
  }
  std::atomic<bool> failing{false};
  std::atomic<int> walsWrapped{0};
  std::atomic<int> walSyncs{0};
};

void expectPoisoned(Journal& j) {
  EXPECT_TRUE(j.poisoned());
  for (Sync sync : {Sync::kNone, Sync::kSync}) {
    auto again = j.append(observed("acme", "acme", "a"), sync);
    ASSERT_FALSE(again.isOk());
    EXPECT_EQ(again.status().code(), Code::kIoError);
    EXPECT_NE(again.status().message().find("poisoned"), std::string::npos) << again.status().message();
  }
}

TEST(JournalPoison, FailedWriteRefusesEveryLaterAppend) {
  TempDir tmp;
  {
    auto j = Journal::open(tmp.path()).value();
    ASSERT_TRUE(j->append(observed("acme", "acme", "a"), Sync::kSync).isOk());
    j->failNextWriteForTesting();
    auto failed = j->append(observed("acme", "acme", "a"), Sync::kSync);
    ASSERT_FALSE(failed.isOk());
    EXPECT_EQ(failed.status().code(), Code::kIoError);
    expectPoisoned(*j);
    EXPECT_EQ(j->nextSeq(), 2u);
    EXPECT_EQ(j->readRange(1, 100, 100).value().size(), 1u) << "reads still work";
  }
  auto j = Journal::open(tmp.path()).value();
  EXPECT_FALSE(j->poisoned());
  EXPECT_EQ(j->append(observed("acme", "acme", "a"), Sync::kSync).value(), 2u);
  EXPECT_TRUE(j->verify().ok);
}

// The sync policy reaches the disk: kSync fsyncs the WAL before append returns, kNone not.
TEST(JournalSync, SyncPolicyDecidesWhetherTheWalIsSynced) {
  TempDir tmp;
  FaultEnv env;
  Options options;
  options.env = &env;
  auto j = Journal::open(tmp.path(), options).value();
  const int before = env.walSyncs.load();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(j->append(observed("acme", "acme", "a"), Sync::kNone).isOk());
  EXPECT_EQ(env.walSyncs.load(), before);
  ASSERT_TRUE(j->append(observed("acme", "acme", "a"), Sync::kSync).isOk());
  EXPECT_GT(env.walSyncs.load(), before);
}

TEST(JournalPoison, RealWalSyncFailurePoisonsTheJournal) {
  TempDir tmp;
  FaultEnv env;
  Options options;
  options.env = &env;
  {
    auto j = Journal::open(tmp.path(), options).value();
    ASSERT_GT(env.walsWrapped.load(), 0) << "the fault Env must see RocksDB's WAL";
    ASSERT_TRUE(j->append(observed("acme", "acme", "a"), Sync::kSync).isOk());
    env.failing = true;
    auto failed = j->append(observed("acme", "acme", "b"), Sync::kSync);
    ASSERT_FALSE(failed.isOk());
    EXPECT_EQ(failed.status().code(), Code::kIoError);
    env.failing = false;  // the disk recovers; the journal must still refuse
    expectPoisoned(*j);
  }
  auto j = Journal::open(tmp.path()).value();
  EXPECT_TRUE(j->verify().ok) << j->verify().reason;
  auto records = j->readRange(1, 100, 100).value();
  ASSERT_GE(records.size(), 1u);
  // The failed record may or may not have reached the WAL; what is there is whole.
  EXPECT_EQ(j->nextSeq(), records.size() + 1);
}

}  // namespace
}  // namespace spr::journal
