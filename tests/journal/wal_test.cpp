// The write-ahead log stays bounded: while appending it holds a small multiple of the
// memtables, not every record written, and no more than Options::flushEvery of appends
// however slowly they come; after a graceful close it holds nothing, so the read-only
// commands do not replay it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/journal/journal.h"
#include "test_util.h"

namespace spr::journal {
namespace {

uint64_t filesBytes(const std::string& dir, const std::string& extension) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == extension) total += e.file_size();
  }
  return total;
}
uint64_t walBytes(const std::string& dir) { return filesBytes(dir, ".log"); }

TEST(JournalWal, StaysBoundedWhileAppendingAndEmptyAfterAGracefulClose) {
  testing::TempDir tmp;
  const std::string dir = tmp.sub("j");
  uint64_t written = 0, mostWal = 0;
  {
    auto j = Journal::open(dir).value();
    Record r = testing::observed("acme", "acme", "obj");
    std::get<Observed>(r.payload).objectJson = std::string(4000, 'x');
    for (int i = 0; i < 20000; ++i) {
      ASSERT_TRUE(j->append(r, Sync::kNone).isOk());
      written += 4000;
      if (i % 1000 == 999) mostWal = std::max(mostWal, walBytes(dir));
    }
  }
  EXPECT_GT(written, 64u << 20);
  EXPECT_LT(mostWal, 48u << 20) << "the WAL grew with the records (" << mostWal << " bytes of " << written << ")";
  EXPECT_EQ(walBytes(dir), 0u) << "a graceful close left a WAL for every reader to replay";
  auto ro = Journal::openForReading(dir);
  ASSERT_TRUE(ro.isOk()) << ro.status().toString();
  EXPECT_EQ((*ro)->nextSeq(), 20001u);
}

// An operator polling slowly appends a little at a time: without the periodic flush its
// records would sit in the WAL (and be replayed by every read-only command, and counted
// by `du` as growth) until 16 MiB had accumulated.
TEST(JournalWal, AnAppendAfterTheFlushPeriodMovesTheWalIntoTables) {
  testing::TempDir tmp;
  const std::string dir = tmp.sub("j");
  Options options;
  options.flushEvery = std::chrono::milliseconds(300);
  auto j = Journal::open(dir, options).value();
  Record r = testing::observed("acme", "acme", "obj");
  ASSERT_TRUE(j->append(r, Sync::kSync).isOk());  // starts the period
  ASSERT_EQ(filesBytes(dir, ".sst"), 0u) << "a fresh journal has nothing in tables yet";
  const uint64_t walBefore = walBytes(dir);
  ASSERT_GT(walBefore, 0u);
  // Keep appending, as a slow operator would, until the flush has written its tables
  // (it runs in the background); the period passes within the first few appends.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int appends = 1;
  while (filesBytes(dir, ".sst") == 0 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(j->append(r, Sync::kSync).isOk());
    ++appends;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // pacing the appends, not synchronising
  }
  EXPECT_GT(filesBytes(dir, ".sst"), 0u) << "no flush after " << appends << " appends over 30 s";
  EXPECT_TRUE(j->verify().ok) << j->verify().reason;
}

TEST(JournalWal, NoFlushBeforeTheFlushPeriod) {
  testing::TempDir tmp;
  const std::string dir = tmp.sub("j");
  Options options;
  options.flushEvery = std::chrono::hours(1);
  auto j = Journal::open(dir, options).value();
  Record r = testing::observed("acme", "acme", "obj");
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(j->append(r, Sync::kNone).isOk());
  EXPECT_EQ(filesBytes(dir, ".sst"), 0u) << "200 small appends flushed well before the period";
}

}  // namespace
}  // namespace spr::journal
