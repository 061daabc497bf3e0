// Content-addressed bodies as a user meets them: a large object is stored once however
// many records carry it, reads give it back whole, compaction deletes what no kept
// record uses, and `spr journal verify` finds a body deleted or altered with RocksDB's
// `ldb`, naming the records that use it. Also: stored bytes must be canonical, and a
// journal written before bodies existed (schema 1, a fixture) still opens, verifies,
// takes new records and replays.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/journal/bodies.h"
#include "core/journal/codec.h"
#include "core/journal/journal.h"
#include "raw_db.h"
#include "test_util.h"

namespace spr::journal {
namespace {

using testing::RawDb;
using testing::seqKey;
using testing::TempDir;

constexpr const char* kLdb = "/usr/bin/ldb";

std::string bigObject(const std::string& name, size_t annotationBytes) {
  return R"({"metadata":{"name":")" + name + R"(","annotations":{"big":")" + std::string(annotationBytes, 'a') +
         R"("}}})";
}

Record observedWith(const std::string& name, const std::string& json) {
  Record r = testing::observed("acme", "acme", name);
  std::get<Observed>(r.payload).objectJson = json;
  return r;
}

Record completedWith(const std::string& name, const std::string& response) {
  Record r = testing::observed("acme", "acme", name);
  EffectCompleted e;
  e.effectId = 7;
  e.command = "Observe";
  e.tape.push_back(TapeEntry{"mcp", "GET", "/api/v1/namespaces/x", "", 200, response, ""});
  e.tape.push_back(TapeEntry{"mcp", "PUT", "/api/v1/namespaces/x", response, 200, response, ""});
  r.payload = e;
  return r;
}

std::string hexKey(const std::string& digest) { return "0x" + toHex(digest); }

class Bodies : public ::testing::Test {
 protected:
  std::string dir() const { return tmp_.sub("journal"); }
  std::unique_ptr<Journal> open() {
    auto j = Journal::open(dir());
    EXPECT_TRUE(j.isOk()) << j.status().toString();
    return j.isOk() ? std::move(j).value() : nullptr;
  }
  testing::RunResult ldb(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kLdb, "--db=" + dir(), "--column_family=bodies"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run(argv, tmp_.path());
  }
  testing::RunResult spr(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {testing::sprBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run(argv, tmp_.path());
  }
  void oldJournalStillWorks(const std::string& fixture, uint64_t records);
  TempDir tmp_;
};

TEST_F(Bodies, AMegabyteObjectIsStoredOnceAndReadBackWhole) {
  const std::string json = bigObject("o1", 1 << 20);
  {
    auto j = open();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(j->append(observedWith("o1", json), Sync::kNone).isOk());
    ASSERT_TRUE(j->append(completedWith("o1", json), Sync::kNone).isOk());
    auto all = j->readRange(1, 6, 10).value();
    ASSERT_EQ(all.size(), 6u);
    EXPECT_EQ(std::get<Observed>(all[0].payload).objectJson, json);
    EXPECT_TRUE(std::get<Observed>(all[0].payload).objectJsonDigest.empty());
    EXPECT_EQ(std::get<EffectCompleted>(all[5].payload).tape[1].requestBody, json);
    EXPECT_EQ(j->readObject(all[0].object.key(), Order::kNewestFirst, 1).value()[0], all[5]);
    auto stats = j->stats().value();
    EXPECT_LT(stats.bytes, 8u * 1024) << "records hold digests, not 6 copies of the megabyte";
    EXPECT_TRUE(j->verify().ok) << j->verify().reason;
  }
  RawDb raw(dir());
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw.get("bodies", bodyDigest(json)), json);
  Record stored = decodeRecord(raw.get("log", seqKey(1))).value();
  EXPECT_EQ(std::get<Observed>(stored.payload).objectJsonDigest, bodyDigest(json));
  EXPECT_TRUE(std::get<Observed>(stored.payload).objectJson.empty());
}

TEST_F(Bodies, SmallTextStaysInline) {
  auto j = open();
  ASSERT_TRUE(j->append(testing::observed("acme", "acme", "small"), Sync::kNone).isOk());
  j.reset();
  RawDb raw(dir());
  Record stored = decodeRecord(raw.get("log", seqKey(1))).value();
  EXPECT_TRUE(std::get<Observed>(stored.payload).objectJsonDigest.empty());
  EXPECT_FALSE(std::get<Observed>(stored.payload).objectJson.empty());
}

TEST_F(Bodies, BodyDeletedWithLdbIsFoundAndNamesTheRecordsUsingIt) {
  const std::string shared = bigObject("shared", 500), other = bigObject("other", 500);
  {
    auto j = open();
    ASSERT_TRUE(j->append(observedWith("a", other), Sync::kNone).isOk());
    ASSERT_TRUE(j->append(observedWith("b", shared), Sync::kNone).isOk());
    ASSERT_TRUE(j->append(completedWith("c", shared), Sync::kSync).isOk());
  }
  auto del = ldb({"delete", "--key_hex", hexKey(bodyDigest(shared))});
  ASSERT_EQ(del.exitCode, 0) << del.out << del.err;
  auto r = spr({"journal", "verify", "--journal", dir()});
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  const std::string all = r.out + r.err;
  EXPECT_NE(all.find("sha256:" + toHex(bodyDigest(shared))), std::string::npos) << all;
  EXPECT_NE(all.find("missing"), std::string::npos) << all;
  EXPECT_NE(all.find("used by 2 record(s): 2, 3"), std::string::npos) << all;
  auto j = open();
  EXPECT_EQ(j->verify().firstBadSeq, 2u);
  auto read = j->readRange(2, 2, 1);
  ASSERT_FALSE(read.isOk());
  EXPECT_NE(read.status().message().find("missing"), std::string::npos) << read.status().message();
}

TEST_F(Bodies, BodyAlteredWithLdbIsFound) {
  const std::string json = bigObject("x", 300);
  {
    auto j = open();
    ASSERT_TRUE(j->append(observedWith("x", json), Sync::kSync).isOk());
  }
  std::string altered = json;
  altered[altered.size() / 2] = 'b';
  auto put = ldb({"put", "--key_hex", hexKey(bodyDigest(json)), altered});
  ASSERT_EQ(put.exitCode, 0) << put.out << put.err;
  VerifyReport report = open()->verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.firstBadSeq, 1u);
  EXPECT_NE(report.reason.find("does not hash to its digest"), std::string::npos) << report.reason;
}

TEST_F(Bodies, FlippedPaddingByteFailsVerify) {
  {
    auto j = open();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(j->append(testing::observed("acme", "acme", "obj0"), Sync::kNone).isOk());
  }
  {
    RawDb raw(dir());
    std::string v = raw.get("log", seqKey(2));
    // "acme" is a 4-byte text: its NUL, then 3 padding bytes to the word boundary.
    size_t at = v.find(std::string("acme\0\0\0\0", 8));
    ASSERT_NE(at, std::string::npos);
    v[at + 6] = 'Z';
    ASSERT_TRUE(decodeRecord(v).isOk()) << "a padding byte is not part of the decoded record";
    ASSERT_TRUE(raw.put("log", seqKey(2), v));
  }
  VerifyReport report = open()->verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.firstBadSeq, 2u);
  EXPECT_NE(report.reason.find("not the canonical encoding"), std::string::npos) << report.reason;
}

TEST_F(Bodies, DropBeforeDeletesOnlyBodiesNoKeptRecordUses) {
  const std::string kept = bigObject("kept", 400), gone = bigObject("gone", 400);
  {
    auto j = open();
    ASSERT_TRUE(j->append(observedWith("a", kept), Sync::kNone).isOk());
    ASSERT_TRUE(j->append(observedWith("b", gone), Sync::kNone).isOk());
    ASSERT_TRUE(j->append(completedWith("c", kept), Sync::kNone).isOk());
    ASSERT_TRUE(j->dropBefore(3).isOk());
    EXPECT_TRUE(j->verify().ok) << j->verify().reason;
    EXPECT_EQ(std::get<EffectCompleted>(j->readRange(3, 3, 1).value()[0].payload).tape[0].responseBody, kept);
    // A body dropped by compaction is stored again when a new record needs it.
    ASSERT_TRUE(j->append(observedWith("d", gone), Sync::kNone).isOk());
    EXPECT_EQ(std::get<Observed>(j->readRange(4, 4, 1).value()[0].payload).objectJson, gone);
  }
  RawDb raw(dir());
  EXPECT_EQ(raw.get("bodies", bodyDigest(kept)), kept);
  EXPECT_EQ(raw.get("bodies", bodyDigest(gone)), gone);
}

TEST_F(Bodies, DropBeforeDeletesAnUnusedBody) {
  const std::string gone = bigObject("gone", 400);
  {
    auto j = open();
    ASSERT_TRUE(j->append(observedWith("b", gone), Sync::kNone).isOk());
    ASSERT_TRUE(j->append(testing::observed("acme", "acme", "small"), Sync::kNone).isOk());
    ASSERT_TRUE(j->dropBefore(2).isOk());
    EXPECT_TRUE(j->verify().ok);
  }
  RawDb raw(dir());
  EXPECT_EQ(raw.get("bodies", bodyDigest(gone)), "");
}

// An unchanged poll's tape (13 requests in real polls) is one body, stored once.
TEST_F(Bodies, AnUnchangedTapeIsOneBodyStoredOnceAndAVerifiedDeletionNamesEveryUse) {
  const std::string response = bigObject("deployment", 2000);
  std::string tapeDigest;
  {
    auto j = open();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(j->append(completedWith("o", response), Sync::kNone).isOk());
    EXPECT_LT(j->stats().value().bytes, 20u * 600) << "each record holds one tape digest, not 4 KB of bodies";
    auto back = j->readRange(20, 20, 1).value();
    EXPECT_EQ(std::get<EffectCompleted>(back[0].payload).tape,
              std::get<EffectCompleted>(completedWith("o", response).payload).tape);
    for (const auto& [digest, body] : bodiesOf({completedWith("o", response)})) {
      if (body != response) tapeDigest = digest;
    }
  }
  ASSERT_FALSE(tapeDigest.empty());
  auto del = ldb({"delete", "--key_hex", hexKey(tapeDigest)});
  ASSERT_EQ(del.exitCode, 0) << del.out << del.err;
  VerifyReport report = open()->verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.firstBadSeq, 1u);
  EXPECT_NE(report.reason.find("used by 20 record(s): 1, 2, 3"), std::string::npos) << report.reason;
}

TEST_F(Bodies, ArchiveWritersGetTheBodiesOfWholeRecords) {
  const std::string json = bigObject("x", 300);
  auto bodies = bodiesOf({observedWith("x", json), completedWith("y", json), testing::observed("a", "a", "s")});
  ASSERT_EQ(bodies.size(), 2u) << "the shared object, and the tape of the EffectCompleted";
  EXPECT_EQ(bodies[bodyDigest(json)], json);
  for (const auto& [digest, body] : bodies) {
    if (body == json) continue;
    auto tape = decodeTapeBody(body);
    ASSERT_TRUE(tape.isOk()) << tape.status().toString();
    ASSERT_EQ(tape->size(), 2u);
    EXPECT_EQ((*tape)[1].requestBodyDigest, bodyDigest(json));
  }
}

// Journals written by spr demo with earlier schemas open, verify, take new records (in
// this build's schema) and verify again; replay reads them.
void Bodies::oldJournalStillWorks(const std::string& fixture, uint64_t records) {
  std::filesystem::copy(spr::testing::fixturesDir() + "/journals/" + fixture, dir());
  {
    auto ro = Journal::openForReading(dir());
    ASSERT_TRUE(ro.isOk()) << ro.status().toString();
    VerifyReport report = (*ro)->verify();
    EXPECT_TRUE(report.ok) << report.reason;
    EXPECT_EQ(report.recordsChecked, records);
  }
  // Replay reads it (exit 2 would be an unreadable journal). Whether it diverges is a
  // question of decisions, not storage: this release decides differently from the build
  // that wrote the fixture (it re-asserts status after stale watch events and narrows the
  // AccessRequest it sends), and replay rightly reports that as a typed divergence.
  auto r = spr({"replay", "--journal", dir(), "--no-tapes"});
  EXPECT_TRUE(r.exitCode == 0 || r.exitCode == 1) << r.out << r.err;
  EXPECT_NE(r.out.find("replayed "), std::string::npos) << r.out;
  {
    Options existingOnly;
    existingOnly.createIfMissing = false;
    auto j = std::move(Journal::open(dir(), existingOnly)).value();
    ASSERT_TRUE(j->append(observedWith("new", bigObject("new", 1000)), Sync::kSync).isOk());
    VerifyReport report = j->verify();
    EXPECT_TRUE(report.ok) << report.reason;
    EXPECT_EQ(report.recordsChecked, records + 1);
    EXPECT_EQ(j->readRange(1, records + 1, 1000).value().size(), records + 1);
  }
  r = spr({"journal", "verify", "--journal", dir()});
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
}

// v1-demo: schema 1, before bodies existed.
TEST_F(Bodies, SchemaOneJournalOpensVerifiesTakesNewRecordsAndReplays) { oldJournalStillWorks("v1-demo", 232); }

// v2-demo: schema 2, before effect inputs went by digest (crossplane through Flux).
TEST_F(Bodies, SchemaTwoJournalOpensVerifiesTakesNewRecordsAndReplays) { oldJournalStillWorks("v2-demo", 199); }

}  // namespace
}  // namespace spr::journal
