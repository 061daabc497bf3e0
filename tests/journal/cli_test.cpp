// `spr journal verify|stats` as a user runs them: the real binary on a journal written
// here, tampered with RocksDB's own `ldb` tool; non-journal directories exit 2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/journal/codec.h"
#include "core/journal/journal.h"
#include "raw_db.h"
#include "test_util.h"

namespace spr::journal {
namespace {

using testing::TempDir;

constexpr const char* kLdb = "/usr/bin/ldb";

class JournalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    spr_ = testing::sprBinary();
    ASSERT_FALSE(spr_.empty()) << "SPR_BINARY is not set and no spr binary was compiled in";
    auto j = Journal::open(dir()).value();
    for (int i = 0; i < 6; ++i) {
      std::string tenant = i % 2 == 0 ? "acme" : "acme-2";
      ASSERT_TRUE(j->append(testing::observed(tenant, tenant, "o" + std::to_string(i % 3)), Sync::kSync).isOk());
    }
    head_ = j->chainHeadHex();
  }
  std::string dir() const { return tmp_.sub("journal"); }
  testing::RunResult spr(const std::vector<std::string>& args) {
    std::vector<std::string> argv;
    argv.reserve(args.size() + 1);
    argv.push_back(spr_);
    for (const auto& a : args) argv.push_back(a);
    return testing::run(argv, tmp_.path());
  }
  testing::RunResult ldb(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kLdb, "--db=" + dir(), "--column_family=log"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run(argv, tmp_.path());
  }
  static size_t lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

  TempDir tmp_;
  std::string spr_, head_;
};

TEST_F(JournalCli, VerifyPassesOnAnIntactJournal) {
  auto r = spr({"journal", "verify", "--journal", dir()});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(lines(r.out), 1u) << r.out;
  EXPECT_NE(r.out.find("OK: 6 records verified"), std::string::npos) << r.out;
}

TEST_F(JournalCli, AnchorPrintsTheChainHead) {
  auto r = spr({"journal", "verify", "--journal", dir(), "--anchor"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, head_ + "\n");
}

TEST_F(JournalCli, VerifyNamesARecordDeletedWithLdb) {
  auto del = ldb({"--key_hex", "delete", "0x0000000000000004"});
  ASSERT_EQ(del.exitCode, 0) << del.out << del.err;
  auto r = spr({"journal", "verify", "--journal", dir()});
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAILED at sequence 4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("missing"), std::string::npos) << r.out;
}

TEST_F(JournalCli, VerifyNamesTheLastRecordDeletedWithLdb) {
  ASSERT_EQ(ldb({"--key_hex", "delete", "0x0000000000000006"}).exitCode, 0);
  auto r = spr({"journal", "verify", "--journal", dir(), "--json"});
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << r.out;
  EXPECT_EQ(json["ok"], false);
  EXPECT_EQ(json["firstBadSeq"], 6);
}

TEST_F(JournalCli, VerifyNamesARecordAlteredWithLdb) {
  std::string value;
  {
    testing::RawDb raw(dir());
    value = raw.get("log", testing::seqKey(3));
  }
  size_t at = value.find("o2");
  ASSERT_NE(at, std::string::npos);
  value[at + 1] = '9';
  auto put = ldb({"--key_hex", "--value_hex", "put", "0x0000000000000003", "0x" + toHex(value)});
  ASSERT_EQ(put.exitCode, 0) << put.out << put.err;
  auto r = spr({"journal", "verify", "--journal", dir()});
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAILED at sequence 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hash mismatch (content edited)"), std::string::npos) << r.out;
}

TEST_F(JournalCli, StatsCountsRecordsObjectsTenants) {
  auto r = spr({"journal", "stats", "--journal", dir(), "--json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << r.out;
  EXPECT_EQ(json["records"], 6);
  EXPECT_EQ(json["tenants"], 2);
  EXPECT_EQ(json["objects"], 6);  // o0..o2 in two namespaces
  EXPECT_EQ(json["lastSeq"], 6);
  EXPECT_GT(json["bytes"].get<uint64_t>(), 0u);
  auto text = spr({"journal", "stats", "--journal", dir()});
  EXPECT_EQ(text.exitCode, 0);
  EXPECT_NE(text.out.find("6 records"), std::string::npos) << text.out;
}

// `--effects`: the check of the kill -9 test by hand: Create effects per object.
TEST_F(JournalCli, StatsEffectsCountsCreatesPerObject) {
  {
    auto j = Journal::open(dir()).value();
    auto effect = [&](const std::string& name, uint64_t id, const std::string& command, bool completed) {
      Record q = testing::observed("acme", "acme", name);
      q.payload = EffectRequested{id, command, "{}", 1};
      ASSERT_TRUE(j->append(q, Sync::kSync).isOk());
      if (!completed) return;
      Record c = testing::observed("acme", "acme", name);
      EffectCompleted done;
      done.effectId = id;
      done.command = command;
      c.payload = done;
      ASSERT_TRUE(j->append(c, Sync::kSync).isOk());
    };
    effect("o0", 1, "Create", true);
    effect("o1", 2, "Create", true);
    effect("o1", 3, "Create", false);  // a second Create on o1, never completed
    effect("o0", 4, "Observe", true);
  }
  auto r = spr({"journal", "stats", "--journal", dir(), "--effects", "--json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << r.out;
  EXPECT_EQ(json["effects"]["Create"]["requested"], 3);
  EXPECT_EQ(json["effects"]["Create"]["objects"], 2);
  EXPECT_EQ(json["effects"]["Create"]["mostOnOneObject"], 2);
  EXPECT_EQ(json["effects"]["Create"]["completed"]["Succeeded"], 2);
  EXPECT_EQ(json["effects"]["Observe"]["requested"], 1);
  auto text = spr({"journal", "stats", "--journal", dir(), "--effects"});
  EXPECT_EQ(text.exitCode, 0);
  EXPECT_NE(text.out.find("3 on 2 objects, at most 2 on one; completed: Succeeded 2"), std::string::npos) << text.out;
}

TEST_F(JournalCli, WorksBesideARunningWriter) {
  auto writer = Journal::open(dir()).value();  // holds RocksDB's lock, like `spr run`
  ASSERT_TRUE(writer->append(testing::observed("acme", "acme", "o9"), Sync::kSync).isOk());
  auto stats = spr({"journal", "stats", "--journal", dir(), "--json"});
  ASSERT_EQ(stats.exitCode, 0) << stats.err;
  EXPECT_EQ(nlohmann::json::parse(stats.out)["records"], 7);
  auto verify = spr({"journal", "verify", "--journal", dir()});
  EXPECT_EQ(verify.exitCode, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("7 records verified"), std::string::npos) << verify.out;
}

TEST_F(JournalCli, NonJournalDirectoryExits2WithOneLine) {
  std::filesystem::create_directories(tmp_.sub("photos"));
  std::ofstream(tmp_.sub("photos/cat.jpg")) << "meow";
  for (const char* sub : {"stats", "verify"}) {
    auto r = spr({"journal", sub, "--journal", tmp_.sub("photos")});
    EXPECT_EQ(r.exitCode, 2) << sub;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("not an spr journal"), std::string::npos) << r.err;
  }
}

TEST_F(JournalCli, MissingDirectoryExits2AndIsNotCreated) {
  auto r = spr({"journal", "stats", "--journal", tmp_.sub("nope")});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp_.sub("nope")));
}

TEST_F(JournalCli, NewerSchemaExits2NamingBothVersions) {
  {
    testing::RawDb raw(dir());
    ASSERT_TRUE(raw.put("meta", "sys/schema_version", std::to_string(kSchemaVersion + 1)));
  }
  auto r = spr({"journal", "verify", "--journal", dir()});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("schema version " + std::to_string(kSchemaVersion + 1)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("up to " + std::to_string(kSchemaVersion)), std::string::npos) << r.err;
}

TEST_F(JournalCli, BadUsageExits2) {
  EXPECT_EQ(spr({"journal", "verify"}).exitCode, 2);
  EXPECT_EQ(spr({"journal", "frobnicate", "--journal", dir()}).exitCode, 2);
  EXPECT_EQ(spr({"journal", "stats", "--journal", dir(), "--bogus"}).exitCode, 2);
  EXPECT_EQ(spr({"journal"}).exitCode, 2);
  auto help = spr({"journal", "--help"});
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_NE(help.out.find("verify"), std::string::npos);
}

}  // namespace
}  // namespace spr::journal
