// Kills at chosen points (through ReconcilerDeps::crashAt, no sleeps) and interleavings
// of watch and worker threads forced from inside effects: every EffectRequested ends in
// exactly one EffectCompleted, a status write cut off by a kill is written again, an
// effect starts from what the journal says (the object its predecessor left, the config
// its EffectRequested names), and a watch event older than our own write is not folded.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>

#include "runtime/object_util.h"
#include "runtime/status.h"
#include "tests/runtime/reconciler_loop.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
namespace lc = lifecycle;
using testing::ReconcilerLoop;
using testing::thingConfig;
using testing::thingObject;

// Fake clusters: services by key, the status and finalizer each object carries, and what
// every effect was given. `during` runs inside an effect (as another thread would).
class Cluster : public EffectRunner {
 public:
  EffectOutput run(const EffectInput& in) override {
    std::function<void(const EffectInput&)> hook;
    EffectOutput out;
    {
      std::lock_guard<std::mutex> lock(mu);
      inputs.push_back(in);
      ++runs[in.command.op];
      hook = during;
      const std::string key = in.object["metadata"].value("name", "");
      switch (in.command.op) {
        case lc::Op::kObserve:
          out.done.exists = services.count(key) > 0;
          out.result = {{"exists", out.done.exists}, {"drift", false}, {"ready", true}};
          break;
        case lc::Op::kCreate: services.insert(key); break;
        case lc::Op::kWriteStatus: status[key] = in.command.status; break;
        case lc::Op::kAddFinalizer: {
          json o = in.object;
          o["metadata"]["finalizers"] = json::array({kFinalizer});
          o["metadata"]["resourceVersion"] = "20";
          out.updatedObject = o;
          break;
        }
        default: break;
      }
    }
    if (hook) hook(in);
    return out;
  }
  int count(lc::Op op) {
    std::lock_guard<std::mutex> lock(mu);
    return runs[op];
  }
  std::string statusPhase(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu);
    return status.count(name) ? status[name].phase : "";
  }
  std::mutex mu;
  std::set<std::string> services;
  std::map<std::string, lc::StatusView> status;
  std::map<lc::Op, int> runs;
  std::vector<EffectInput> inputs;
  std::function<void(const EffectInput&)> during;
};

class ReconcilerCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (std::filesystem::temp_directory_path() / ("spr-crash-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    std::filesystem::remove_all(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  static void start(ReconcilerLoop& loop, const std::string& name) {
    ASSERT_TRUE(loop.reconciler->restore().isOk());
    ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, thingConfig(), "5").isOk());
    ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, thingObject("t", name), "1").isOk());
  }
  // effect id -> [requested, completed] over the whole journal, per object.
  std::map<std::pair<std::string, uint64_t>, std::pair<int, int>> ledger(ReconcilerLoop& loop) {
    std::map<std::pair<std::string, uint64_t>, std::pair<int, int>> out;
    EXPECT_TRUE(loop.journal
                    ->scan(1,
                           [&](const journal::Record& r) {
                             if (const auto* q = std::get_if<journal::EffectRequested>(&r.payload))
                               ++out[{r.object.key(), q->effectId}].first;
                             if (const auto* c = std::get_if<journal::EffectCompleted>(&r.payload))
                               ++out[{r.object.key(), c->effectId}].second;
                             return true;
                           })
                    .isOk());
    return out;
  }
  void expectEveryEffectCompletedOnce(ReconcilerLoop& loop) {
    for (const auto& [effect, counts] : ledger(loop)) {
      EXPECT_EQ(counts.first, 1) << effect.first << " #" << effect.second;
      EXPECT_EQ(counts.second, 1) << effect.first << " #" << effect.second << " requested, completed " << counts.second
                                  << " times";
    }
  }
  std::string dir;
};

// The issue's acme/mcp-8: `WriteStatus phase=Ready` requested, killed before it ran.
TEST_F(ReconcilerCrashTest, StatusWriteCutOffByAKillIsWrittenAgainAfterRestart) {
  Cluster cluster;
  {
    std::atomic<bool> killed{false};
    ReconcilerLoop loop(dir, &cluster, [&](const char* point, const lc::Command& c) {
      if (std::string(point) != "requested" || c.op != lc::Op::kWriteStatus || c.status.phase != "Ready") return false;
      return killed = true;
    });
    start(loop, "a");
    ASSERT_TRUE(loop.waitFor([&] { return killed.load(); }));
  }
  EXPECT_EQ(cluster.statusPhase("a"), "Progressing") << "the kill cut the Ready write off";
  ReconcilerLoop loop(dir, &cluster);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.waitFor([&] { return cluster.statusPhase("a") == "Ready"; })) << cluster.statusPhase("a");
  loop.reconciler->stop();
  expectEveryEffectCompletedOnce(loop);
  EXPECT_EQ(cluster.count(lc::Op::kCreate), 1);
}

// Killed after an EffectCompleted was journaled, before it was folded: the completion is
// folded after the restart (no second, Unknown one), and the next effect starts from the
// object that effect left (what replay computes from the tape), not an older one.
TEST_F(ReconcilerCrashTest, CompletionJournaledButNotFoldedIsFoldedOnceAndItsObjectKept) {
  Cluster cluster;
  {
    std::atomic<bool> killed{false};
    ReconcilerLoop loop(dir, &cluster, [&](const char* point, const lc::Command& c) {
      if (std::string(point) != "completed" || c.op != lc::Op::kAddFinalizer) return false;
      return killed = true;
    });
    start(loop, "b");
    ASSERT_TRUE(loop.waitFor([&] { return killed.load(); }));
  }
  ReconcilerLoop loop(dir, &cluster);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.waitFor([&] { return cluster.statusPhase("b") == "Ready"; })) << cluster.statusPhase("b");
  loop.reconciler->stop();
  expectEveryEffectCompletedOnce(loop);
  EXPECT_EQ(cluster.count(lc::Op::kAddFinalizer), 1);
  std::lock_guard<std::mutex> lock(cluster.mu);
  for (const auto& in : cluster.inputs) {
    if (in.command.op == lc::Op::kAddFinalizer) continue;
    EXPECT_EQ(in.object["metadata"].value("resourceVersion", ""), "20")
        << lc::opName(in.command.op) << " started from an object older than the AddFinalizer's result";
  }
}

// The watch thread journals a new ProviderConfig while a fold's commands run: the rest of
// that fold's commands still see the config their EffectRequested names.
TEST_F(ReconcilerCrashTest, ConfigJournaledWhileAFoldsCommandsRunIsNotSeenByThem) {
  Cluster cluster;
  ReconcilerLoop loop(dir, &cluster);
  bool changed = false;
  cluster.during = [&](const EffectInput& in) {
    if (in.command.op != lc::Op::kWriteStatus || changed) return;  // WriteStatus(Creating), then Create
    changed = true;
    json config = thingConfig();
    config["spec"]["pollInterval"] = "2h";
    config["metadata"]["resourceVersion"] = "6";
    ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kModified, config, "6").isOk());
  };
  start(loop, "c");
  ASSERT_TRUE(loop.waitFor([&] { return cluster.statusPhase("c") == "Ready"; }));
  loop.reconciler->stop();
  std::map<uint64_t, uint64_t> named;  // effect id -> configSeq in its EffectRequested
  ASSERT_TRUE(loop.journal
                  ->scan(1,
                         [&](const journal::Record& r) {
                           if (const auto* q = std::get_if<journal::EffectRequested>(&r.payload))
                             named[q->effectId] = json::parse(q->inputJson).value("configSeq", uint64_t{0});
                           return true;
                         })
                  .isOk());
  ASSERT_TRUE(changed);
  std::lock_guard<std::mutex> lock(cluster.mu);
  for (const auto& in : cluster.inputs)
    EXPECT_EQ(in.configSeq, named[in.command.effectId]) << lc::opName(in.command.op) << " #" << in.command.effectId;
}

// The issue's chaos run: after AddFinalizer #2 succeeded, an older event without the
// finalizer was folded and caused AddFinalizer #6. Here that older event arrives while
// AddFinalizer runs; it is not folded, and the watch's copy of our write is.
TEST_F(ReconcilerCrashTest, WatchEventOlderThanOurOwnWriteIsNotFolded) {
  Cluster cluster;
  ReconcilerLoop loop(dir, &cluster);
  cluster.during = [&](const EffectInput& in) {
    if (in.command.op != lc::Op::kAddFinalizer) return;
    json older = thingObject("t", "d");
    older["metadata"]["resourceVersion"] = "19";  // a label change before our PUT
    ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kModified, older, "19").isOk());
  };
  start(loop, "d");
  ASSERT_TRUE(loop.waitFor([&] { return cluster.statusPhase("d") == "Ready"; }));
  EXPECT_EQ(cluster.count(lc::Op::kAddFinalizer), 1) << "an older event undid the finalizer in the fold";
  json ours = thingObject("t", "d");
  ours["metadata"]["finalizers"] = json::array({kFinalizer});
  ours["metadata"]["resourceVersion"] = "20";
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kModified, ours, "20").isOk());
  json later = ours;
  later["metadata"]["generation"] = 2;
  later["metadata"]["resourceVersion"] = "21";
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kModified, later, "21").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return cluster.count(lc::Op::kObserve) >= 3; })) << "a newer spec is folded";
  EXPECT_EQ(cluster.count(lc::Op::kAddFinalizer), 1);
}

}  // namespace
}  // namespace spr::runtime
