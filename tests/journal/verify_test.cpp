// verify() finds the first bad record whatever was done to the log: a record edited,
// deleted (in the middle or at the end), records swapped, a record rewritten with a
// fresh hash, garbage bytes. Tampering is done with raw RocksDB on the closed journal.
#include <gtest/gtest.h>

#include "core/journal/codec.h"
#include "core/journal/journal.h"
#include "raw_db.h"
#include "test_util.h"

namespace spr::journal {
namespace {

using testing::RawDb;
using testing::seqKey;
using testing::TempDir;

constexpr uint64_t kRecords = 8;

class Verify : public ::testing::Test {
 protected:
  void SetUp() override {
    auto j = Journal::open(tmp_.path()).value();
    for (uint64_t i = 0; i < kRecords; ++i) {
      ASSERT_TRUE(j->append(testing::observed("acme", "acme", "obj" + std::to_string(i % 3)), Sync::kNone).isOk());
    }
    head_ = j->chainHeadHex();
  }
  VerifyReport verifyNow() {
    auto j = Journal::open(tmp_.path());
    EXPECT_TRUE(j.isOk()) << j.status().toString();
    return (*j)->verify();
  }
  TempDir tmp_;
  std::string head_;
};

TEST_F(Verify, IntactJournalPasses) {
  VerifyReport r = verifyNow();
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.recordsChecked, kRecords);
  EXPECT_EQ(r.firstBadSeq, 0u);
  EXPECT_EQ(r.headHash, head_);
}

TEST_F(Verify, EditedRecordIsNamed) {
  {
    RawDb raw(tmp_.path());
    ASSERT_TRUE(raw.ok());
    std::string v = raw.get("log", seqKey(5));
    size_t at = v.find("obj");
    ASSERT_NE(at, std::string::npos);
    v[at] = 'X';  // still decodes; the content changed
    ASSERT_TRUE(raw.put("log", seqKey(5), v));
  }
  VerifyReport r = verifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadSeq, 5u);
  EXPECT_NE(r.reason.find("hash mismatch"), std::string::npos) << r.reason;
  EXPECT_EQ(r.recordsChecked, 4u);
}

TEST_F(Verify, DeletedMiddleRecordIsNamed) {
  {
    RawDb raw(tmp_.path());
    ASSERT_TRUE(raw.del("log", seqKey(3)));
  }
  VerifyReport r = verifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadSeq, 3u);
  EXPECT_NE(r.reason.find("record 3 is missing"), std::string::npos) << r.reason;
}

TEST_F(Verify, DeletedLastRecordIsNamed) {
  {
    RawDb raw(tmp_.path());
    ASSERT_TRUE(raw.del("log", seqKey(kRecords)));
  }
  VerifyReport r = verifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadSeq, kRecords);
  EXPECT_NE(r.reason.find("missing"), std::string::npos) << r.reason;
}

TEST_F(Verify, DeletedFirstRecordIsNamed) {
  {
    RawDb raw(tmp_.path());
    ASSERT_TRUE(raw.del("log", seqKey(1)));
  }
  VerifyReport r = verifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadSeq, 1u);
}

TEST_F(Verify, SwappedRecordsAreNamed) {
  {
    RawDb raw(tmp_.path());
    std::string a = raw.get("log", seqKey(4)), b = raw.get("log", seqKey(6));
    ASSERT_TRUE(raw.put("log", seqKey(4), b));
    ASSERT_TRUE(raw.put("log", seqKey(6), a));
  }
  VerifyReport r = verifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadSeq, 4u);
  EXPECT_NE(r.reason.find("reordered"), std::string::npos) << r.reason;
}

TEST_F(Verify, RewrittenRecordWithFreshHashBreaksTheNextLink) {
  {
    RawDb raw(tmp_.path());
    Record r = decodeRecord(raw.get("log", seqKey(2))).value();
    r.tenant = "mallory";
    r.hash = computeHash(r).value();
    ASSERT_TRUE(raw.put("log", seqKey(2), encodeRecord(r).value()));
  }
  VerifyReport r = verifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadSeq, 3u);
  EXPECT_NE(r.reason.find("record 2 was rewritten"), std::string::npos) << r.reason;
}

TEST_F(Verify, RewrittenLastRecordDiffersFromTheStoredHead) {
  {
    RawDb raw(tmp_.path());
    Record r = decodeRecord(raw.get("log", seqKey(kRecords))).value();
    r.wallUnixNanos += 1;
    r.hash = computeHash(r).value();
    ASSERT_TRUE(raw.put("log", seqKey(kRecords), encodeRecord(r).value()));
  }
  VerifyReport r = verifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadSeq, kRecords);
  EXPECT_NE(r.reason.find("chain head"), std::string::npos) << r.reason;
}

// An audit reads the tenant index: hiding a record from it must not pass verify.
TEST_F(Verify, DeletedTenantIndexEntryIsNamed) {
  {
    RawDb raw(tmp_.path());
    ASSERT_TRUE(raw.del("by_tenant", std::string("acme") + '\0' + seqKey(6)));
  }
  VerifyReport r = verifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadSeq, 6u);
  EXPECT_NE(r.reason.find("tenant index"), std::string::npos) << r.reason;
}

TEST_F(Verify, RecordMovedToAnotherTenantsIndexIsNamed) {
  {
    RawDb raw(tmp_.path());
    ASSERT_TRUE(raw.del("by_tenant", std::string("acme") + '\0' + seqKey(2)));
    ASSERT_TRUE(raw.put("by_tenant", std::string("acme-2") + '\0' + seqKey(2), ""));
  }
  VerifyReport r = verifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadSeq, 2u);
}

TEST_F(Verify, ExtraObjectIndexEntryIsNamed) {
  {
    RawDb raw(tmp_.path());
    ASSERT_TRUE(raw.put("by_object", testing::objectId("acme", "obj1").key() + '\0' + seqKey(3), ""));
  }
  VerifyReport r = verifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadSeq, 3u);
  EXPECT_NE(r.reason.find("object index"), std::string::npos) << r.reason;
}

TEST_F(Verify, GarbageValueIsReportedNotACrash) {
  {
    RawDb raw(tmp_.path());
    ASSERT_TRUE(raw.put("log", seqKey(6), std::string(40, '\xee')));
  }
  VerifyReport r = verifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadSeq, 6u);
  auto j = Journal::open(tmp_.path()).value();
  auto read = j->readRange(1, kRecords, 100);
  ASSERT_FALSE(read.isOk());
  EXPECT_EQ(read.status().code(), Code::kCorruption);
  EXPECT_NE(read.status().message().find("record 6"), std::string::npos) << read.status().message();
}

}  // namespace
}  // namespace spr::journal
