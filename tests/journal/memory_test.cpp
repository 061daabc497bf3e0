// What the journal holds in memory while `spr run` polls. The retention check reads the
// first record every minute; cached, each read of a block that compaction had since moved
// to a new file stayed in the block cache for good (heaptrack on a 30-minute soak: ~50 KB
// a minute). That read and the look-up of a new body must leave the cache alone.
#include <gtest/gtest.h>

#include <vector>

#include "core/journal/journal.h"
#include "test_util.h"

namespace spr::journal {
namespace {

TEST(JournalMemory, RetentionReadsAndNewBodiesLeaveTheBlockCacheAlone) {
  testing::TempDir tmp;
  auto j = Journal::open(tmp.sub("j")).value();
  Record r = testing::observed("acme", "acme", "obj");
  for (int i = 0; i < 200; ++i) {
    std::get<Observed>(r.payload).objectJson = std::string(2000, 'a' + i % 26) + std::to_string(i);
    ASSERT_TRUE(j->append(r, Sync::kNone).isOk());
  }
  ASSERT_TRUE(j->compactStorage().isOk());  // everything in table files
  const uint64_t before = j->memory().blockCache;
  std::vector<int64_t> firstTimes, quarterTimes;
  for (int round = 0; round < 5; ++round) {
    // What the retention check reads every minute: the first record's time, and one a quarter in.
    auto first = j->wallTimeAt(j->firstSeq());
    ASSERT_TRUE(first.isOk());
    firstTimes.push_back(*first);
    auto quarter = j->wallTimeAt(j->firstSeq() + 50);
    ASSERT_TRUE(quarter.isOk());
    quarterTimes.push_back(*quarter);
    // A body never seen before: looked up in the table files, then written.
    std::get<Observed>(r.payload).objectJson = "new body " + std::string(3000, 'z') + std::to_string(round);
    ASSERT_TRUE(j->append(r, Sync::kNone).isOk());
  }
  EXPECT_EQ(j->memory().blockCache, before) << "reads that will not repeat filled the block cache";
  auto records = j->readRange(j->firstSeq(), j->firstSeq() + 50, 1000);
  ASSERT_TRUE(records.isOk());
  for (int64_t t : firstTimes) EXPECT_EQ(t, records->front().wallUnixNanos);
  for (int64_t t : quarterTimes) EXPECT_EQ(t, records->back().wallUnixNanos);
  auto past = j->wallTimeAt(j->nextSeq());
  ASSERT_TRUE(past.isOk());
  EXPECT_EQ(*past, 0) << "no record at or after the next sequence";
}

}  // namespace
}  // namespace spr::journal
