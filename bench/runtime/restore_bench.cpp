// Restore time of `spr run` on an existing journal, without any cluster: opens a copy of
// the journal as `spr run` does (write mode), then times Reconciler::restore() (the
// state table, the config in force, re-queued unfolded inputs). Usage:
//   restore_bench JOURNAL_DIR [RUNS]     (e.g. the 1M-record journal replay_bench keeps
//   with SPR_REPLAY_BENCH_KEEP; the kinds restored are the crossplane provider's)
// Each run works on a fresh copy, so the original is never opened in write mode.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/journal/journal.h"
#include "runtime/reconciler.h"

namespace {

using Seconds = std::chrono::duration<double>;

class NoRunner : public spr::runtime::EffectRunner {  // restore runs no effect
 public:
  spr::runtime::EffectOutput run(const spr::runtime::EffectInput&) override { return {}; }
};

class WallClock : public spr::runtime::Clock {
 public:
  int64_t nowUnixNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// CPU time of this process (every thread: restore decodes the state table on two): on a
// shared machine, wall time says more about the other processes than about restore.
double processCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Timing {
  double open = 0, restore = 0, restoreCpu = 0;
  size_t objects = 0;
};

bool restoreOnce(const std::string& dir, Timing* t) {
  auto t0 = std::chrono::steady_clock::now();
  auto j = spr::journal::Journal::open(dir);
  if (!j) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), j.status().toString().c_str());
    return false;
  }
  auto t1 = std::chrono::steady_clock::now();
  WallClock clock;
  NoRunner runner;
  spr::runtime::Metrics metrics;
  spr::runtime::WorkQueue queue;
  spr::runtime::TimerList timers;
  spr::runtime::RateLimiter limiter(1000, 1000);
  spr::runtime::ReconcilerDeps deps;
  deps.journal = j->get();
  deps.runner = &runner;
  deps.metrics = &metrics;
  deps.clock = &clock;
  deps.queue = &queue;
  deps.timers = &timers;
  deps.limiter = &limiter;
  deps.providerName = "crossplane";
  deps.apiGroup = "crossplane.services.open-control-plane.io";
  deps.apiVersion = deps.configVersion = "v1alpha1";
  deps.apiKind = "Crossplane";
  deps.apiResource = "crossplanes";
  deps.configGroup = "crossplane.services.open-control-plane.io";
  deps.configKind = "ProviderConfig";
  deps.configResource = "providerconfigs";
  deps.onFatal = [](const spr::Status&) {};
  deps.redact = [](const nlohmann::json& o) { return o.dump(); };
  spr::runtime::Reconciler reconciler(std::move(deps));
  const double cpu0 = processCpuSeconds();
  spr::Status s = reconciler.restore();
  auto t2 = std::chrono::steady_clock::now();
  t->restoreCpu = processCpuSeconds() - cpu0;
  timers.stop();
  queue.shutdown();
  if (!s.isOk()) {
    std::fprintf(stderr, "restore: %s\n", s.toString().c_str());
    return false;
  }
  t->open = Seconds(t1 - t0).count();
  t->restore = Seconds(t2 - t1).count();
  t->objects = reconciler.views().size();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: restore_bench JOURNAL_DIR [RUNS]\n");
    return 2;
  }
  const std::string source = argv[1];
  const int runs = argc == 3 ? std::max(1, std::atoi(argv[2])) : 5;
  if (!std::filesystem::is_directory(source)) {
    std::fprintf(stderr, "restore_bench: %s is not a journal directory\n", source.c_str());
    return 2;
  }
  const auto copy = std::filesystem::temp_directory_path() / ("spr-restore-bench-" + std::to_string(::getpid()));
  std::vector<double> restores, cpus;
  for (int i = 0; i < runs; ++i) {
    std::filesystem::remove_all(copy);
    std::filesystem::copy(source, copy, std::filesystem::copy_options::recursive);
    Timing t;
    if (!restoreOnce(copy.string(), &t)) return 1;
    std::printf("run %d: open %.3f s, restore %.3f s wall, %.3f s CPU, %zu objects\n", i + 1, t.open, t.restore,
                t.restoreCpu, t.objects);
    restores.push_back(t.restore);
    cpus.push_back(t.restoreCpu);
  }
  std::filesystem::remove_all(copy);
  for (auto* v : {&restores, &cpus}) std::sort(v->begin(), v->end());
  std::printf("restore wall: min %.3f s, median %.3f s, max %.3f s; CPU: min %.3f s, median %.3f s over %d runs\n",
              restores.front(), restores[restores.size() / 2], restores.back(), cpus.front(), cpus[cpus.size() / 2],
              runs);
  return 0;
}
