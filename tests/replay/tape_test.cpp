// Provider operations re-run against their tapes, on journals recorded for real: the
// Operator with the crossplane provider against the in-process local API server (with and
// without injected API faults), and `spr demo` run as a process. A test-only provider that
// differs in one decision (replicas 2 instead of 1) must be caught at the exact record.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>

#include "core/journal/journal.h"
#include "replay/replay_run.h"
#include "replay/tape_checker.h"
#include "runtime/operator.h"
#include "tests/runtime/e2e_env.h"
#include "tests/support/paths.h"
#include "tests/support/run_command.h"

namespace spr::replay {
namespace {

using nlohmann::json;
using runtime::testing::E2E;
using runtime::testing::eventually;
using runtime::testing::spawnRun;

std::string testName() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

// Records a journal: config, `n` requests to Ready, a spec change on the first, deletion of the last.
void recordJournal(E2E& env, int n, const sim::FaultOptions& faults = {}) {
  env.createConfig();
  env.simServer->setFaults(faults);
  auto op = runtime::testing::startOperator(env);
  ASSERT_TRUE(op);
  auto ns = [](int i) { return "tape-" + std::to_string(i) + "--ws"; };
  for (int i = 0; i < n; ++i) env.createRequest(ns(i), "mcp");
  for (int i = 0; i < n; ++i) ASSERT_TRUE(eventually([&] { return env.isReady(ns(i), "mcp"); }, 90)) << i;
  env.simServer->setFaults(sim::FaultOptions{});
  json obj = env.get(ns(0), "mcp");
  obj["spec"]["version"] = "1.20.5";
  ASSERT_TRUE(env.onboarding->update(env.api, ns(0), obj).isOk());
  ASSERT_TRUE(eventually(
      [&] { return env.get(ns(0), "mcp")["metadata"].value("generation", 0) == 2 && env.isReady(ns(0), "mcp"); }));
  ASSERT_TRUE(env.onboarding->remove(env.api, ns(n - 1), "mcp").isOk());
  ASSERT_TRUE(eventually([&] { return env.get(ns(n - 1), "mcp").is_null(); }));
  op->requestStop();
  ASSERT_TRUE(op->wait().isOk());
}

struct Outcome {
  std::optional<Divergence> divergence;
  uint64_t effects = 0, requests = 0, records = 0;
  double seconds = 0;
};

Outcome replayWith(const std::string& journalDir, std::unique_ptr<providers::Provider> provider) {
  journal::Options ro;
  ro.readOnly = true;
  ro.createIfMissing = false;
  auto j = journal::Journal::open(journalDir, ro);
  EXPECT_TRUE(j.isOk()) << j.status().toString();
  TapeEffectChecker checker(std::move(provider));
  ReplayOptions options;
  options.effects = &checker;
  Replayer replayer(options);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(replayJournal(**j, replayer, options).isOk());
  Outcome out;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.divergence = replayer.divergence();
  out.effects = replayer.effectsChecked();
  out.requests = replayer.tapeRequests();
  out.records = replayer.records();
  return out;
}

std::map<std::string, int> completedByOp(const std::string& journalDir, uint64_t* firstCreateSeq) {
  std::map<std::string, int> counts;
  journal::Options ro;
  ro.readOnly = true;
  auto j = journal::Journal::open(journalDir, ro);
  if (!j.isOk()) return counts;  // e.g. not created yet by a `spr run` just started
  EXPECT_TRUE((*j)->scan((*j)->firstSeq(),
                         [&](const journal::Record& r) {
                           if (const auto* c = std::get_if<journal::EffectCompleted>(&r.payload)) {
                             ++counts[c->command];
                             if (c->command == "Create" && firstCreateSeq && *firstCreateSeq == 0)
                               *firstCreateSeq = r.seq;
                           }
                           return true;
                         })
                  .isOk());
  return counts;
}

TEST(TapeReplay, OperatorJournalReplaysWithNoDivergenceAndEveryEffectReRun) {
  E2E env(testName());
  recordJournal(env, 3);
  uint64_t firstCreate = 0;
  auto counts = completedByOp(env.dir + "/journal", &firstCreate);
  Outcome out = replayWith(env.dir + "/journal", providers::makeProvider("crossplane"));
  ASSERT_FALSE(out.divergence) << out.divergence->what << " at seq " << out.divergence->seq
                               << "\n recorded: " << out.divergence->expected << "\n produced: " << out.divergence->got;
  int total = 0;
  for (const auto& [op, n] : counts) total += n;
  EXPECT_EQ(out.effects, static_cast<uint64_t>(total));  // no restart markers in this journal
  EXPECT_GE(counts["Create"], 3);
  EXPECT_GE(counts["Update"], 1);
  EXPECT_GE(counts["Delete"], 1);
  EXPECT_GE(counts["WriteStatus"], 3);
  EXPECT_GT(out.requests, out.effects);
  std::printf("[tape] %llu effects, %llu tape requests, %llu records re-run in %.3f s\n",
              static_cast<unsigned long long>(out.effects), static_cast<unsigned long long>(out.requests),
              static_cast<unsigned long long>(out.records), out.seconds);
}

TEST(TapeReplay, JournalRecordedUnderApiFaultsReplaysWithNoDivergence) {
  E2E env(testName());
  sim::FaultOptions faults;
  faults.errorRate = 0.1;
  recordJournal(env, 3, faults);
  Outcome out = replayWith(env.dir + "/journal", providers::makeProvider("crossplane"));
  ASSERT_FALSE(out.divergence) << out.divergence->what << " at seq " << out.divergence->seq
                               << "\n recorded: " << out.divergence->expected << "\n produced: " << out.divergence->got;
  EXPECT_GT(out.effects, 10u);
  std::printf("[tape] faults: %llu effects, %llu tape requests re-run in %.3f s\n",
              static_cast<unsigned long long>(out.effects), static_cast<unsigned long long>(out.requests), out.seconds);
}

TEST(TapeReplay, JournalOfKillDashNineAndRestartReplaysWithNoDivergence) {
  E2E env(testName());
  env.createConfig();
  const int n = 10;
  auto ns = [](int i) { return "crash-" + std::to_string(i) + "--ws"; };
  for (int i = 0; i < n; ++i) env.createRequest(ns(i), "mcp");
  const std::string journalDir = env.dir + "/journal";
  pid_t pid = spawnRun(env, journalDir, journalDir + ".log");
  ASSERT_GT(pid, 0);
  struct Reaper {  // never leave a `spr run` behind when an assertion ends the test early
    pid_t* pid;
    ~Reaper() {
      if (*pid > 0 && ::kill(*pid, SIGKILL) == 0) ::waitpid(*pid, nullptr, 0);
    }
  } reaper{&pid};
  ASSERT_TRUE(eventually(
      [&] {
        uint64_t first = 0;
        return std::filesystem::exists(journalDir) && completedByOp(journalDir, &first)["Create"] >= 2;
      },
      60));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid = spawnRun(env, journalDir, journalDir + ".log");
  for (int i = 0; i < n; ++i) EXPECT_TRUE(eventually([&] { return env.isReady(ns(i), "mcp"); }, 90)) << i;
  ::kill(pid, SIGTERM);
  ::waitpid(pid, &status, 0);
  pid = 0;
  Outcome out = replayWith(journalDir, providers::makeProvider("crossplane"));
  ASSERT_FALSE(out.divergence) << out.divergence->what << " at seq " << out.divergence->seq
                               << "\n recorded: " << out.divergence->expected << "\n produced: " << out.divergence->got;
  EXPECT_GE(out.effects, static_cast<uint64_t>(4 * n));
  std::printf("[tape] kill -9: %llu effects, %llu tape requests re-run in %.3f s\n",
              static_cast<unsigned long long>(out.effects), static_cast<unsigned long long>(out.requests), out.seconds);
}

// Test-only provider: crossplane in every respect but one decision — the Flux
// OCIRepository it creates on the platform cluster polls every 5m instead of 10m. It wraps
// the real provider and, in create(), hands it a platform client whose requests carry that
// one change.
class ReplicasTransport : public k8s::Transport {
 public:
  explicit ReplicasTransport(k8s::Transport& inner) : inner_(inner) {}
  Result<k8s::HttpResponse> roundTrip(const k8s::HttpRequest& request) override {
    k8s::HttpRequest changed = request;
    if (request.method == "POST" && request.path.find("/ocirepositories") != std::string::npos) {
      json body = json::parse(request.body, nullptr, false);
      if (body.is_object() && body.contains("spec") && body["spec"].contains("interval")) {
        body["spec"]["interval"] = "5m";
        changed.body = body.dump();
      }
    }
    return inner_.roundTrip(changed);
  }
  std::string clusterName() const override { return inner_.clusterName(); }

 private:
  k8s::Transport& inner_;
};

class ReplicasScope : public providers::ReconcileScope {
 public:
  explicit ReplicasScope(providers::ReconcileScope& inner)
      : inner_(inner), transport_(inner.platform().transport()), client_(transport_) {}
  const json& providerConfig() const override { return inner_.providerConfig(); }
  k8s::Client& onboarding() override { return inner_.onboarding(); }
  k8s::Client& platform() override { return client_; }
  Result<k8s::Client*> workload() override { return inner_.workload(); }
  Result<k8s::Client*> mcp() override { return inner_.mcp(); }
  Result<std::optional<providers::CaBundle>> caBundle() override { return inner_.caBundle(); }

 private:
  providers::ReconcileScope& inner_;
  ReplicasTransport transport_;
  k8s::Client client_;
};

class ReplicasTwoProvider : public providers::Provider {
 public:
  ReplicasTwoProvider() : inner_(providers::makeProvider("crossplane")) {}
  std::string name() const override { return inner_->name(); }
  providers::ProviderKinds kinds() const override { return inner_->kinds(); }
  std::vector<json> apiCrds() const override { return inner_->apiCrds(); }
  std::vector<json> configCrds() const override { return inner_->configCrds(); }
  providers::ObserveResult observe(const json& o, providers::ReconcileScope& s) override {
    return inner_->observe(o, s);
  }
  providers::OpResult create(const json& o, providers::ReconcileScope& s) override {
    ReplicasScope changed(s);
    return inner_->create(o, changed);
  }
  providers::OpResult update(const json& o, providers::ReconcileScope& s) override { return inner_->update(o, s); }
  providers::OpResult remove(const json& o, providers::ReconcileScope& s) override { return inner_->remove(o, s); }
  json mcpAccessRules() const override { return inner_->mcpAccessRules(); }

 private:
  std::unique_ptr<providers::Provider> inner_;
};

TEST(TapeReplay, ProviderWithOneDecisionChangedDivergesAtTheFirstCreate) {
  E2E env(testName());
  recordJournal(env, 2);
  uint64_t firstCreate = 0;
  completedByOp(env.dir + "/journal", &firstCreate);
  ASSERT_NE(firstCreate, 0u);
  Outcome out = replayWith(env.dir + "/journal", std::make_unique<ReplicasTwoProvider>());
  ASSERT_TRUE(out.divergence);
  const Divergence& d = *out.divergence;
  EXPECT_EQ(d.seq, firstCreate) << d.expected << "\n" << d.got;
  EXPECT_EQ(d.what, "cluster request");
  EXPECT_EQ(d.field, "request body /spec/interval");
  EXPECT_NE(d.expected.find("EffectCompleted seq " + std::to_string(firstCreate) + " (Create #"), std::string::npos)
      << d.expected;
  EXPECT_NE(d.expected.find("platform POST /apis/source.toolkit.fluxcd.io/v1/namespaces/"), std::string::npos)
      << d.expected;
  EXPECT_NE(d.expected.find("\"interval\":\"10m\""), std::string::npos) << d.expected;
  EXPECT_NE(d.got.find("\"interval\":\"5m\""), std::string::npos) << d.got;
  EXPECT_NE(d.got.find("body differs at /spec/interval: recorded \"10m\", produced \"5m\""), std::string::npos)
      << d.got;
  // Everything before the first Create was re-run and matched.
  EXPECT_GT(out.effects, 1u);
}

using spr::testing::runCommand;

TEST(TapeReplay, SprDemoJournalReplaysThroughTheCliWithTapes) {
  const std::string dir = ::testing::TempDir() + "spr-tape-demo-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  int status = -1;
  std::string demo = runCommand(spr::testing::sprBinary() + " demo --journal " + dir, &status);
  ASSERT_EQ(status, 0) << demo;
  std::string replayed = runCommand(spr::testing::sprBinary() + " replay --journal " + dir, &status);
  EXPECT_EQ(status, 0) << replayed;
  EXPECT_NE(replayed.find("no divergence"), std::string::npos) << replayed;
  EXPECT_NE(replayed.find("effects re-run against their tapes"), std::string::npos) << replayed;
  EXPECT_EQ(replayed.find("effects not re-run"), std::string::npos) << replayed;
  std::printf("[tape] %s", replayed.c_str());
  std::string asJson = runCommand(spr::testing::sprBinary() + " replay --json --journal " + dir, &status);
  json doc = json::parse(asJson.substr(0, asJson.find('\n')), nullptr, false);
  ASSERT_TRUE(doc.is_object()) << asJson;
  EXPECT_GT(doc.value("effectsRerun", 0), 5) << asJson;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace spr::replay
