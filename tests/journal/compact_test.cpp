// dropBefore(): the journal loses its oldest records but stays verifiable, queryable
// and appendable, across reopen; tampering with what is left is still caught.
#include <gtest/gtest.h>

#include "core/journal/journal.h"
#include "raw_db.h"
#include "test_util.h"

namespace spr::journal {
namespace {

using testing::observed;
using testing::TempDir;

void appendTen(Journal& j) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(j.append(observed("acme", "acme", "a"), Sync::kNone).isOk());
}

TEST(JournalDrop, KeepsTheRestVerifiableAcrossReopen) {
  TempDir tmp;
  {
    auto j = Journal::open(tmp.path()).value();
    appendTen(*j);
    ASSERT_TRUE(j->dropBefore(6).isOk());
    EXPECT_EQ(j->firstSeq(), 6u);
    EXPECT_EQ(j->readRange(1, 100, 100).value().front().seq, 6u);
    EXPECT_EQ(j->readTenant("acme", Order::kOldestFirst, 100).value().size(), 5u);
    VerifyReport v = j->verify();
    EXPECT_TRUE(v.ok) << v.reason;
    EXPECT_EQ(v.recordsChecked, 5u);
    ASSERT_TRUE(j->compactStorage().isOk());
  }
  auto j = Journal::open(tmp.path()).value();
  EXPECT_EQ(j->firstSeq(), 6u);
  EXPECT_EQ(j->append(observed("acme", "acme", "a"), Sync::kSync).value(), 11u);
  EXPECT_TRUE(j->verify().ok) << j->verify().reason;
  auto stats = j->stats().value();
  EXPECT_EQ(stats.records, 6u);
  EXPECT_EQ(stats.firstSeq, 6u);
}

TEST(JournalDrop, DroppingEverythingKeepsTheChainHead) {
  TempDir tmp;
  auto j = Journal::open(tmp.path()).value();
  appendTen(*j);
  const std::string head = j->chainHeadHex();
  ASSERT_TRUE(j->dropBefore(11).isOk());
  EXPECT_TRUE(j->readRange(1, 100, 100).value().empty());
  EXPECT_TRUE(j->verify().ok);
  EXPECT_EQ(j->verify().headHash, head);
  EXPECT_EQ(j->append(observed("acme", "acme", "a"), Sync::kNone).value(), 11u);
  EXPECT_EQ(toHex(j->readRange(11, 11, 1).value().at(0).prevHash), head);
  EXPECT_TRUE(j->verify().ok);
  EXPECT_FALSE(j->dropBefore(13).isOk()) << "cannot drop records that do not exist yet";
}

TEST(JournalDrop, TamperingAfterADropIsStillCaught) {
  TempDir tmp;
  {
    auto j = Journal::open(tmp.path()).value();
    appendTen(*j);
    ASSERT_TRUE(j->dropBefore(4).isOk());
  }
  {
    testing::RawDb raw(tmp.path());
    ASSERT_TRUE(raw.del("log", testing::seqKey(4)));
  }
  VerifyReport v = Journal::open(tmp.path()).value()->verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.firstBadSeq, 4u);
}

}  // namespace
}  // namespace spr::journal
