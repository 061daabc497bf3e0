// A Reconciler over the test kind "Thing" (test.services.open-control-plane.io/v1alpha1)
// with its work queue, timers and two worker threads on a real journal, clusters faked by
// an EffectRunner the test supplies. Shared by the runtime tests and by the replay tests
// that record journals with it. The loop's threads are its own; the test drives it from
// one thread.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/journal/journal.h"
#include "runtime/reconciler.h"

namespace spr::runtime::testing {

using nlohmann::json;

class WallClock : public Clock {
 public:
  int64_t nowUnixNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

inline json thingObject(const std::string& ns, const std::string& name, int64_t generation = 1) {
  return {{"apiVersion", "test.services.open-control-plane.io/v1alpha1"},
          {"kind", "Thing"},
          {"metadata",
           {{"namespace", ns},
            {"name", name},
            {"uid", "uid-" + name},
            {"generation", generation},
            {"resourceVersion", std::to_string(generation)}}},
          {"spec", {{"version", "1.0"}}}};
}

inline json thingConfig() {
  return {{"apiVersion", "test.services.open-control-plane.io/v1alpha1"},
          {"kind", "ProviderConfig"},
          {"metadata", {{"name", "test"}, {"uid", "cfg"}, {"generation", 1}, {"resourceVersion", "5"}}},
          {"spec", {{"pollInterval", "1h"}}}};
}

struct ReconcilerLoop {
  // `runner` must outlive the loop.
  // `crashAt`: see ReconcilerDeps::crashAt (tests that kill the loop at a chosen point).
  ReconcilerLoop(const std::string& dir, EffectRunner* runner,
                 std::function<bool(const char*, const lifecycle::Command&)> crashAt = {})
      : limiter(1000, 1000) {
    auto j = journal::Journal::open(dir);
    EXPECT_TRUE(j.isOk()) << j.status().toString();
    journal = std::move(*j);
    ReconcilerDeps deps;
    deps.journal = journal.get();
    deps.runner = runner;
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
    deps.crashAt = std::move(crashAt);
    reconciler = std::make_unique<Reconciler>(std::move(deps));
    for (int i = 0; i < 2; ++i)
      workers.emplace_back([this] {
        std::string key;
        while (queue.get(&key)) {
          reconciler->process(key);
          queue.done(key);
        }
      });
  }
  ~ReconcilerLoop() {
    reconciler->stop();
    queue.shutdown();
    for (auto& w : workers) w.join();
    timers.stop();
  }
  ReconcilerLoop(const ReconcilerLoop&) = delete;
  ReconcilerLoop& operator=(const ReconcilerLoop&) = delete;

  // Polls every 5 ms for up to 20 s.
  bool waitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 4000; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return done();
  }
  // ns "" matches any namespace.
  ObjectView view(const std::string& ns, const std::string& name) const {
    for (const auto& v : reconciler->views())
      if (v.name == name && (ns.empty() || v.ns == ns)) return v;
    return {};
  }

  WallClock clock;
  Metrics metrics;
  WorkQueue queue;
  TimerList timers;
  RateLimiter limiter;
  std::unique_ptr<journal::Journal> journal;
  std::unique_ptr<Reconciler> reconciler;
  std::vector<std::thread> workers;
  Status fatal;
};

}  // namespace spr::runtime::testing
