// Fold throughput: lifecycle::fold (Boost.MSM) against a hand-written switch fold
// (switch_fold.cpp) over the same pre-generated 1M inputs across 1,000 objects.
// Prints both rates and the ratio; checks first that both folds agree on the workload.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>

#include "bench/statemachine/switch_fold.h"
#include "core/statemachine/lifecycle.h"

namespace spr::lifecycle::bench {
namespace {

constexpr int kObjects = 1000;
constexpr int kInputs = 1000000;

struct Step {
  int object;
  Input input;
};

// What each object's service looks like "in the cluster", so Observe answers make sense.
struct World {
  bool exists = false;
  bool drift = false;
};

class Workload {
 public:
  Workload() : rng_(42) {}

  std::vector<Step> generate(std::vector<State>& initial) {
    initial.resize(kObjects);
    states_.resize(kObjects);
    world_.resize(kObjects);
    std::vector<Step> steps;
    steps.reserve(kInputs + 2 * kObjects);
    for (int i = 0; i < kObjects; ++i) {
      initial[i].objectKey = "tenant-" + std::to_string(i % 37) + "/mcp-" + std::to_string(i);
      states_[i] = initial[i];
      push(steps, i, ConfigSeen{true, 60000, "cfg-1"});
      push(steps, i, ObjectSeen{1, false, false, ""});
    }
    while (static_cast<int>(steps.size()) < kInputs) {
      const int i = static_cast<int>(rng_() % kObjects);
      push(steps, i, next(i));
    }
    return steps;
  }

 private:
  bool chance(int permille) { return static_cast<int>(rng_() % 1000) < permille; }

  void push(std::vector<Step>& steps, int i, const Input& in) {
    steps.push_back(Step{i, in});
    states_[i] = fold(states_[i], in).state;
  }

  Input done(int i) {
    const State& s = states_[i];
    World& w = world_[i];
    EffectDone d;
    d.effectId = *s.inflightEffect;
    d.op = s.inflightOp;
    if (chance(40)) {
      d.outcome = Outcome::kTransientError;
      d.reason = "ApiUnavailable";
      d.message = "timeout";
      return d;
    }
    if (d.op == Op::kCreate || d.op == Op::kUpdate) w.drift = false;
    if (d.op == Op::kCreate) w.exists = true;
    if (d.op == Op::kDelete) w.exists = false;
    d.exists = w.exists;
    d.drift = w.drift;
    d.ready = !chance(100);
    return d;
  }

  Input next(int i) {
    const State& s = states_[i];
    if (s.phase == Phase::kDeleted) {
      world_[i] = World{};
      return ObjectSeen{1, false, false, ""};  // recreated
    }
    if (chance(20)) {
      world_[i].drift = true;
      return ObjectSeen{s.generation + 1, false, true, ""};  // spec change
    }
    if (chance(5) && !s.deleting) return ObjectSeen{s.generation, true, s.hasFinalizer, ""};
    if (s.inflightEffect) return done(i);
    if (s.timerToken != 0) return TimerFired{s.timerToken};
    return ObjectSeen{s.generation + 1, false, true, ""};
  }

  std::mt19937_64 rng_;
  std::vector<State> states_;
  std::vector<World> world_;
};

const std::vector<Step>& steps(std::vector<State>* initialOut = nullptr) {
  static std::vector<State> initial;
  static const std::vector<Step> all = Workload().generate(initial);
  if (initialOut) *initialOut = initial;
  return all;
}

template <FoldResult (*Fold)(const State&, const Input&)>
void runFold(benchmark::State& bm) {
  std::vector<State> initial;
  const auto& all = steps(&initial);
  size_t commands = 0;
  for (auto _ : bm) {
    std::vector<State> states = initial;
    for (const Step& step : all) {
      FoldResult r = Fold(states[step.object], step.input);
      commands += r.commands.size();
      states[step.object] = std::move(r.state);
    }
    benchmark::DoNotOptimize(states.data());
  }
  bm.SetItemsProcessed(static_cast<int64_t>(bm.iterations()) * static_cast<int64_t>(all.size()));
  bm.counters["commands/input"] = static_cast<double>(commands) / (bm.iterations() * all.size());
}

// Both folds must decide the same on this workload, or the ratio compares apples to pears.
void checkAgreement() {
  std::vector<State> a;
  const auto& all = steps(&a);
  std::vector<State> b = a;
  size_t disagreements = 0, rejected = 0;
  std::map<Phase, size_t> phases;
  for (const Step& step : all) {
    FoldResult ra = fold(a[step.object], step.input);
    FoldResult rb = switchFold(b[step.object], step.input);
    bool same =
        ra.rejected == rb.rejected && ra.commands.size() == rb.commands.size() && toJson(ra.state) == toJson(rb.state);
    for (size_t k = 0; same && k < ra.commands.size(); ++k) same = describe(ra.commands[k]) == describe(rb.commands[k]);
    if (!same) {
      if (disagreements++ == 0) {
        std::printf("first disagreement on %s\n  fold:   %s\n  switch: %s\n", describe(step.input).c_str(),
                    toJson(ra.state).c_str(), toJson(rb.state).c_str());
      }
    }
    rejected += ra.rejected;
    phases[ra.state.phase]++;
    a[step.object] = std::move(ra.state);
    b[step.object] = std::move(rb.state);
  }
  std::printf("workload: %zu inputs, %d objects, %zu rejected, %zu disagreements between the folds\n", all.size(),
              kObjects, rejected, disagreements);
  for (const auto& [phase, n] : phases) std::printf("  after-step phase %-10s %zu\n", phaseName(phase), n);
}

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) seconds_[r.benchmark_name()] = r.GetAdjustedRealTime();
  }
  void printRatio() const {
    const auto msm = seconds_.find("BM_MsmFold/real_time"), sw = seconds_.find("BM_SwitchFold/real_time");
    if (msm == seconds_.end() || sw == seconds_.end()) return;
    std::printf("\nfold (Boost.MSM) time / switch baseline time = %.2fx  (per input: %.0f ns vs %.0f ns)\n",
                msm->second / sw->second, msm->second * 1e6 / steps().size(), sw->second * 1e6 / steps().size());
  }

 private:
  std::map<std::string, double> seconds_;
};

}  // namespace
}  // namespace spr::lifecycle::bench

using spr::lifecycle::fold;
using spr::lifecycle::bench::switchFold;
BENCHMARK(spr::lifecycle::bench::runFold<fold>)->Name("BM_MsmFold")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(spr::lifecycle::bench::runFold<switchFold>)
    ->Name("BM_SwitchFold")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (std::getenv("SPR_BENCH_SKIP_CHECK") == nullptr) spr::lifecycle::bench::checkAgreement();  // for profiling
  spr::lifecycle::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.printRatio();
  benchmark::Shutdown();
  return 0;
}
