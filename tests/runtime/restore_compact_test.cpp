// Compaction between a kill and the restart, at chosen points (crash hooks, no sleeps): an
// effect whose EffectCompleted was journaled but not folded when the process died must
// still be found by the restart, and folded once, whatever compaction archived meanwhile.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>

#include "replay/compact.h"
#include "replay/replay_run.h"
#include "runtime/status.h"
#include "tests/runtime/reconciler_loop.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
namespace lc = lifecycle;
using testing::ReconcilerLoop;
using testing::thingConfig;
using testing::thingObject;

// Fake clusters: which services exist, and how often each command ran per object.
class Cluster : public EffectRunner {
 public:
  EffectOutput run(const EffectInput& in) override {
    EffectOutput out;
    std::lock_guard<std::mutex> lock(mu);
    const std::string name = in.object["metadata"].value("name", "");
    ++runs[{name, in.command.op}];
    if (in.command.op == lc::Op::kObserve) {
      out.done.exists = services.count(name) > 0;
      out.result = {{"exists", out.done.exists}, {"drift", false}, {"ready", true}};
    }
    if (in.command.op == lc::Op::kCreate) services[name] = true;
    if (in.command.op == lc::Op::kWriteStatus) status[name] = in.command.status.phase;
    if (in.command.op == lc::Op::kAddFinalizer) {
      json o = in.object;
      o["metadata"]["finalizers"] = json::array({kFinalizer});
      o["metadata"]["resourceVersion"] = "20";
      out.updatedObject = o;
    }
    return out;
  }
  int count(const std::string& name, lc::Op op) {
    std::lock_guard<std::mutex> lock(mu);
    return runs[{name, op}];
  }
  std::string statusOf(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu);
    return status[name];
  }
  std::mutex mu;
  std::map<std::string, bool> services;
  std::map<std::string, std::string> status;
  std::map<std::pair<std::string, lc::Op>, int> runs;
};

int64_t wallNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Killed after a's AddFinalizer completion was journaled and before it was folded, while
// another object's fold moved the low-water mark past that completion; `spr journal
// compact` then runs before the restart. The restart folds that completion (AddFinalizer
// ran once, no Unknown completion) instead of running the effect again.
TEST(RestoreCompact, CompletionJournaledButNotFoldedSurvivesCompactionBeforeRestart) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("spr-restore-compact-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  Cluster cluster;
  uint64_t completionSeq = 0;
  {
    std::atomic<bool> killed{false};
    ReconcilerLoop* self = nullptr;
    ReconcilerLoop loop(dir, &cluster, [&](const char* point, const lc::Command& c) {
      if (std::string(point) != "completed" || c.op != lc::Op::kAddFinalizer || killed) return false;
      // Another object's fold batch (on another worker) journals a low-water mark past this
      // completion; then the process dies.
      completionSeq = self->journal->nextSeq() - 1;
      journal::AppendBatch other;
      other.meta.emplace_back(kMetaLowWater, std::to_string(self->journal->nextSeq()));
      other.sync = journal::Sync::kSync;
      EXPECT_TRUE(self->journal->append(std::move(other)).isOk());
      return killed = true;
    });
    self = &loop;
    ASSERT_TRUE(loop.reconciler->restore().isOk());
    ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, thingConfig(), "5").isOk());
    ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, thingObject("t", "a"), "1").isOk());
    ASSERT_TRUE(loop.waitFor([&] { return killed.load(); }));
  }
  ASSERT_GT(completionSeq, 0u);
  {
    auto j = journal::Journal::open(dir);
    ASSERT_TRUE(j.isOk()) << j.status().toString();
    auto compacted = replay::compactJournal(**j, wallNanos() + 1000000000, dir + ".archive");
    ASSERT_TRUE(compacted.isOk()) << compacted.status().toString();
    ASSERT_FALSE(compacted->nothingToDo);
    EXPECT_LE(compacted->keptFrom, completionSeq) << "the unfolded completion was archived";
  }
  ReconcilerLoop loop(dir, &cluster);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.waitFor([&] { return cluster.statusOf("a") == "Ready"; })) << cluster.statusOf("a");
  loop.reconciler->stop();
  EXPECT_EQ(cluster.count("a", lc::Op::kAddFinalizer), 1) << "the restart ran a completed AddFinalizer again";
  size_t unknown = 0;
  ASSERT_TRUE(loop.journal
                  ->scan(loop.journal->firstSeq(),
                         [&](const journal::Record& r) {
                           const auto* c = std::get_if<journal::EffectCompleted>(&r.payload);
                           unknown += c && c->outcome == journal::Outcome::kUnknown;
                           return true;
                         })
                  .isOk());
  EXPECT_EQ(unknown, 0u) << "an effect with a journaled completion was resolved as Unknown";
  // The compacted journal and the restart's records still replay (from the snapshots).
  replay::ReplayOptions options;
  replay::Replayer replayer(options);
  ASSERT_TRUE(replay::replayJournal(*loop.journal, replayer, options).isOk());
  EXPECT_FALSE(replayer.divergence()) << replayer.divergence()->what << ": " << replayer.divergence()->expected << " | "
                                      << replayer.divergence()->got;
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir + ".archive");
}

}  // namespace
}  // namespace spr::runtime
