// End-to-end benchmark: N Crossplane requests from creation to Ready through a real
// `spr run` child process against the in-process local API server; reports objects/s,
// p50/p99 time to Ready (seen on a watch) and the operator's resident memory per tracked object. Beside it,
// the baseline: the same cluster requests (taken from the journal's tapes) sent to a fresh
// local API server from a tight client loop with as many threads as spr has workers.
// Usage: e2e_bench [N [QPS]] (N default 1000, SPR_BENCH_N overrides; QPS is spr run's
// --rate-limit-qps, default spr's own 100 provider effects per second).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "adapters/k8s/watch.h"
#include "bench/runtime/spr_child.h"
#include "cli/scenario.h"
#include "common/log.h"
#include "core/journal/journal.h"
#include "providers/crossplane/crossplane.h"
#include "sim/server.h"

extern char** environ;

namespace spr::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr int kWorkers = 8;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

long rssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

pid_t spawnRun(const std::string& kubeconfig, const std::string& journal, const std::string& log, int qps) {
  std::vector<std::string> extra = {"--workers", std::to_string(kWorkers)};
  if (qps > 0)
    extra.insert(extra.end(), {"--rate-limit-qps", std::to_string(qps), "--rate-limit-burst", std::to_string(2 * qps)});
  return bench::spawnSprRun(SPR_BINARY_PATH, kubeconfig, journal, log, extra);
}

struct World {
  std::unique_ptr<sim::SimServer> sim;
  cli::Connection onboarding, platform;
};

Result<World> startWorld() {
  World w;
  sim::SimOptions options;
  options.deploymentReadyDelayMs = 0;
  options.watchWindow = 100000;  // events kept per resource: bounds the server's memory; older → 410
  auto server = sim::SimServer::start(options);
  if (!server) return server.status();
  w.sim = std::move(*server);
  for (auto [name, conn] : {std::pair{"onboarding", &w.onboarding}, std::pair{"platform", &w.platform}}) {
    auto cfg = k8s::parseKubeconfig(w.sim->kubeconfigYaml(), name, "bench");
    if (!cfg) return cfg.status();
    auto c = cli::connect(*cfg);
    if (!c) return c.status();
    *conn = std::move(*c);
  }
  return w;
}

// openMCP's ProviderConfig shape; its discovery ConfigMaps are created with it.
json providerConfig(const providers::ProviderKinds&) { return providers::crossplane::exampleProviderConfig("10m"); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// The baseline: every request of every tape, sent to a fresh server by kWorkers threads
// (requests of one object stay in order on one thread; "mcp" goes to a cluster per object).
double rawRequestsPerSecond(const std::map<std::string, std::vector<journal::TapeEntry>>& tapes, size_t* total) {
  auto world = startWorld();
  if (!world) return 0;
  std::vector<std::pair<std::string, const std::vector<journal::TapeEntry>*>> objects;
  for (const auto& [key, tape] : tapes) objects.emplace_back(key, &tape);
  // Connection settings per cluster, made once (parsing a kubeconfig that lists every
  // cluster, once per object, would make the baseline measure YAML parsing).
  std::map<std::string, k8s::ClusterConfig> configs;
  std::string yaml = world->sim->kubeconfigYaml();
  for (const char* shared : {"onboarding", "platform"}) {
    auto cfg = k8s::parseKubeconfig(yaml, shared, "bench");
    if (!cfg) return 0;
    configs[shared] = *cfg;
  }
  for (size_t i = 0; i < objects.size(); ++i) {
    std::string name = "bench-" + std::to_string(i);
    k8s::ClusterConfig cfg = configs["onboarding"];
    cfg.name = name;
    cfg.server = cfg.server.substr(0, cfg.server.rfind("/clusters/")) + "/clusters/" + name;
    cfg.bearerToken = world->sim->addCluster(name);
    configs[name] = cfg;
  }
  std::atomic<size_t> sent{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kWorkers; ++t) {
    threads.emplace_back([&, t] {
      std::map<std::string, cli::Connection> conns;
      for (size_t i = t; i < objects.size(); i += kWorkers) {
        for (const auto& e : *objects[i].second) {
          std::string cluster = e.cluster == "mcp" ? "bench-" + std::to_string(i) : e.cluster;
          if (!configs.count(cluster)) continue;
          if (!conns.count(cluster)) {
            auto c = cli::connect(configs.at(cluster));
            if (!c) continue;
            conns[cluster] = std::move(*c);
          }
          (void)conns[cluster].transport->roundTrip({e.method, e.path, e.requestBody, ""});
          ++sent;
        }
        conns.erase("bench-" + std::to_string(i));
      }
    });
  }
  for (auto& t : threads) t.join();
  *total = sent;
  double secs = secondsSince(start);
  world->sim->stop();
  return secs > 0 ? static_cast<double>(sent) / secs : 0;
}

int run(int n, int qps) {
  auto world = startWorld();
  if (!world) {
    std::fprintf(stderr, "e2e_bench: %s\n", world.status().toString().c_str());
    return 1;
  }
  std::string dir = (std::filesystem::temp_directory_path() / ("spr-e2e-bench-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  std::string kubeconfig = dir + "/kubeconfig";
  std::ofstream(kubeconfig) << world->sim->kubeconfigYaml();
  auto provider = providers::makeProvider("crossplane");
  auto kinds = provider->kinds();
  Status setup = cli::installCrds(*world->onboarding.client, provider->apiCrds(), std::chrono::seconds(30));
  if (setup.isOk()) setup = cli::installCrds(*world->platform.client, provider->configCrds(), std::chrono::seconds(30));
  for (const auto& cm : providers::crossplane::exampleDiscovery())
    if (setup.isOk()) setup = cli::createIfMissing(*world->platform.client, providers::kit::kConfigMaps, "default", cm);
  if (setup.isOk()) setup = cli::createIfMissing(*world->platform.client, kinds.config, "", providerConfig(kinds));
  if (!setup.isOk()) {
    std::fprintf(stderr, "e2e_bench: setup: %s\n", setup.toString().c_str());
    return 1;
  }
  pid_t pid = spawnRun(kubeconfig, dir + "/journal", dir + "/run.log", qps);
  if (qps > 0)
    std::printf("e2e: spr run --rate-limit-qps %d (provider effects per second)\n", qps);
  else
    std::printf("e2e: spr run with its default rate limit (--rate-limit-qps 100 provider effects per second)\n");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  long rssBase = rssKb(pid);
  // Time to Ready from a watch on the API kind (a list every few hundred ms would cost the
  // server more than the operator does at 10,000 objects).
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Clock::time_point> created(n);  // epoch = not created yet
  std::vector<double> toReady(n, -1);
  int ready = 0;
  auto onboardingConfig = k8s::parseKubeconfig(world->sim->kubeconfigYaml(), "onboarding", "bench");
  if (!onboardingConfig) {
    std::fprintf(stderr, "e2e_bench: %s\n", onboardingConfig.status().toString().c_str());
    return 1;
  }
  k8s::Watcher watcher(k8s::WatchOptions{});
  watcher.add(*onboardingConfig, kinds.api, "", "", [&](const k8s::WatchEvent& e) {
    if ((e.type != "ADDED" && e.type != "MODIFIED") || !cli::isReady(e.object)) return;
    std::string name = e.object["metadata"].value("name", "");
    if (name.rfind("mcp-", 0) != 0) return;
    int i = std::atoi(name.c_str() + 4);
    std::lock_guard<std::mutex> lock(mu);
    if (i < 0 || i >= n || created[i] == Clock::time_point{} || toReady[i] >= 0) return;
    toReady[i] = std::chrono::duration<double, std::milli>(Clock::now() - created[i]).count();
    ++ready;
    cv.notify_all();
  });
  watcher.start();
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    std::string ns = "project-b" + std::to_string(i % 100) + "--ws", name = "mcp-" + std::to_string(i);
    Status s = cli::createMcp(*world->onboarding.client, *world->platform.client, ns, name);
    json req = {{"apiVersion", kinds.api.apiVersion()},
                {"kind", kinds.apiKind},
                {"metadata", {{"name", name}, {"namespace", ns}}},
                {"spec", {{"version", "v2.0.8"}}}};
    {
      std::lock_guard<std::mutex> lock(mu);
      created[i] = Clock::now();
    }
    if (s.isOk()) s = cli::createIfMissing(*world->onboarding.client, kinds.api, ns, req);
    if (!s.isOk())
      std::fprintf(stderr, "e2e_bench: creating %s/%s: %s\n", ns.c_str(), name.c_str(), s.toString().c_str());
  }
  double createSecs = secondsSince(start);
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_until(lock, Clock::now() + std::chrono::seconds(60 + n / 5), [&] { return ready == n; });
  }
  watcher.stop();
  double totalSecs = secondsSince(start);
  long rssAll = rssKb(pid);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  std::vector<double> times;
  for (double t : toReady)
    if (t >= 0) times.push_back(t);

  journal::Options ro;
  ro.createIfMissing = false;
  auto j = journal::Journal::open(dir + "/journal", ro);
  std::map<std::string, std::vector<journal::TapeEntry>> tapes;
  size_t effectRequests = 0;
  if (j)
    (void)(*j)->scan(1, [&](const journal::Record& r) {
      if (auto* c = std::get_if<journal::EffectCompleted>(&r.payload)) {
        auto& t = tapes[r.object.key()];
        t.insert(t.end(), c->tape.begin(), c->tape.end());
        effectRequests += c->tape.size();
      }
      return true;
    });
  size_t rawSent = 0;
  double rawRate = rawRequestsPerSecond(tapes, &rawSent);
  double e2eRate = totalSecs > 0 ? static_cast<double>(effectRequests) / totalSecs : 0;
  std::printf("e2e: %d/%d requests Ready in %.1fs (created in %.1fs): %.0f objects/s\n", ready, n, totalSecs,
              createSecs, ready / totalSecs);
  std::printf("e2e: time to Ready p50 %.0f ms, p99 %.0f ms\n", percentile(times, 0.5), percentile(times, 0.99));
  std::printf("e2e: spr run RSS %ld KiB idle, %ld KiB with %d objects: %.1f KiB per tracked object\n", rssBase, rssAll,
              n, static_cast<double>(rssAll - rssBase) / n);
  std::printf("e2e: effects made %zu cluster requests (%.1f per object): %.0f req/s end to end\n", effectRequests,
              static_cast<double>(effectRequests) / std::max(n, 1), e2eRate);
  std::printf("raw: the same %zu requests from %d client threads against a fresh local API server: %.0f req/s\n",
              rawSent, kWorkers, rawRate);
  std::printf("ratio: spr end-to-end request rate / raw server capacity = %.2f\n", rawRate > 0 ? e2eRate / rawRate : 0);
  std::filesystem::remove_all(dir);
  world->sim->stop();
  return ready == n ? 0 : 1;
}

}  // namespace
}  // namespace spr::bench

int main(int argc, char** argv) {
  int n = 1000, qps = 0;
  if (const char* env = std::getenv("SPR_BENCH_N")) n = std::atoi(env);
  if (argc > 1) n = std::atoi(argv[1]);
  if (argc > 2) qps = std::atoi(argv[2]);
  if (n <= 0 || qps < 0 || argc > 3) {
    std::fprintf(stderr,
                 "usage: e2e_bench [N [QPS]]   N > 0 requests (default 1000); QPS = spr run --rate-limit-qps "
                 "(default: spr's own, 100)\n");
    return 2;
  }
  spr::log::configure(spr::log::Level::kWarn, true);  // the in-process server logs every ClusterRequest at info
  return spr::bench::run(n, qps);
}
