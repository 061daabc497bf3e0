// Honest results: `spr replay`, `spr audit` and `spr journal export` fail with exit 2 and
// one line naming the filter and what exists when a filter matches nothing, instead of
// reporting a pass over zero records. Runs the real binary on a copy of the replay-v1
// fixture (tenants project-acme--ws-dev and project-globex--ws-prod).
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/replay/journal_maker.h"
#include "tests/support/paths.h"
#include "tests/support/run_command.h"

namespace spr::replay {
namespace {

constexpr const char* kAcme = "project-acme--ws-dev";
constexpr const char* kGlobex = "project-globex--ws-prod";

class FilterCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::tempDir("j");
    std::filesystem::copy(spr::testing::fixturesDir() + "/journals/replay-v1", dir_);
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    std::filesystem::remove(dir_ + ".bundle");
  }
  // Runs spr; returns its exit code, output in out_.
  int spr(const std::string& args) {
    int status = 0;
    out_ = spr::testing::runCommand(spr::testing::sprBinary() + " " + args, &status);
    return WEXITSTATUS(status);
  }
  // Exit 2 with exactly one line that contains every `part`.
  void expectRefused(const std::string& args, const std::vector<std::string>& parts) {
    SCOPED_TRACE(args);
    EXPECT_EQ(spr(args), 2) << out_;
    EXPECT_EQ(std::count(out_.begin(), out_.end(), '\n'), 1) << out_;
    EXPECT_EQ(out_.find("no divergence"), std::string::npos) << out_;
    for (const auto& p : parts) EXPECT_NE(out_.find(p), std::string::npos) << "missing '" << p << "' in: " << out_;
  }
  std::string dir_, out_;
};

TEST_F(FilterCliTest, ReplayOfAnUnknownTenantFails) {
  expectRefused("replay --journal " + dir_ + " --tenant nosuch", {"--tenant 'nosuch' matches nothing", kAcme, kGlobex});
}

TEST_F(FilterCliTest, ReplayOfABundleHonoursTheTenant) {
  ASSERT_EQ(spr("journal export --journal " + dir_ + " --tenant " + kAcme + " --out " + dir_ + ".bundle"), 0) << out_;
  expectRefused("replay --bundle " + dir_ + ".bundle --tenant other", {"--tenant 'other' matches nothing", kAcme});
  ASSERT_EQ(spr("replay --bundle " + dir_ + ".bundle --tenant " + kAcme + " --no-tapes"), 0) << out_;
  EXPECT_NE(out_.find("of 2 objects"), std::string::npos) << out_;
}

TEST_F(FilterCliTest, ReplayOfAnObjectOfAnotherTenantFails) {
  expectRefused("replay --journal " + dir_ + " --tenant " + kAcme + " --object " + kGlobex + "/mcp-1",
                {std::string("belongs to tenant '") + kGlobex + "'", std::string("not --tenant '") + kAcme + "'"});
  expectRefused("replay --journal " + dir_ + " --tenant " + kAcme + " --object b/x",
                {"--object b/x matches nothing", std::string(kAcme) + "/mcp-1"});
}

TEST_F(FilterCliTest, SummaryCountsOnlyTheRecordsChecked) {
  ASSERT_EQ(spr("journal export --journal " + dir_ + " --tenant " + kAcme + " --out " + dir_ + ".bundle"), 0) << out_;
  ASSERT_EQ(spr("replay --bundle " + dir_ + ".bundle --no-tapes --json"), 0) << out_;
  const auto all = nlohmann::json::parse(out_)["records"].get<uint64_t>();
  ASSERT_EQ(spr("replay --bundle " + dir_ + ".bundle --object " + kAcme + "/mcp-1 --no-tapes --json"), 0) << out_;
  const auto one = nlohmann::json::parse(out_);
  EXPECT_EQ(one["objects"].get<uint64_t>(), 1u);
  EXPECT_LT(one["records"].get<uint64_t>(), all);  // the other object's records are not counted
  EXPECT_GT(one["records"].get<uint64_t>(), 0u);
}

TEST_F(FilterCliTest, AuditFiltersThatMatchNothingFail) {
  expectRefused("audit --journal " + dir_ + " --tenant nosuch", {"--tenant 'nosuch' matches nothing", kAcme});
  expectRefused("audit --journal " + dir_ + " --tenant nosuch --format json", {"--tenant 'nosuch'"});
  expectRefused("audit --journal " + dir_ + " --tenant " + kAcme + " --object mcp-9",
                {"--object mcp-9 matches no object", std::string(kAcme) + "/mcp-2"});
  expectRefused("audit --journal " + dir_ + " --tenant " + kAcme + " --since 2200-01-01T00:00:00Z",
                {"--since/--until match no record", "its records span 2026-"});
  EXPECT_EQ(spr("audit --journal " + dir_ + " --tenant " + kAcme + " --object mcp-1"), 0) << out_;
}

TEST_F(FilterCliTest, ExportOfAnUnknownTenantFailsAndWritesNothing) {
  expectRefused("journal export --journal " + dir_ + " --tenant nosuch --out " + dir_ + ".bundle",
                {"--tenant 'nosuch' matches nothing", kGlobex});
  EXPECT_FALSE(std::filesystem::exists(dir_ + ".bundle"));
}

}  // namespace
}  // namespace spr::replay
