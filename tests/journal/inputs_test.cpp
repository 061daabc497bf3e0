// Effect inputs by digest (schema 3) as a user meets them: a large EffectRequested input
// (a WriteStatus's status, a config) is stored once in `bodies` however many records
// carry it and is read back whole; a small one stays inline; `spr journal verify` finds
// an input body deleted with `ldb`; compaction keeps the bodies kept records use; a
// bundle carries them; and a journal written by the previous release (schema 2, inputs
// inline: the replay-v1 fixture) still verifies, reads and takes schema-3 records.
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

// What a WriteStatus input looks like (fold_input.cpp requestedOf): ~300 bytes.
std::string statusInput(const std::string& message) {
  return R"({"configSeq":2,"generation":1,"objectResourceVersion":"44","status":{"message":")" + message +
         R"(","observedGeneration":1,"phase":"Progressing","ready":false,"reason":"Unavailable"}})";
}
// What an Observe input looks like: under the 64-byte body threshold.
const std::string kSmallInput = R"({"configSeq":2,"generation":1,"objectResourceVersion":"44"})";

Record requested(const std::string& name, uint64_t effectId, const std::string& input) {
  Record r = testing::observed("acme", "acme", name);
  r.payload = EffectRequested{effectId, "WriteStatus", input, 1};
  return r;
}

const EffectRequested& requestOf(const Record& r) { return std::get<EffectRequested>(r.payload); }

class Inputs : public ::testing::Test {
 protected:
  std::string dir() const { return tmp_.sub("journal"); }
  std::unique_ptr<Journal> open() {
    Options existing;
    existing.createIfMissing = !std::filesystem::exists(dir());
    auto j = Journal::open(dir(), existing);
    EXPECT_TRUE(j.isOk()) << j.status().toString();
    return j.isOk() ? std::move(j).value() : nullptr;
  }
  testing::RunResult run(std::vector<std::string> argv) { return testing::run(argv, tmp_.path()); }
  testing::RunResult spr(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {testing::sprBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
  Record stored(uint64_t seq) {
    RawDb raw(dir());
    EXPECT_TRUE(raw.ok());
    return decodeRecord(raw.get("log", seqKey(seq))).value();
  }
  TempDir tmp_;
};

TEST_F(Inputs, ALargeInputIsStoredOnceByDigestAndReadBackWhole) {
  const std::string input = statusInput(std::string(250, 'w'));
  {
    auto j = open();
    for (uint64_t i = 1; i <= 5; ++i) ASSERT_TRUE(j->append(requested("o1", i, input), Sync::kNone).isOk());
    auto all = j->readRange(1, 5, 10).value();
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(requestOf(all[4]).inputJson, input);
    EXPECT_TRUE(requestOf(all[4]).inputJsonDigest.empty());
    EXPECT_EQ(all[0].schemaVersion, 3u);
    EXPECT_TRUE(j->verify().ok) << j->verify().reason;
  }
  const Record s = stored(3);
  EXPECT_EQ(requestOf(s).inputJsonDigest, bodyDigest(input));
  EXPECT_TRUE(requestOf(s).inputJson.empty()) << "the record holds the digest, not the text";
  RawDb raw(dir());
  EXPECT_EQ(raw.get("bodies", bodyDigest(input)), input);
}

TEST_F(Inputs, ASmallInputStaysInline) {
  ASSERT_TRUE(open()->append(requested("o1", 1, kSmallInput), Sync::kNone).isOk());
  const Record s = stored(1);
  EXPECT_EQ(requestOf(s).inputJson, kSmallInput);
  EXPECT_TRUE(requestOf(s).inputJsonDigest.empty());
}

TEST_F(Inputs, AnInputBodyDeletedWithLdbIsFoundAndNamesTheRecordsUsingIt) {
  const std::string input = statusInput("gone"), other = statusInput("kept");
  {
    auto j = open();
    ASSERT_TRUE(j->append(requested("a", 1, other), Sync::kNone).isOk());
    ASSERT_TRUE(j->append(requested("b", 2, input), Sync::kNone).isOk());
    ASSERT_TRUE(j->append(requested("c", 3, input), Sync::kSync).isOk());
  }
  auto del = run({"/usr/bin/ldb", "--db=" + dir(), "--column_family=bodies", "delete", "--key_hex",
                  "0x" + toHex(bodyDigest(input))});
  ASSERT_EQ(del.exitCode, 0) << del.out << del.err;
  auto r = spr({"journal", "verify", "--journal", dir()});
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("sha256:" + toHex(bodyDigest(input))), std::string::npos) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("used by 2 record(s): 2, 3"), std::string::npos) << r.out << r.err;
  auto read = open()->readRange(2, 2, 1);
  ASSERT_FALSE(read.isOk());
  EXPECT_NE(read.status().message().find("missing"), std::string::npos) << read.status().message();
}

TEST_F(Inputs, CompactionKeepsTheInputBodiesOfKeptRecordsAndDropsTheRest) {
  const std::string kept = statusInput("kept"), gone = statusInput("gone");
  {
    auto j = open();
    ASSERT_TRUE(j->append(requested("a", 1, gone), Sync::kNone).isOk());
    ASSERT_TRUE(j->append(requested("b", 2, kept), Sync::kNone).isOk());
    ASSERT_TRUE(j->dropBefore(2).isOk());
    EXPECT_TRUE(j->verify().ok) << j->verify().reason;
    EXPECT_EQ(requestOf(j->readRange(2, 2, 1).value()[0]).inputJson, kept);
  }
  RawDb raw(dir());
  EXPECT_EQ(raw.get("bodies", bodyDigest(kept)), kept);
  EXPECT_EQ(raw.get("bodies", bodyDigest(gone)), "");
}

TEST_F(Inputs, ABundleCarriesTheInputsWhole) {
  const std::string input = statusInput(std::string(100, 'b'));
  ASSERT_TRUE(open()->append(requested("o1", 1, input), Sync::kSync).isOk());
  const std::string bundle = tmp_.sub("o1.json");
  auto r = spr({"journal", "export", "--journal", dir(), "--object", "acme/o1", "--out", bundle});
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(testing::slurp(bundle).find(std::string(100, 'b')), std::string::npos)
      << "a bundle is self-contained: the input's text, not its digest";
  // Replay re-hashes every record of a bundle (exit 2: a record does not match its hash).
  r = spr({"replay", "--bundle", bundle, "--no-tapes"});
  EXPECT_NE(r.exitCode, 2) << r.out << r.err;
}

// The v2-demo fixture was written by the release before inputs went by digest
// (schema 2): its WriteStatus inputs are inline, and must stay so to keep their hashes.
TEST_F(Inputs, AJournalOfThePreviousReleaseKeepsItsInlineInputsVerifiesAndTakesNewRecords) {
  std::filesystem::copy(spr::testing::fixturesDir() + "/journals/v2-demo", dir());
  uint64_t inlineLarge = 0, last = 0;
  {
    auto ro = Journal::openForReading(dir());
    ASSERT_TRUE(ro.isOk()) << ro.status().toString();
    VerifyReport report = (*ro)->verify();
    ASSERT_TRUE(report.ok) << report.reason;
    last = (*ro)->nextSeq() - 1;
  }
  {
    RawDb raw(dir());
    ASSERT_TRUE(raw.ok());
    for (uint64_t seq = 1; seq <= last; ++seq) {
      const Record s = decodeRecord(raw.get("log", seqKey(seq))).value();
      const auto* q = std::get_if<EffectRequested>(&s.payload);
      if (q == nullptr || q->inputJson.size() < kBodyThreshold) continue;
      EXPECT_EQ(s.schemaVersion, 2u);
      EXPECT_TRUE(q->inputJsonDigest.empty());
      ++inlineLarge;
    }
  }
  ASSERT_GT(inlineLarge, 0u) << "the fixture has WriteStatus inputs of 64 bytes or more, inline";
  const std::string input = statusInput("new");
  {
    auto j = open();
    ASSERT_TRUE(j->append(requested("new", 99, input), Sync::kSync).isOk());
    VerifyReport report = j->verify();
    EXPECT_TRUE(report.ok) << report.reason;
    EXPECT_EQ(requestOf(j->readRange(last + 1, last + 1, 1).value()[0]).inputJson, input);
  }
  EXPECT_EQ(requestOf(stored(last + 1)).inputJsonDigest, bodyDigest(input));
  auto r = spr({"journal", "verify", "--journal", dir()});
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
}

}  // namespace
}  // namespace spr::journal
