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
#include "tests/runtime/reconciler_loop.h"

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
      case lc::Op::kDelete: services.erase(key); break;
      case lc::Op::kUpdate: drifted.erase(key); break;
      case lc::Op::kAddFinalizer: {
        json o = in.object;
        o["metadata"]["finalizers"] = json::array({runtime::kFinalizer});
        out.updatedObject = o;
        break;
      }
      default: break;
    }
    return out;
  }
  std::mutex mu;
  std::set<std::string> services, drifted;
  std::function<void()> onCreate;
  int failObserves = 0;
};

// Like the runtime tests' Thing, plus what audit shows: who changed it (managedFields) and a
// spec that changes with the generation.
inline json apiObject(const std::string& ns, const std::string& name, int64_t generation = 1) {
  json o = runtime::testing::thingObject(ns, name, generation);
  o["metadata"]["uid"] = "uid-" + ns + "-" + name;
  o["metadata"]["resourceVersion"] = std::to_string(generation * 10);
  o["metadata"]["managedFields"] = json::array(
      {{{"manager", "kubectl-client-side-apply"}, {"operation", "Update"}, {"time", "2024-05-01T12:00:00Z"}}});
  o["spec"]["version"] = "1." + std::to_string(generation);
  return o;
}

inline json configObject() { return runtime::testing::thingConfig(); }

// The runtime tests' reconciler loop, addressed by namespace and name.
struct Loop : runtime::testing::ReconcilerLoop {
  Loop(const std::string& dir, FakeClusters* clusters) : ReconcilerLoop(dir, clusters) {}
  bool ready(const std::string& ns, const std::string& name) { return view(ns, name).ready; }
  void add(const json& o, journal::WatchType type = journal::WatchType::kAdded) {
    ASSERT_TRUE(reconciler->observeApiObject(type, o, o["metadata"].value("resourceVersion", "1")).isOk());
  }
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
    ASSERT_TRUE(
        loop.waitFor([&] { return loop.ready("acme", "a") && loop.ready("acme-2", "b") && loop.ready("acme", "c"); }));
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
