// The reconcile loop with a real journal and the real fold; only the clusters are faked
// (an EffectRunner over an in-memory "MCP"). End-to-end tests against the local API
// server are in operator_test.cpp.
#include "runtime/reconciler.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "core/journal/journal.h"
#include "runtime/status.h"
#include "tests/runtime/reconciler_loop.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
namespace lc = lifecycle;

// The fake clusters: which services exist; counts Creates.
class FakeRunner : public EffectRunner {
 public:
  EffectOutput run(const EffectInput& in) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++runs;
    EffectOutput out;
    std::string key = in.object["metadata"].value("namespace", "") + "/" + in.object["metadata"].value("name", "");
    switch (in.command.op) {
      case lc::Op::kObserve:
        if (failObserves > 0) {
          --failObserves;
          out.done.outcome = lc::Outcome::kTransientError;
          out.errorClass = "Unavailable";
          out.done.message = "the MCP cluster is not reachable yet";
          break;
        }
        out.done.exists = services.count(key) > 0;
        out.done.ready = true;
        out.done.drift = out.done.exists && drifted.count(key) > 0;
        out.result = {{"exists", out.done.exists}, {"drift", out.done.drift}, {"ready", true}};
        break;
      case lc::Op::kCreate:
        if (in.resume) {  // Observe first, as EffectExecutor does
          ++resumes;
          out.result = {{"resumed", true}, {"found", services.count(key) > 0}};
          if (services.count(key)) break;
        }
        if (onCreate) onCreate();
        if (createNeverSent) {  // the process "died" before the request left
          createNeverSent = false;
          break;
        }
        ++creates[key];
        services.insert(key);
        break;
      case lc::Op::kDelete: services.erase(key); break;
      case lc::Op::kCheckDeletion:  // as EffectExecutor: the answer is journaled in the result
        ++checks;
        out.done.blocked = blockers.count(key) > 0;
        out.result = {{"blocked", out.done.blocked}};
        if (out.done.blocked) {
          out.done.reason = lc::kReasonUserResourcesPresent;
          out.done.message = "1 Object (objects.kubernetes.crossplane.io): db";
        }
        break;
      case lc::Op::kUpdate:
        ++updates[key];
        drifted.erase(key);
        break;
      case lc::Op::kWriteStatus: statuses[key] = in.command.status; break;
      case lc::Op::kAddFinalizer: {
        json o = in.object;
        o["metadata"]["finalizers"] = json::array({kFinalizer});
        out.updatedObject = o;
        break;
      }
      default: break;
    }
    return out;
  }
  std::mutex mu_;
  std::set<std::string> services;
  std::map<std::string, int> creates, updates;
  std::set<std::string> drifted;
  std::set<std::string> blockers;  // objects whose deletion users' resources block
  int checks = 0;
  std::map<std::string, lc::StatusView> statuses;
  std::function<void()> onCreate;
  bool createNeverSent = false;
  int resumes = 0;
  int failObserves = 0;
  int runs = 0;
};

using testing::thingConfig;
using testing::thingObject;

json apiObject(const std::string& ns, const std::string& name, int64_t generation = 1) {
  return thingObject(ns, name, generation);
}
json configObject() { return thingConfig(); }

struct Loop : testing::ReconcilerLoop {
  Loop(const std::string& dir, EffectRunner* runner) : ReconcilerLoop(dir, runner) {}
  ObjectView view(const std::string& name) const { return ReconcilerLoop::view("", name); }
};

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (std::filesystem::temp_directory_path() / ("spr-reconciler-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    std::filesystem::remove_all(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string dir;
};

TEST_F(ReconcilerTest, ObjectReachesReadyWithOneCreateAndJournaledEffects) {
  FakeRunner runner;
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, apiObject("t1", "a"), "7").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("a").ready; })) << loop.view("a").phase;
  EXPECT_EQ(runner.creates["t1/a"], 1);
  EXPECT_EQ(loop.view("a").statusPhase, "Ready");
  // Every effect was requested (synced) before it completed, and each fold names its input.
  std::map<uint64_t, std::string> requested, completed;
  auto records = loop.journal->readObject(loop.reconciler->apiObjectKey("t1", "a"), journal::Order::kOldestFirst, 1000);
  ASSERT_TRUE(records.isOk());
  for (const auto& r : *records) {
    if (auto* q = std::get_if<journal::EffectRequested>(&r.payload)) {
      EXPECT_FALSE(completed.count(q->effectId));
      requested[q->effectId] = q->command;
    }
    if (auto* c = std::get_if<journal::EffectCompleted>(&r.payload)) {
      EXPECT_TRUE(requested.count(c->effectId)) << "effect " << c->effectId << " completed without a request";
      completed[c->effectId] = c->command;
    }
    if (auto* t = std::get_if<journal::Transition>(&r.payload)) {
      EXPECT_GT(t->inputSeq, 0u);
    }
  }
  int createRequests = 0;
  for (const auto& [id, cmd] : requested) createRequests += cmd == "Create";
  EXPECT_EQ(createRequests, 1);
  auto rv = loop.journal->meta(watchRvKey("onboarding", "test.services.open-control-plane.io", "things"));
  ASSERT_TRUE(rv.isOk());
  EXPECT_EQ(rv->value_or(""), "7");
}

TEST_F(ReconcilerTest, MissingConfigReportsItAndResumesWhenConfigAppears) {
  FakeRunner runner;
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, apiObject("t1", "b"), "8").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("b").reason == lc::kReasonConfigNotFound; }))
      << loop.view("b").reason;
  EXPECT_FALSE(loop.view("b").ready);
  EXPECT_TRUE(runner.creates.empty());
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "9").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("b").ready; })) << loop.view("b").phase;
  EXPECT_EQ(runner.creates["t1/b"], 1);
}

// Create effects of one object in the journal: requested, and the completions' results.
struct CreateRecords {
  int requested = 0;
  std::vector<json> results;
  int unknown = 0;
};
CreateRecords createRecords(Loop& loop, const std::string& name) {
  CreateRecords out;
  auto records =
      loop.journal->readObject(loop.reconciler->apiObjectKey("t1", name), journal::Order::kOldestFirst, 1000);
  EXPECT_TRUE(records.isOk());
  if (!records.isOk()) return out;
  for (const auto& r : *records) {
    if (auto* q = std::get_if<journal::EffectRequested>(&r.payload)) out.requested += q->command == "Create";
    if (auto* c = std::get_if<journal::EffectCompleted>(&r.payload); c && c->command == "Create") {
      out.unknown += c->outcome == journal::Outcome::kUnknown;
      if (c->outcome == journal::Outcome::kSucceeded) out.results.push_back(json::parse(c->resultJson));
    }
  }
  return out;
}

// The journal fails right after the Create request went out (as kill -9 would stop it):
// run `sendCreate` = false to stop it before the request left instead.
void crashDuringCreate(const std::string& dir, FakeRunner* runner, const std::string& name, bool sendCreate) {
  Loop loop(dir, runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  runner->createNeverSent = !sendCreate;
  runner->onCreate = [&] { loop.journal->failNextWriteForTesting(); };
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, apiObject("t1", name), "7").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return !loop.fatal.isOk(); }));
  EXPECT_EQ(loop.fatal.code(), Code::kIoError);
  EXPECT_FALSE(loop.view(name).ready);
  runner->onCreate = nullptr;
}

TEST_F(ReconcilerTest, CreateThatReachedTheClusterBeforeACrashIsNotSentAgain) {
  FakeRunner runner;
  crashDuringCreate(dir, &runner, "c", /*sendCreate=*/true);
  ASSERT_FALSE(HasFatalFailure());
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("c").ready; })) << loop.view("c").phase;
  EXPECT_EQ(runner.creates["t1/c"], 1);
  EXPECT_EQ(runner.resumes, 1);
  CreateRecords records = createRecords(loop, "c");
  EXPECT_EQ(records.requested, 1) << "one Create effect in the journal, resumed under its own id";
  EXPECT_EQ(records.unknown, 0);
  ASSERT_EQ(records.results.size(), 1u);
  EXPECT_EQ(records.results[0], json({{"resumed", true}, {"found", true}}));
}

TEST_F(ReconcilerTest, CreateJournaledButNeverSentBeforeACrashIsSentOnceAfterObserve) {
  FakeRunner runner;
  crashDuringCreate(dir, &runner, "c2", /*sendCreate=*/false);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(runner.creates.count("t1/c2"), 0u);
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("c2").ready; })) << loop.view("c2").phase;
  EXPECT_EQ(runner.creates["t1/c2"], 1);
  CreateRecords records = createRecords(loop, "c2");
  EXPECT_EQ(records.requested, 1);
  ASSERT_EQ(records.results.size(), 1u);
  EXPECT_EQ(records.results[0], json({{"resumed", true}, {"found", false}}));
}

TEST_F(ReconcilerTest, ObservedButUnfoldedInputsAreFoldedAfterRestart) {
  FakeRunner runner;
  {
    Loop loop(dir, &runner);
    ASSERT_TRUE(loop.reconciler->restore().isOk());
    loop.reconciler->stop();  // journal inputs, act on nothing (as if killed right after)
    ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
    ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, apiObject("t2", "d"), "7").isOk());
  }
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("d").ready; })) << loop.view("d").phase;
  EXPECT_EQ(runner.creates["t2/d"], 1);
}

// t1/e created, Ready, then deleted (deletionTimestamp, spr's finalizer) until the fold says
// Deleted. `deletionSeq`, when given, receives the journal seq of the deletion event.
void createReadyThenDelete(Loop& loop, uint64_t* deletionSeq = nullptr) {
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
  json obj = apiObject("t1", "e");
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, obj, "7").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("e").ready; }));
  obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  obj["metadata"]["finalizers"] = json::array({kFinalizer});
  obj["metadata"]["resourceVersion"] = "9";
  if (deletionSeq) *deletionSeq = loop.journal->nextSeq();
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kModified, obj, "9").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("e").deleted; })) << loop.view("e").phase;
}

TEST_F(ReconcilerTest, DeletionRunsDeleteThenFinishes) {
  FakeRunner runner;
  Loop loop(dir, &runner);
  createReadyThenDelete(loop);
  std::lock_guard<std::mutex> lock(runner.mu_);
  EXPECT_EQ(runner.services.count("t1/e"), 0u);
}

// An event journaled before an object reached Deleted, but never folded (e.g. a re-list's
// copy held back by own-write ordering), is history once the state has left the table: a
// restart must not start the deleted object over from Pending (ChaosSoak found the journal
// of such a restart diverging on replay).
TEST_F(ReconcilerTest, AnUnfoldedEventOfAnObjectDeletedSinceIsNotFoldedAtRestart) {
  FakeRunner runner;
  uint64_t deletionEventSeq = 0;
  {
    Loop loop(dir, &runner);
    createReadyThenDelete(loop, &deletionEventSeq);
    // As if that event had been held back: the fold's low-water mark still points at it.
    journal::AppendBatch batch;
    batch.meta.emplace_back(kMetaLowWater, std::to_string(deletionEventSeq));
    batch.sync = journal::Sync::kSync;
    ASSERT_TRUE(loop.journal->append(std::move(batch)).isOk());
  }
  {
    std::lock_guard<std::mutex> lock(runner.mu_);
    runner.statuses.clear();
  }
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  // A later object goes all the way to Ready: the queue has long passed anything restore queued.
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, apiObject("t1", "f"), "11").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("f").ready; }));
  EXPECT_TRUE(loop.view("e").name.empty()) << "the deleted object came back: " << loop.view("e").phase;
  std::lock_guard<std::mutex> lock(runner.mu_);
  EXPECT_EQ(runner.statuses.count("t1/e"), 0u) << "a status was written for the deleted object";
}

// Users' resources block the deletion: nothing is deleted, the status says why, and the
// re-check timer is journaled, so a restart keeps waiting and deletion finishes once clear.
TEST_F(ReconcilerTest, BlockedDeletionWaitsAcrossARestartAndFinishesOnceClear) {
  FakeRunner runner;
  runner.blockers.insert("t1/b");
  json obj = apiObject("t1", "b");
  {
    Loop loop(dir, &runner);
    ASSERT_TRUE(loop.reconciler->restore().isOk());
    ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
    ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, obj, "7").isOk());
    ASSERT_TRUE(loop.waitFor([&] { return loop.view("b").ready; }));
    obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
    obj["metadata"]["finalizers"] = json::array({kFinalizer});
    obj["metadata"]["resourceVersion"] = "9";
    ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kModified, obj, "9").isOk());
    ASSERT_TRUE(loop.waitFor([&] {
      std::lock_guard<std::mutex> lock(runner.mu_);
      return runner.checks >= 3;  // blocked, and re-checked on its timer
    }));
    ObjectView v = loop.view("b");
    EXPECT_EQ(v.phase, "DeletionBlocked");
    EXPECT_EQ(v.reason, lc::kReasonUserResourcesPresent);
    EXPECT_EQ(v.statusPhase, "Terminating");
    EXPECT_NE(v.message.find("objects.kubernetes.crossplane.io"), std::string::npos) << v.message;
    std::lock_guard<std::mutex> lock(runner.mu_);
    EXPECT_EQ(runner.services.count("t1/b"), 1u) << "nothing is deleted while blocked";
  }
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  {
    std::lock_guard<std::mutex> lock(runner.mu_);
    runner.blockers.clear();
  }
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("b").deleted; })) << loop.view("b").phase;
  std::lock_guard<std::mutex> lock(runner.mu_);
  EXPECT_EQ(runner.services.count("t1/b"), 0u);
}

TEST_F(ReconcilerTest, TransientErrorsBackOffViaJournaledTimersAndRecover) {
  FakeRunner runner;
  runner.failObserves = 2;
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, apiObject("t1", "k"), "7").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("k").ready; })) << loop.view("k").phase;
  int timers = 0, transient = 0;
  auto records = loop.journal->readObject(loop.reconciler->apiObjectKey("t1", "k"), journal::Order::kOldestFirst, 1000);
  ASSERT_TRUE(records.isOk());
  for (const auto& r : *records) {
    timers += std::holds_alternative<journal::TimerFired>(r.payload);
    if (auto* c = std::get_if<journal::EffectCompleted>(&r.payload))
      transient += c->outcome == journal::Outcome::kTransientError;
  }
  EXPECT_EQ(transient, 2);
  EXPECT_GE(timers, 2);
  EXPECT_EQ(runner.creates["t1/k"], 1);
}

TEST_F(ReconcilerTest, JournalFailureStopsAllFurtherEffects) {
  FakeRunner runner;
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
  loop.journal->failNextWriteForTesting();
  EXPECT_FALSE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, apiObject("t1", "l"), "7").isOk());
  EXPECT_EQ(loop.fatal.code(), Code::kIoError);
  EXPECT_FALSE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, apiObject("t1", "m"), "8").isOk());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::lock_guard<std::mutex> lock(runner.mu_);
  EXPECT_EQ(runner.runs, 0);
}

TEST_F(ReconcilerTest, TwoHundredObjectsAllReadyWithOneCreateEach) {
  FakeRunner runner;
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
  const int n = 200;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    ASSERT_TRUE(loop.reconciler
                    ->observeApiObject(journal::WatchType::kAdded,
                                       apiObject("tenant-" + std::to_string(i % 10), "o" + std::to_string(i)),
                                       std::to_string(10 + i))
                    .isOk());
  ASSERT_TRUE(loop.waitFor([&] {
    int ready = 0;
    for (const auto& v : loop.reconciler->views()) ready += v.ready;
    return ready == n;
  }));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::lock_guard<std::mutex> lock(runner.mu_);
  EXPECT_EQ(runner.creates.size(), static_cast<size_t>(n));
  for (const auto& [key, count] : runner.creates) EXPECT_EQ(count, 1) << key;
  auto stats = loop.journal->stats();
  ASSERT_TRUE(stats.isOk());
  std::printf("[ measure  ] %d objects Ready in %.2f s with 2 workers (fake clusters, synced journal): %llu records\n",
              n, secs, static_cast<unsigned long long>(stats->records));
}

TEST_F(ReconcilerTest, SpecChangeWithDriftRunsUpdate) {
  FakeRunner runner;
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, apiObject("t1", "f"), "7").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("f").ready; }));
  {
    std::lock_guard<std::mutex> lock(runner.mu_);
    runner.drifted.insert("t1/f");
  }
  json obj = apiObject("t1", "f", 2);
  obj["metadata"]["finalizers"] = json::array({kFinalizer});
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kModified, obj, "11").isOk());
  ASSERT_TRUE(loop.waitFor([&] {
    std::lock_guard<std::mutex> lock(runner.mu_);
    return runner.updates["t1/f"] == 1 && runner.statuses["t1/f"].observedGeneration == 2 &&
           runner.statuses["t1/f"].ready;
  }));
  EXPECT_EQ(runner.creates["t1/f"], 1);
}

TEST_F(ReconcilerTest, IgnoreAnnotationSkipsTheObject) {
  FakeRunner runner;
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
  json obj = apiObject("t1", "g");
  obj["metadata"]["annotations"] = {{kOperationAnnotation, "ignore"}};
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, obj, "7").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("g").phase == "Ignored"; })) << loop.view("g").phase;
  EXPECT_EQ(runner.creates.count("t1/g"), 0u);
}

TEST_F(ReconcilerTest, ObjectMissingFromARelistIsTreatedAsGone) {
  FakeRunner runner;
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, apiObject("t1", "h"), "7").isOk());
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, apiObject("t1", "i"), "8").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("h").ready && loop.view("i").ready; }));
  ASSERT_TRUE(loop.reconciler->listSynced({loop.reconciler->apiObjectKey("t1", "i")}).isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("h").deleted; })) << loop.view("h").phase;
  EXPECT_FALSE(loop.view("i").deleted);
}

TEST_F(ReconcilerTest, MetricsCountReconcilesEffectsAndJournalRecords) {
  FakeRunner runner;
  Loop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
  ASSERT_TRUE(loop.reconciler->observeApiObject(journal::WatchType::kAdded, apiObject("t1", "j"), "7").isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.view("j").ready; }));
  EXPECT_EQ(loop.metrics.effects("Create"), 1u);
  HttpEndpoint http;
  http.handle("/metrics", [&] { return std::make_pair(200, loop.metrics.render("test")); });
  ASSERT_TRUE(http.start("127.0.0.1:0").isOk());
  ASSERT_GT(http.port(), 0);
  httplib::Client client("127.0.0.1", http.port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  std::string text = res->body;
  for (const char* name :
       {"controller_runtime_reconcile_total{controller=\"test\",result=\"success\"}",
        "controller_runtime_reconcile_time_seconds_bucket", "spr_journal_records_total",
        "spr_journal_fsync_seconds_count", "spr_effects_total{op=\"Create\",outcome=\"Succeeded\"} 1"})
    EXPECT_NE(text.find(name), std::string::npos) << name;
  http.stop();
}

}  // namespace
}  // namespace spr::runtime
