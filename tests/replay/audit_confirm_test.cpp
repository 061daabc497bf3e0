// Audit shows only what reached the cluster: a status the lifecycle asked for is
// "confirmed" only when its WriteStatus completed Succeeded; one cut off by a restart or
// never completed is marked requested but not confirmed.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/journal/journal.h"
#include "replay/audit.h"
#include "tests/replay/journal_maker.h"

namespace spr::replay {
namespace {

journal::Record statusRecord(journal::Payload payload) {
  journal::Record r;
  r.object = journal::ObjectId{"onboarding", "g", "v1", "Thing", "acme", "a", "uid-a"};
  r.tenant = "acme";
  r.payload = std::move(payload);
  return r;
}

std::string wants(const char* phase) {
  return std::string(R"({"status":{"phase":")") + phase +
         R"(","ready":false,"reason":"Creating","message":"m","observedGeneration":1}})";
}

TEST(AuditConfirm, StatusRowsSayWhetherTheWriteReachedTheCluster) {
  std::string dir = testing::tempDir("audit-confirm");
  {
    auto j = journal::Journal::open(dir);
    ASSERT_TRUE(j.isOk()) << j.status().toString();
    for (auto payload : std::vector<journal::Payload>{
             journal::EffectRequested{3, "WriteStatus", wants("Progressing"), 0},
             journal::EffectCompleted{3, "WriteStatus", journal::Outcome::kSucceeded, "", "", "{}", {}, ""},
             journal::EffectRequested{5, "WriteStatus", wants("Ready"), 0},
             journal::EffectCompleted{
                 5, "WriteStatus", journal::Outcome::kUnknown, "Unknown", "restarted", "{}", {}, ""},
             journal::EffectRequested{7, "WriteStatus", wants("Ready"), 0}})
      ASSERT_TRUE((*j)->append(statusRecord(payload), journal::Sync::kNone).isOk());
  }
  auto j = journal::Journal::openForReading(dir);
  ASSERT_TRUE(j.isOk());
  AuditQuery q;
  q.tenant = "acme";
  auto result = audit(**j, q);
  ASSERT_TRUE(result.isOk()) << result.status().toString();
  std::map<uint64_t, nlohmann::json> rows;
  for (const auto& row : result->rows)
    if (row.value("kind", "") == "condition") rows[row.value("effectId", uint64_t{0})] = row;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rows[3].value("confirmed", false));
  EXPECT_FALSE(rows[5].value("confirmed", true));
  EXPECT_EQ(rows[5].value("outcome", ""), "Unknown");
  EXPECT_FALSE(rows[7].value("confirmed", true));
  EXPECT_EQ(rows[7].value("outcome", ""), "not completed");
  EXPECT_NE(auditTable(*result).find("not confirmed"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace spr::replay
