// The write-ahead log stays bounded: while appending it holds a small multiple of the
// memtables, not every record written; after a graceful close it holds nothing, so the
// read-only commands do not replay it.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/journal/journal.h"
#include "test_util.h"

namespace spr::journal {
namespace {

uint64_t walBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log") total += e.file_size();
  }
  return total;
}

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

}  // namespace
}  // namespace spr::journal
