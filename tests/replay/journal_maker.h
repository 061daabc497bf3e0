// Writes real journals for replay tests: the runtime's Reconciler (spr_runtime_core) with
// the real fold and journal, and fake clusters (an EffectRunner over in-memory services).
// Scenarios cover Ready, Update on drift, transient errors with backoff, deletion, several
// tenants whose names are prefixes of each other, and a crash during Create + restart.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/journal/journal.h"
#include "runtime/reconciler.h"
#include "runtime/status.h"

namespace spr::replay::testing {

using nlohmann::json;
namespace lc = lifecycle;

class FakeClusters : public runtime::EffectRunner {
 public:
  runtime::EffectOutput run(const runtime::EffectInput& in) override {
    std::lock_guard<std::mutex> lock(mu);
    runtime::EffectOutput out;
    std::string key = in.object["metadata"].value("namespace", "") + "/" + in.object["metadata"].value("name", "");
    switch (in.command.op) {
      case lc::Op::kObserve:
        if (failObserves > 0) {
          --failObserves;
          out.done.outcome = lc::Outcome::kTransientError;
          out.errorClass = "Transient";
          out.done.message = "the MCP cluster is not reachable yet";
          out.done.reason = "ClusterUnreachable";
          break;
        }
        out.done.exists = services.count(key) > 0;
        out.done.drift = out.done.exists && drifted.count(key) > 0;
        out.result = {{"exists", out.done.exists}, {"drift", out.done.drift}, {"ready", true}};
        out.tape.push_back({"mcp", "GET", "/apis/x/v1/ns/" + key, "", out.done.exists ? 200 : 404, "{}", ""});
        break;
      case lc::Op::kCreate:
        if (onCreate) onCreate();
        services.insert(key);
        out.tape.push_back({"mcp", "POST", "/apis/x/v1/ns/" + key, "{\"replicas\":1}", 201, "{}", ""});
        break;
      case lc::Op::kDelete:
        services.erase(key);
        break;
      case lc::Op::kUpdate:
        drifted.erase(key);
        break;
      case lc::Op::kAddFinalizer: {
        json o = in.object;
        o["metadata"]["finalizers"] = json::array({runtime::kFinalizer});
        out.updatedObject = o;
        break;
      }
      default:
        break;
    }
    return out;
  }
  std::mutex mu;
  std::set<std::string> services, drifted;
  std::function<void()> onCreate;
  int failObserves = 0;
};

class WallClock : public runtime::Clock {
 public:
  int64_t nowUnixNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

inline json apiObject(const std::string& ns, const std::string& name, int64_t generation = 1) {
  return {{"apiVersion", "test.services.open-control-plane.io/v1alpha1"},
          {"kind", "Thing"},
          {"metadata",
           {{"namespace", ns},
            {"name", name},
            {"uid", "uid-" + ns + "-" + name},
            {"generation", generation},
            {"resourceVersion", std::to_string(generation * 10)},
            {"managedFields", json::array({{{"manager", "kubectl-client-side-apply"},
                                            {"operation", "Update"},
                                            {"time", "2024-05-01T12:00:00Z"}}})}}},
          {"spec", {{"version", "1." + std::to_string(generation)}}}};
}

inline json configObject() {
  return {{"apiVersion", "test.services.open-control-plane.io/v1alpha1"},
          {"kind", "ProviderConfig"},
          {"metadata", {{"name", "test"}, {"uid", "cfg"}, {"generation", 1}, {"resourceVersion", "5"}}},
          {"spec", {{"pollInterval", "1h"}}}};
}

// One Reconciler with its queue, timers and workers on a journal directory.
struct Loop {
  Loop(const std::string& dir, FakeClusters* clusters) : limiter(1000, 1000) {
    auto j = journal::Journal::open(dir);
    EXPECT_TRUE(j.isOk()) << j.status().toString();
    journal = std::move(*j);
    runtime::ReconcilerDeps deps;
    deps.journal = journal.get();
    deps.runner = clusters;
    deps.metrics = &metrics;
    deps.clock = &clock;
    deps.queue = &queue;
    deps.timers = &timers;
    deps.limiter = &limiter;
    deps.delayScale = 0.001;
    deps.providerName = "test";
    deps.apiGroup = deps.configGroup = "test.services.open-control-plane.io";
    deps.apiVersion = deps.configVersion = "v1alpha1";
    deps.apiKind = "Thing";
    deps.apiResource = "things";
    deps.configKind = "ProviderConfig";
    deps.configResource = "providerconfigs";
    deps.onFatal = [this](const Status& s) { fatal = s; };
    deps.redact = [](const json& o) { return o.dump(); };
    reconciler = std::make_unique<runtime::Reconciler>(std::move(deps));
    for (int i = 0; i < 2; ++i)
      workers.emplace_back([this] {
        std::string key;
        while (queue.get(&key)) {
          reconciler->process(key);
          queue.done(key);
        }
      });
  }
  ~Loop() {
    reconciler->stop();
    queue.shutdown();
    for (auto& w : workers) w.join();
    timers.stop();
  }
  bool waitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 2000; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  runtime::ObjectView view(const std::string& ns, const std::string& name) {
    for (const auto& v : reconciler->views())
      if (v.name == name && v.ns == ns) return v;
    return {};
  }
  bool ready(const std::string& ns, const std::string& name) { return view(ns, name).ready; }
  void add(const json& o, journal::WatchType type = journal::WatchType::kAdded) {
    ASSERT_TRUE(reconciler->observeApiObject(type, o, o["metadata"].value("resourceVersion", "1")).isOk());
  }
  WallClock clock;
  runtime::Metrics metrics;
  runtime::WorkQueue queue;
  runtime::TimerList timers;
  runtime::RateLimiter limiter;
  std::unique_ptr<journal::Journal> journal;
  std::unique_ptr<runtime::Reconciler> reconciler;
  std::vector<std::thread> workers;
  Status fatal;
};

// The full scenario: tenants acme and acme-2, Ready, Update on drift, backoff, deletion,
// then a crash during a Create and a restart that resolves it.
inline void writeScenarioJournal(const std::string& dir) {
  FakeClusters clusters;
  {
    Loop loop(dir, &clusters);
    ASSERT_TRUE(loop.reconciler->restore().isOk());
    ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configObject(), "5").isOk());
    loop.add(apiObject("acme", "a"));
    loop.add(apiObject("acme-2", "b"));
    loop.add(apiObject("acme", "c"));
    ASSERT_TRUE(loop.waitFor([&] { return loop.ready("acme", "a") && loop.ready("acme-2", "b") && loop.ready("acme", "c"); }));
    {
      std::lock_guard<std::mutex> lock(clusters.mu);
      clusters.drifted.insert("acme/a");
      clusters.failObserves = 2;
    }
    json a2 = apiObject("acme", "a", 2);
    a2["metadata"]["finalizers"] = json::array({runtime::kFinalizer});
    loop.add(a2, journal::WatchType::kModified);
    ASSERT_TRUE(loop.waitFor([&] {
      std::lock_guard<std::mutex> lock(clusters.mu);
      return clusters.drifted.empty() && clusters.failObserves == 0;
    }));
    ASSERT_TRUE(loop.waitFor([&] { return loop.ready("acme", "a"); })) << loop.view("acme", "a").phase;
    json c = apiObject("acme", "c", 1);
    c["metadata"]["resourceVersion"] = "30";
    c["metadata"]["finalizers"] = json::array({runtime::kFinalizer});
    c["metadata"]["deletionTimestamp"] = "2024-05-01T13:00:00Z";
    loop.add(c, journal::WatchType::kModified);
    ASSERT_TRUE(loop.waitFor([&] { return loop.view("acme", "c").deleted; })) << loop.view("acme", "c").phase;
    loop.add(c, journal::WatchType::kDeleted);
    // A crash while Create runs: the journal fails before EffectCompleted is written.
    clusters.onCreate = [&] { loop.journal->failNextWriteForTesting(); };
    loop.add(apiObject("acme-2", "crash"));
    ASSERT_TRUE(loop.waitFor([&] { return !loop.fatal.isOk(); }));
  }
  clusters.onCreate = nullptr;
  Loop loop(dir, &clusters);
  ASSERT_TRUE(loop.reconciler->restore().isOk());
  ASSERT_TRUE(loop.waitFor([&] { return loop.ready("acme-2", "crash"); })) << loop.view("acme-2", "crash").phase;
  // Let in-flight work settle (the last fold's batch is journaled).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

inline std::string tempDir(const std::string& tag) {
  auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("spr-replay-" + std::to_string(::getpid()) + "-" + info->name() + "-" + tag))
                        .string();
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace spr::replay::testing
