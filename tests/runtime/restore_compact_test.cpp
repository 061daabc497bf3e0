// Compaction between a kill and the restart, at chosen points (crash hooks, no sleeps): an
// effect whose EffectCompleted was journaled but not folded when the process died must
// still be found by the restart, and folded once, whatever compaction archived meanwhile.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

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
    if (in.command.op == lc::Op::kAddFinalizer) {  // GET, then PUT with the finalizer, as the executor does
      json o = in.object;
      o["metadata"]["finalizers"] = json::array({kFinalizer});
      o["metadata"]["resourceVersion"] = "20";
      out.updatedObject = o;
      const std::string path = "/apis/test.services.open-control-plane.io/v1alpha1/namespaces/t/things/" + name;
      out.tape.push_back({"onboarding", "GET", path, "", 200, in.object.dump(), ""});
      out.tape.push_back({"onboarding", "PUT", path, o.dump(), 200, o.dump(), ""});
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

// A fresh journal directory for one test (removed first, in case a run before left it).
std::string freshDir(const std::string& name) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("spr-" + name + "-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  return dir;
}

// Every EffectCompleted in the journal has the Transition that folds it (the loop is idle).
bool allCompletionsFolded(const journal::Journal& j) {
  std::set<uint64_t> completions, folded;
  Status s = j.scan(j.firstSeq(), [&](const journal::Record& r) {
    if (std::holds_alternative<journal::EffectCompleted>(r.payload)) completions.insert(r.seq);
    if (const auto* t = std::get_if<journal::Transition>(&r.payload)) folded.insert(t->inputSeq);
    return true;
  });
  for (uint64_t seq : completions)
    if (!folded.count(seq)) return false;
  return s.isOk() && !completions.empty();
}

// Restores `loop`, then gives it the config and request "a" (tenant "t").
void startThingA(ReconcilerLoop& loop) {
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, thingConfig(), "5").isOk());
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, thingObject("t", "a"), "1").isOk());
}

// startThingA, then waits until "a" is Ready and every completion is folded.
void readyThingA(ReconcilerLoop& loop, Cluster& cluster) {
  ASSERT_NO_FATAL_FAILURE(startThingA(loop));
  ASSERT_TRUE(loop.waitFor([&] { return cluster.statusOf("a") == "Ready" && allCompletionsFolded(*loop.journal); }));
}

// Killed after a's AddFinalizer completion was journaled and before it was folded, while
// another object's fold moved the low-water mark past that completion; `spr journal
// compact` then runs before the restart. The restart folds that completion (AddFinalizer
// ran once, no Unknown completion) instead of running the effect again.
TEST(RestoreCompact, CompletionJournaledButNotFoldedSurvivesCompactionBeforeRestart) {
  const std::string dir = freshDir("restore-compact");
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
    ASSERT_NO_FATAL_FAILURE(startThingA(loop));
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

// The first fold of an object's input can lag behind two compactions (its worker starved
// under load; the e2e retention test saw it): the first carries the input in its snapshot,
// the second must carry it on although the live journal no longer has it. Lost, the live
// journal no longer replays ("no such record in the replayed input") and retention refuses
// every later compaction. Here both cuts fall between a's ADDED and the Transition folding
// it (journaled, as in `spr run`, before either compaction ran).
TEST(RestoreCompact, AnInputFoldedAfterTwoCutsIsCarriedOnByTheSecond) {
  const std::string dir = freshDir("two-cuts");
  Cluster cluster;
  {
    ReconcilerLoop loop(dir, &cluster);
    ASSERT_NO_FATAL_FAILURE(readyThingA(loop, cluster));
  }
  auto j = journal::Journal::open(dir);
  ASSERT_TRUE(j.isOk()) << j.status().toString();
  // a's ADDED, and the Transition that folds it; the records between them are a's fold of
  // the config (its mailbox had that first).
  uint64_t added = 0, foldOfAdded = 0;
  std::map<uint64_t, int64_t> wall;
  ASSERT_TRUE((*j)->scan(1,
                         [&](const journal::Record& r) {
                           wall[r.seq] = r.wallUnixNanos;
                           const auto* o = std::get_if<journal::Observed>(&r.payload);
                           if (o && o->cluster == "onboarding" && added == 0) added = r.seq;
                           const auto* t = std::get_if<journal::Transition>(&r.payload);
                           if (t && added != 0 && t->inputSeq == added) foldOfAdded = r.seq;
                           return foldOfAdded == 0;
                         })
                  .isOk());
  ASSERT_GT(foldOfAdded, added + 1) << "no record between a's ADDED and its fold to cut at";
  ASSERT_LT(wall[foldOfAdded - 1], wall[foldOfAdded]);
  auto first = replay::compactJournal(**j, wall[foldOfAdded - 1], dir + "-1.archive");
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  ASSERT_EQ(first->keptFrom, foldOfAdded - 1);
  auto second = replay::compactJournal(**j, wall[foldOfAdded], dir + "-2.archive");
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  ASSERT_EQ(second->keptFrom, foldOfAdded) << "the second cut is not between the two";
  // The live journal replays from the second compaction's snapshots...
  replay::ReplayOptions options;
  replay::Replayer replayer(options);
  ASSERT_TRUE(replay::replayJournal(**j, replayer, options).isOk());
  ASSERT_FALSE(replayer.divergence()) << "seq " << replayer.divergence()->seq << " " << replayer.divergence()->what
                                      << ": " << replayer.divergence()->expected << " | " << replayer.divergence()->got;
  // ... and so does a third compaction, which used to refuse for good.
  auto third = replay::compactJournal(**j, wall.rbegin()->second + 1, dir + "-3.archive");
  EXPECT_TRUE(third.isOk()) << third.status().toString();
  j->reset();
  // A restart on it changes nothing: a stays Ready and nothing runs again.
  ReconcilerLoop loop(dir, &cluster);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("t", "a").ready; }));
  loop.reconciler->stop();
  EXPECT_EQ(cluster.count("a", lc::Op::kAddFinalizer), 1);
  EXPECT_EQ(cluster.count("a", lc::Op::kCreate), 1);
  for (const char* suffix : {"", "-1.archive", "-2.archive", "-3.archive"}) std::filesystem::remove_all(dir + suffix);
}

// A compaction after a's AddFinalizer, before any watch event brought the version it wrote
// (this fake cluster sends none): the live run's next effect starts from the object the
// write returned, so the snapshot must carry that object, not the ADDED one, or replay
// with tapes of the compacted journal diverges at the first request that sends it (a
// status PUT with the old resourceVersion and no finalizer).
TEST(RestoreCompact, TheSnapshotCarriesTheObjectAnEffectWrote) {
  const std::string dir = freshDir("snapshot-object");
  Cluster cluster;
  ReconcilerLoop loop(dir, &cluster);
  ASSERT_NO_FATAL_FAILURE(readyThingA(loop, cluster));
  auto compacted = replay::compactJournal(*loop.journal, wallNanos() + 1000000000, "");
  ASSERT_TRUE(compacted.isOk()) << compacted.status().toString();
  json object;
  ASSERT_TRUE(loop.journal
                  ->scan(loop.journal->firstSeq(),
                         [&](const journal::Record& r) {
                           const auto* s = std::get_if<journal::Snapshot>(&r.payload);
                           if (s && r.object.name == "a") object = json::parse(s->stateJson)["state"]["object"];
                           return true;
                         })
                  .isOk());
  ASSERT_TRUE(object.is_object()) << "no snapshot of a";
  EXPECT_EQ(object["metadata"].value("resourceVersion", ""), "20") << object.dump();
  EXPECT_EQ(object["metadata"].value("finalizers", json::array()), json::array({kFinalizer})) << object.dump();
  std::filesystem::remove_all(dir);
}

// A watch event older than the object's own write is held back, not folded, and the
// low-water mark passes it; it is folded when the watch re-lists, which may come after
// several compactions. Each must carry it, or the live journal no longer replays.
TEST(RestoreCompact, AHeldBackWatchEventFoldedAfterTwoCompactionsIsCarriedByBoth) {
  const std::string dir = freshDir("held-back");
  Cluster cluster;
  ReconcilerLoop loop(dir, &cluster);
  ASSERT_NO_FATAL_FAILURE(readyThingA(loop, cluster));
  // The AddFinalizer write returned version 20; an event of version 15 is older: held back.
  json older = thingObject("t", "a");
  older["metadata"]["resourceVersion"] = "15";
  older["metadata"]["finalizers"] = json::array({kFinalizer});
  const uint64_t held = loop.journal->nextSeq();
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kModified, older, "15").isOk());
  // Another object's folds move the low-water mark past it.
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, thingObject("t", "b"), "2").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return cluster.statusOf("b") == "Ready" && allCompletionsFolded(*loop.journal); }));
  for (const char* next : {"c", "d"}) {
    auto compacted = replay::compactJournal(*loop.journal, wallNanos() + 1000000000, "");
    ASSERT_TRUE(compacted.isOk()) << compacted.status().toString();
    ASSERT_FALSE(compacted->nothingToDo);
    ASSERT_GT(compacted->keptFrom, held) << "the held-back event was kept live";
    // Life goes on: another object's folds, so the next compaction has a cut to make.
    ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, thingObject("t", next), "3").isOk());
    ASSERT_TRUE(loop.waitFor([&] { return cluster.statusOf(next) == "Ready" && allCompletionsFolded(*loop.journal); }));
  }
  auto foldedHeld = [&] {
    bool found = false;
    EXPECT_TRUE(loop.journal
                    ->scan(loop.journal->firstSeq(),
                           [&](const journal::Record& r) {
                             const auto* t = std::get_if<journal::Transition>(&r.payload);
                             found = found || (t && t->inputSeq == held);
                             return true;
                           })
                    .isOk());
    return found;
  };
  EXPECT_FALSE(foldedHeld());
  loop.reconciler->watchResynced();  // the watch re-listed: the held-back event is folded now
  ASSERT_TRUE(loop.waitFor(foldedHeld));
  loop.reconciler->stop();
  replay::ReplayOptions options;
  replay::Replayer replayer(options);
  ASSERT_TRUE(replay::replayJournal(*loop.journal, replayer, options).isOk());
  EXPECT_FALSE(replayer.divergence()) << "seq " << replayer.divergence()->seq << " " << replayer.divergence()->what
                                      << ": " << replayer.divergence()->expected << " | " << replayer.divergence()->got;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace spr::runtime
