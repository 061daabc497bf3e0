// Restore of a large state table (the size at which restore decodes it on two threads):
// every object comes back as it was folded, deleted ones leave the table, and a damaged
// state blob anywhere fails restore naming its object.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "tests/runtime/reconciler_loop.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
namespace lc = lifecycle;

class NoEffects : public EffectRunner {  // nothing is queued without a config
 public:
  EffectOutput run(const EffectInput&) override { return {}; }
};

constexpr int kObjects = 3000;  // above the two-thread threshold of restore

std::string tenantOf(int i) { return "tenant-" + std::to_string(i % 7); }
std::string nameOf(int i) { return "o-" + std::to_string(i); }

// Object i as the runtime folded it: every 10th Deleted, every 3rd Ready, the rest Creating.
lc::State stateOf(int i) {
  lc::State s;
  s.objectKey = tenantOf(i) + "/" + nameOf(i);
  s.phase = i % 10 == 0 ? lc::Phase::kDeleted : i % 3 == 0 ? lc::Phase::kReady : lc::Phase::kCreating;
  s.status = {i % 3 == 0 ? "Ready" : "Progressing", i % 3 == 0, "reason-" + std::to_string(i), "message", 1};
  return s;
}

// The blob the runtime writes (Reconciler::stateBlob), lifecycle first.
std::string blobOf(int i) {
  json blob = {{"lifecycle", json::parse(lc::toJson(stateOf(i)))},
               {"object", testing::thingObject(tenantOf(i), nameOf(i))},
               {"tenant", "owner-" + tenantOf(i)},
               {"uid", "uid-" + nameOf(i)},
               {"lastObservedSeq", 0},
               {"timer", {{"token", 0}, {"dueUnixNanos", 0}}}};
  return blob.dump();
}

class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (std::filesystem::temp_directory_path() / ("spr-restore-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    std::filesystem::remove_all(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  // Writes the state table of kObjects objects; `damaged` (if >= 0) gets a blob that is not JSON.
  void writeStates(int damaged) {
    NoEffects runner;
    testing::ReconcilerLoop loop(dir, &runner);
    journal::AppendBatch batch;
    for (int i = 0; i < kObjects; ++i)
      batch.states.emplace_back(loop.reconciler->apiObjectKey(tenantOf(i), nameOf(i)),
                                i == damaged ? std::string("{\"lifecycle\": ") : blobOf(i));
    batch.sync = journal::Sync::kSync;
    ASSERT_TRUE(loop.journal->append(std::move(batch)).isOk());
  }
  std::string dir;
};

TEST_F(RestoreTest, ThousandsOfObjectsComeBackAsFoldedAndDeletedOnesLeaveTheTable) {
  writeStates(-1);
  NoEffects runner;
  testing::ReconcilerLoop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  std::map<std::string, ObjectView> views;
  for (const auto& v : loop.reconciler->views()) views[v.key] = v;
  int live = 0;
  for (int i = 0; i < kObjects; ++i) {
    const lc::State s = stateOf(i);
    auto v = views.find(s.objectKey);
    if (s.phase == lc::Phase::kDeleted) {
      EXPECT_EQ(v, views.end()) << s.objectKey << " was deleted";
      continue;
    }
    ++live;
    ASSERT_NE(v, views.end()) << s.objectKey << " not restored";
    EXPECT_EQ(v->second.phase, lc::phaseName(s.phase)) << s.objectKey;
    EXPECT_EQ(v->second.tenant, "owner-" + tenantOf(i)) << s.objectKey;
    EXPECT_EQ(v->second.reason, s.status.reason) << s.objectKey;
    EXPECT_EQ(v->second.ready, s.status.ready) << s.objectKey;
  }
  EXPECT_EQ(views.size(), static_cast<size_t>(live));
  EXPECT_EQ(loop.journal->allStates()->size(), static_cast<size_t>(live)) << "deleted objects stay in the table";
}

TEST_F(RestoreTest, ADamagedBlobAnywhereFailsRestoreNamingItsObject) {
  for (int damaged : {7, kObjects - 5}) {  // tenant-0 and tenant-6: the first and the second half
    SCOPED_TRACE(damaged);
    std::filesystem::remove_all(dir);
    writeStates(damaged);
    NoEffects runner;
    testing::ReconcilerLoop loop(dir, &runner);
    Status s = loop.reconciler->restore();
    EXPECT_EQ(s.code(), Code::kCorruption) << s.toString();
    EXPECT_NE(s.message().find(tenantOf(damaged) + "/" + nameOf(damaged) + " is not a runtime state blob"),
              std::string::npos)
        << s.message();
  }
}

}  // namespace
}  // namespace spr::runtime
