// What an unchanged poll costs the state table: its EffectCompleted carries the same
// folded state as the Transition before it, and that state is not written again (two
// state writes per poll, not three); a restart after such polls restores the latest
// state, so the object stays Ready and its effect ids go on from where they were.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "core/journal/journal.h"
#include "runtime/reconciler.h"
#include "runtime/status.h"
#include "tests/runtime/reconciler_loop.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
namespace lc = lifecycle;

// Clusters where every service exists and is ready: polls observe no change.
class SteadyRunner : public EffectRunner {
 public:
  EffectOutput run(const EffectInput& in) override {
    EffectOutput out;
    if (in.command.op == lc::Op::kObserve) {
      ++observes;
      out.done.exists = created.load();
      out.done.ready = true;
      out.result = {{"exists", out.done.exists}, {"drift", false}, {"ready", true}};
    }
    if (in.command.op == lc::Op::kCreate) {
      ++creates;
      created = true;
    }
    if (in.command.op == lc::Op::kAddFinalizer) {
      json o = in.object;
      o["metadata"]["finalizers"] = json::array({kFinalizer});
      out.updatedObject = o;
    }
    return out;
  }
  std::atomic<int> observes{0}, creates{0};
  std::atomic<bool> created{false};
};

json fastPollingConfig() {
  json c = testing::thingConfig();
  c["spec"]["pollInterval"] = "20ms";
  return c;
}

uint64_t nextEffectId(journal::Journal& j, const std::string& key) {
  auto blob = j.latestState(key);
  EXPECT_TRUE(blob.isOk() && blob->has_value());
  if (!blob.isOk() || !blob->has_value()) return 0;
  return json::parse(**blob)["lifecycle"].value("nextEffectId", uint64_t{0});
}

class StateWritesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (std::filesystem::temp_directory_path() / ("spr-state-writes-" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string dir;
};

TEST_F(StateWritesTest, AnUnchangedPollWritesItsStateTwiceAndARestartRestoresTheLatest) {
  SteadyRunner runner;
  std::string key;
  uint64_t effectIdBefore = 0;
  {
    testing::ReconcilerLoop loop(dir, &runner);
    key = loop.reconciler->apiObjectKey("t1", "a");
    ASSERT_TRUE(loop.reconciler->restore().isOk());
    ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, fastPollingConfig(), "5").isOk());
    ASSERT_TRUE(
        loop.reconciler->observeApiObject(journal::WatchType::kAdded, testing::thingObject("t1", "a"), "7").isOk());
    ASSERT_TRUE(loop.waitFor([&] { return loop.view("", "a").ready && runner.observes >= 2; }));
    const int observes0 = runner.observes;
    const journal::StateWrites before = loop.journal->stateWrites();
    ASSERT_TRUE(loop.waitFor([&] { return runner.observes >= observes0 + 20; }));
    const journal::StateWrites after = loop.journal->stateWrites();
    const int polls = runner.observes - observes0;
    // Every poll completed in the window skipped its EffectCompleted's state (the poll
    // running at either end may count on one side only).
    EXPECT_GE(after.unchanged - before.unchanged, static_cast<uint64_t>(polls - 1));
    EXPECT_LE(after.written - before.written, static_cast<uint64_t>(2 * (polls + 1)))
        << "an unchanged poll wrote its state more than twice";
    EXPECT_EQ(runner.creates, 1);
    loop.reconciler->stop();
    effectIdBefore = nextEffectId(*loop.journal, key);
    EXPECT_GT(effectIdBefore, 20u);
  }
  testing::ReconcilerLoop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  EXPECT_TRUE(loop.view("", "a").ready) << loop.view("", "a").phase;
  EXPECT_EQ(loop.view("", "a").phase, "Ready");
  const int observes0 = runner.observes;
  ASSERT_TRUE(loop.waitFor([&] { return runner.observes >= observes0 + 2; }));
  EXPECT_GT(nextEffectId(*loop.journal, key), effectIdBefore) << "the restart did not restore the latest state";
  EXPECT_EQ(runner.creates, 1) << "a restart after unchanged polls created the service again";
}

}  // namespace
}  // namespace spr::runtime
