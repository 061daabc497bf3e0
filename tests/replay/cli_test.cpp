// The real `spr` binary on real journals: replay, time travel, export, audit (formats,
// tenant isolation, tamper evidence), compaction, and bad input.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdio>
#include <cstdlib>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/journal/journal.h"
#include "tests/journal/raw_db.h"
#include "tests/replay/journal_maker.h"
#include "tests/support/paths.h"

namespace spr::replay {
namespace {

using nlohmann::json;

struct SprRun {
  int code = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ReplayCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    master_ = new std::string(
        (std::filesystem::temp_directory_path() / ("spr-replay-cli-" + std::to_string(::getpid()))).string());
    std::filesystem::remove_all(*master_);
    testing::writeScenarioJournal(*master_);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*master_);
    delete master_;
  }
  void SetUp() override {
    dir_ = testing::tempDir("cli");
    std::filesystem::copy(*master_, dir_, std::filesystem::copy_options::recursive);
  }
  void TearDown() override {
    for (const char* suffix : {"", ".out", ".err", ".bundle", ".archive"}) std::filesystem::remove_all(dir_ + suffix);
  }
  SprRun spr(const std::string& args) {
    std::string cmd = spr::testing::sprBinary() + " " + args + " >" + dir_ + ".out 2>" + dir_ + ".err";
    int status = std::system(cmd.c_str());
    SprRun r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir_ + ".out");
    r.err = slurp(dir_ + ".err");
    return r;
  }
  static std::string* master_;
  std::string dir_;
};
std::string* ReplayCliTest::master_ = nullptr;

TEST_F(ReplayCliTest, ReplayReportsNoDivergenceAndJson) {
  SprRun r = spr("replay --journal " + dir_);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("no divergence"), std::string::npos) << r.out;
  r = spr("replay --journal " + dir_ + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_TRUE(j["divergence"].is_null());
  EXPECT_EQ(j["objects"], 4);
  EXPECT_GT(j["records"].get<int>(), 50);
}

TEST_F(ReplayCliTest, BadInputIsOneLineAndExitTwo) {
  SprRun r = spr("replay --journal " + dir_ + "-missing");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  std::filesystem::create_directories(dir_ + ".out.d");
  r = spr("replay --journal /etc");
  EXPECT_EQ(r.code, 2) << r.err;
  r = spr("replay --journal " + dir_ + " --object just-a-name --show-state");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("NAMESPACE/NAME"), std::string::npos) << r.err;
  { std::ofstream(dir_ + ".bundle") << "this is not a bundle\n"; }
  r = spr("replay --bundle " + dir_ + ".bundle");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(dir_ + ".bundle"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not an spr replay bundle"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir_ + ".out.d");
}

TEST_F(ReplayCliTest, ShowStateAndTimeline) {
  SprRun r = spr("replay --journal " + dir_ + " --object acme/a --show-state --json");
  ASSERT_EQ(r.code, 0) << r.err;
  json v = json::parse(r.out);
  EXPECT_EQ(v["phase"], "Ready");
  EXPECT_EQ(v["state"]["generation"], 2);
  EXPECT_EQ(v["apiObject"]["metadata"]["generation"], 2);
  r = spr("replay --journal " + dir_ + " --object acme/a --timeline");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Transition"), std::string::npos);
  EXPECT_NE(r.out.find("because seq"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Update"), std::string::npos);
}

TEST_F(ReplayCliTest, ExportThenReplayBundle) {
  SprRun r = spr("journal export --journal " + dir_ + " --object acme-2/crash --out " + dir_ + ".bundle");
  ASSERT_EQ(r.code, 0) << r.err;
  r = spr("replay --bundle " + dir_ + ".bundle");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("no divergence"), std::string::npos);
  // Secrets stay redacted: the bundle is the journal's (already redacted) bytes.
  EXPECT_EQ(slurp(dir_ + ".bundle").find("kubeconfig:"), std::string::npos);
}

TEST_F(ReplayCliTest, AuditFormatsOnlyThatTenant) {
  SprRun r = spr("audit --journal " + dir_ + " --tenant acme --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_TRUE(j["known"].get<bool>());
  EXPECT_TRUE(j["verified"].get<bool>());
  ASSERT_GT(j["rows"].size(), 10u);
  bool sawManager = false, sawCondition = false;
  for (const auto& row : j["rows"]) {
    EXPECT_EQ(row["tenant"], "acme");
    EXPECT_EQ(row["object"].get<std::string>().rfind("acme/", 0), 0u) << row;
    sawManager |= row.value("manager", "") == "kubectl-client-side-apply";
    sawCondition |= row["kind"] == "condition";
  }
  EXPECT_TRUE(sawManager);
  EXPECT_TRUE(sawCondition);
  r = spr("audit --journal " + dir_ + " --tenant acme-2 --format jsonl");
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  size_t n = 0;
  while (std::getline(lines, line)) {
    json row = json::parse(line);  // one object per line
    EXPECT_EQ(row["tenant"], "acme-2");
    ++n;
  }
  EXPECT_GT(n, 10u);
  r = spr("audit --journal " + dir_ + " --tenant acme --object c --format table");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("acme/c"), std::string::npos);
  EXPECT_EQ(r.out.find("acme/a "), std::string::npos);
  EXPECT_NE(r.out.find("Deleted"), std::string::npos);
}

TEST_F(ReplayCliTest, AuditUnknownTenantAndBadTime) {
  // A prefix of a tenant is not that tenant: nothing matches, which is bad input (exit 2).
  SprRun r = spr("audit --journal " + dir_ + " --tenant acm --format json");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("--tenant 'acm' matches nothing"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("acme"), std::string::npos) << r.err;
  r = spr("audit --journal " + dir_ + " --tenant acme --since yesterday");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("RFC 3339"), std::string::npos) << r.err;
  r = spr("audit --journal " + dir_ + " --tenant acme --since 2200-01-01T00:00:00Z --format json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--since/--until match no record of tenant 'acme'"), std::string::npos) << r.err;
}

TEST_F(ReplayCliTest, TamperedRecordMakesAuditWarnAndExitThree) {
  uint64_t victim = 0;
  {
    auto j = journal::Journal::open(dir_);
    ASSERT_TRUE(j.isOk());
    auto rows = (*j)->readTenant("acme-2", journal::Order::kOldestFirst, 5);
    ASSERT_TRUE(rows.isOk());
    victim = rows->back().seq;
  }
  {
    journal::testing::RawDb db(dir_);
    ASSERT_TRUE(db.ok());
    std::string value = db.get("log", journal::testing::seqKey(victim));
    ASSERT_FALSE(value.empty());
    // Flip one byte of the record's content (past the envelope's first words).
    value[value.size() / 2] ^= 0x01;
    ASSERT_TRUE(db.put("log", journal::testing::seqKey(victim), value));
  }
  SprRun r = spr("audit --journal " + dir_ + " --tenant acme-2");
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("VERIFICATION FAILED"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::to_string(victim)), std::string::npos) << r.err;
  // The other tenant's records are untouched and still verify.
  r = spr("audit --journal " + dir_ + " --tenant acme --format json");
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(ReplayCliTest, RecordDeletedWithLdbMakesAuditAndVerifyWarnAndExitNonZero) {
  uint64_t victim = 0;
  {
    auto j = journal::Journal::open(dir_);
    ASSERT_TRUE(j.isOk());
    auto rows = (*j)->readTenant("acme", journal::Order::kOldestFirst, 3);
    ASSERT_TRUE(rows.isOk());
    victim = rows->back().seq;
  }
  char key[19];
  std::snprintf(key, sizeof key, "0x%016llx", static_cast<unsigned long long>(victim));
  std::string ldb = "/usr/bin/ldb --db=" + dir_ + " --column_family=log --key_hex delete " + key;
  ASSERT_EQ(std::system(ldb.c_str()), 0) << ldb;
  SprRun r = spr("audit --journal " + dir_ + " --tenant acme");
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("VERIFICATION FAILED"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("record " + std::to_string(victim)), std::string::npos) << r.err;
  r = spr("journal verify --journal " + dir_);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAILED at sequence " + std::to_string(victim)), std::string::npos) << r.out;
}

TEST_F(ReplayCliTest, CompactThenReplayAndVerify) {
  SprRun r = spr("journal compact --journal " + dir_ + " --before 2200-01-01T00:00:00Z --archive " + dir_ + ".archive");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("archived records 1.."), std::string::npos) << r.out;
  r = spr("journal verify --journal " + dir_);
  EXPECT_EQ(r.code, 0) << r.out;
  r = spr("replay --journal " + dir_);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  r = spr("replay --bundle " + dir_ + ".archive");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  r = spr("journal compact --journal " + dir_ + " --before 01/01/2020 --archive " + dir_ + ".archive");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("RFC 3339"), std::string::npos);
}

}  // namespace
}  // namespace spr::replay
