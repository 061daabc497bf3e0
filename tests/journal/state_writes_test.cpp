// The state table is not rewritten with what it already holds: an append whose folded
// state equals the one last written for that object writes no state (the WAL does not
// grow by it), a changed or re-created state is written, and a reopen reads the latest.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/journal/journal.h"
#include "test_util.h"

namespace spr::journal {
namespace {

uint64_t walBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".log") total += e.file_size();
  return total;
}

AppendBatch pollBatch(const std::string& key, const std::string& blob) {
  AppendBatch batch;
  batch.records.push_back(testing::observed("acme", "acme", "obj"));
  batch.states.emplace_back(key, blob);
  return batch;
}

TEST(JournalStateWrites, AnUnchangedStateIsNotWrittenAgainAndReopensAsTheLatest) {
  testing::TempDir tmp;
  const std::string dir = tmp.sub("j");
  const std::string key = "onboarding/test/Thing/acme/obj";
  const std::string blob = R"({"phase":"Ready","object":")" + std::string(20000, 'o') + R"("})";
  {
    Options options;
    options.flushEvery = std::chrono::hours(1);  // every byte appended stays in the WAL
    auto j = Journal::open(dir, options).value();
    ASSERT_TRUE(j->append(pollBatch(key, blob)).isOk());
    const uint64_t walAfterFirst = walBytes(dir);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(j->append(pollBatch(key, blob)).isOk());
    EXPECT_EQ(j->stateWrites().written, 1u);
    EXPECT_EQ(j->stateWrites().unchanged, 100u);
    // 100 x 20 KB had each been written again; the records alone are well under 100 KB.
    EXPECT_LT(walBytes(dir) - walAfterFirst, 100u * 1024) << "the unchanged state was written again";
    EXPECT_EQ(j->latestState(key).value().value_or(""), blob);
  }
  auto j = Journal::open(dir).value();
  EXPECT_EQ(j->latestState(key).value().value_or(""), blob);
  ASSERT_TRUE(j->append(pollBatch(key, blob)).isOk());  // a new process writes it once
  EXPECT_EQ(j->stateWrites().written, 1u);
  EXPECT_EQ(j->latestState(key).value().value_or(""), blob);
}

TEST(JournalStateWrites, ChangedDeletedAndRecreatedStatesAreWritten) {
  testing::TempDir tmp;
  auto j = Journal::open(tmp.sub("j")).value();
  const std::string key = "onboarding/test/Thing/acme/obj";
  ASSERT_TRUE(j->append(pollBatch(key, "v1")).isOk());
  ASSERT_TRUE(j->append(pollBatch(key, "v2")).isOk());
  EXPECT_EQ(j->latestState(key).value().value_or(""), "v2");
  // Back to an earlier value: written, since it differs from the last one written.
  ASSERT_TRUE(j->append(pollBatch(key, "v1")).isOk());
  EXPECT_EQ(j->latestState(key).value().value_or(""), "v1");
  EXPECT_EQ(j->stateWrites().written, 3u);

  AppendBatch gone;
  gone.records.push_back(testing::observed("acme", "acme", "obj"));
  gone.deleteStates.push_back(key);
  ASSERT_TRUE(j->append(std::move(gone)).isOk());
  EXPECT_FALSE(j->latestState(key).value().has_value());
  // The same blob as before the deletion must come back, not be skipped as unchanged.
  ASSERT_TRUE(j->append(pollBatch(key, "v1")).isOk());
  EXPECT_EQ(j->latestState(key).value().value_or(""), "v1");

  // Two states of one object in one batch: the last one is what the table holds, and a
  // later append of it is unchanged.
  AppendBatch twice = pollBatch(key, "v3");
  twice.states.emplace_back(key, "v4");
  ASSERT_TRUE(j->append(std::move(twice)).isOk());
  EXPECT_EQ(j->latestState(key).value().value_or(""), "v4");
  const uint64_t unchanged = j->stateWrites().unchanged;
  ASSERT_TRUE(j->append(pollBatch(key, "v4")).isOk());
  EXPECT_EQ(j->stateWrites().unchanged, unchanged + 1);
}

TEST(JournalStateWrites, AFailedAppendDoesNotCountItsStateAsWritten) {
  testing::TempDir tmp;
  auto j = Journal::open(tmp.sub("j")).value();
  const std::string key = "onboarding/test/Thing/acme/obj";
  j->failNextWriteForTesting();
  EXPECT_FALSE(j->append(pollBatch(key, "v1")).isOk());
  EXPECT_EQ(j->stateWrites().written, 0u);
  EXPECT_EQ(j->stateWrites().unchanged, 0u);
}

}  // namespace
}  // namespace spr::journal
