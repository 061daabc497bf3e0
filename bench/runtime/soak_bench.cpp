// Soak benchmark: N Crossplane requests Ready through a real `spr run` child against the
// in-process local API server, then T minutes of unchanged polls at interval P (the
// ProviderConfig's pollInterval), optionally with one hand-made drift per minute. Reports
// what the journal costs per request per poll: bytes at rest (the journal copied at the
// start and at the end of the window, each fully compacted), bytes as the disk sees them
// live (`du -sb`, WAL included; also minute by minute), WAL size, RSS, CPU and cluster
// requests per poll; beside them the floor: the raw response bodies and their zstd size.
// Usage: soak_bench [--requests N] [--poll SECONDS] [--minutes T] [--warmup S] [--drift]
// [--spr PATH] (PATH: another spr build, e.g. one from before a change, measured the same way)
// [--spr-arg ARG]... (passed to `spr run`, e.g. small --journal-retention-size and
// --journal-archive-max-size to watch retention bound the volume: journal plus archives are
// sampled every 5 s and their peak reported).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "adapters/k8s/openmcp.h"
#include "bench/runtime/spr_child.h"
#include "cli/scenario.h"
#include "common/log.h"
#include "core/journal/journal.h"
#include "providers/crossplane/crossplane.h"
#include "sim/server.h"

extern char** environ;

namespace spr::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Flags {
  int requests = 20;
  int pollSeconds = 10;
  // Before the window opens: every request polls once, and the journal's first periodic
  // flush (a minute after its first append) empties the WAL of the start-up's records.
  int warmupSeconds = 75;
  double minutes = 3;
  bool drift = false;
  std::string spr = SPR_BINARY_PATH;
  std::vector<std::string> sprArgs;  // --spr-arg, appended to `spr run`'s flags
};

// What the child and its journal look like at one moment.
struct Sample {
  uint64_t dirBytes = 0, walBytes = 0, archiveBytes = 0;  // archiveBytes: <journal>-archive
  long rssKb = 0, rssAnonKb = 0;  // RssAnon: the heap and anonymous maps, without file-backed pages
  double cpuSeconds = 0;
};

uint64_t filesBytes(const std::string& dir, const char* suffix) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    bool match = suffix == nullptr || (name.size() > std::strlen(suffix) &&
                                       name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix) == 0);
    std::error_code fileEc;
    if (match && it->is_regular_file(fileEc)) total += it->file_size(fileEc);
  }
  return total;
}

// What `du -sb DIR` prints (apparent sizes of the directory and every file in it), as a
// user checking the journal's growth would measure it; 0 if du fails.
uint64_t duBytes(const std::string& dir) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(("du -sb '" + dir + "' 2>/dev/null").c_str(), "r"), pclose);
  unsigned long long bytes = 0;
  if (!p || std::fscanf(p.get(), "%llu", &bytes) != 1) return 0;
  return bytes;
}

Sample sample(pid_t pid, const std::string& journal) {
  Sample s;
  s.dirBytes = duBytes(journal);
  s.walBytes = filesBytes(journal, ".log");
  if (fs::exists(journal + "-archive")) s.archiveBytes = duBytes(journal + "-archive");
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      s.rssKb = std::stol(line.substr(6));
    else if (line.rfind("RssAnon:", 0) == 0)
      s.rssAnonKb = std::stol(line.substr(8));
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(all.substr(all.rfind(')') + 2));  // after "pid (comm) "
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
  if (f.size() > 12) s.cpuSeconds = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return s;
}

// Bytes of SST files of a copy of `journal` after a full compaction (the journal at rest).
Result<uint64_t> compactedCopyBytes(const std::string& journal, const std::string& copy) {
  std::error_code ec;
  fs::remove_all(copy, ec);
  fs::copy(journal, copy, ec);
  if (ec) return Result<uint64_t>(Code::kIoError, "copying " + journal + ": " + ec.message());
  {
    journal::Options o;
    o.createIfMissing = false;
    auto j = journal::Journal::open(copy, o);
    if (!j) return j.status();
    SPR_RETURN_IF_ERROR((*j)->compactStorage());
  }
  return filesBytes(copy, ".sst");
}

pid_t spawnRun(const Flags& flags, const std::string& kubeconfig, const std::string& journal, const std::string& log) {
  return bench::spawnSprRun(flags.spr, kubeconfig, journal, log, flags.sprArgs);
}

struct World {
  std::unique_ptr<sim::SimServer> sim;
  cli::Connection onboarding, platform;
  std::unique_ptr<providers::Provider> provider;
};

Status setUp(World& w, int pollSeconds) {
  sim::SimOptions options;
  options.deploymentReadyDelayMs = 0;
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
  w.provider = providers::makeProvider("crossplane");
  auto kinds = w.provider->kinds();
  SPR_RETURN_IF_ERROR(cli::installCrds(*w.onboarding.client, w.provider->apiCrds(), std::chrono::seconds(30)));
  SPR_RETURN_IF_ERROR(cli::installCrds(*w.platform.client, w.provider->configCrds(), std::chrono::seconds(30)));
  for (const auto& cm : providers::crossplane::exampleDiscovery())
    SPR_RETURN_IF_ERROR(cli::createIfMissing(*w.platform.client, providers::kit::kConfigMaps, "default", cm));
  json config = providers::crossplane::exampleProviderConfig(std::to_string(pollSeconds) + "s");
  return cli::createIfMissing(*w.platform.client, kinds.config, "", config);
}

std::string nsOf(int i) { return "project-s" + std::to_string(i % 10) + "--ws"; }
std::string nameOf(int i) { return "mcp-" + std::to_string(i); }

Status createRequests(World& w, int n) {
  auto kinds = w.provider->kinds();
  for (int i = 0; i < n; ++i) {
    SPR_RETURN_IF_ERROR(cli::createMcp(*w.onboarding.client, *w.platform.client, nsOf(i), nameOf(i)));
    json req = {{"apiVersion", kinds.api.apiVersion()},
                {"kind", kinds.apiKind},
                {"metadata", {{"name", nameOf(i)}, {"namespace", nsOf(i)}}},
                {"spec", {{"version", "v2.0.8"}}}};
    SPR_RETURN_IF_ERROR(cli::createIfMissing(*w.onboarding.client, kinds.api, nsOf(i), req));
  }
  return Status::ok();
}

bool allReady(World& w, int n, std::chrono::seconds timeout) {
  auto api = w.provider->kinds().api;
  return cli::waitFor(
      [&] {
        auto list = w.onboarding.client->list(api, "");
        if (!list) return false;
        int ready = 0;
        for (const auto& item : (*list)["items"]) ready += cli::isReady(item) ? 1 : 0;
        return ready == n;
      },
      timeout);
}

// The hand-made drift: request i's HelmRelease on the platform cluster (what Flux
// installs Crossplane from, and what the crossplane provider observes) gets a value the
// request does not ask for, as an operator editing it by hand would do.
Status driftOne(World& w, int i) {
  const std::string ns = k8s::mcpNamespace(nsOf(i), nameOf(i));
  auto patched = w.platform.client->mergePatch(providers::crossplane::kHelmReleases, ns, providers::crossplane::kName,
                                               {{"spec", {{"values", {{"replicas", 3}}}}}});
  return patched ? Status::ok() : patched.status();
}

// Waits out the window, making one drift per minute when asked and sampling the child
// once a minute (into `perMinute`, from +1 min); every 5 s the journal plus its archives
// are measured, their largest total kept in `volumePeak`. Returns the drifts made.
int soak(World& w, const Flags& flags, pid_t pid, const std::string& journal, std::vector<Sample>* perMinute,
         uint64_t* volumePeak) {
  std::mutex mu;
  std::condition_variable never;
  const auto start = Clock::now();
  const auto end = start + std::chrono::milliseconds(static_cast<int64_t>(flags.minutes * 60000));
  int drifts = 0;
  auto nextMinute = start + std::chrono::minutes(1);
  std::unique_lock<std::mutex> lock(mu);
  for (auto next = start + std::chrono::seconds(5); Clock::now() < end; next += std::chrono::seconds(5)) {
    never.wait_until(lock, std::min(next, end));  // pacing, not synchronisation
    if (Clock::now() >= end) break;
    Sample s = sample(pid, journal);
    *volumePeak = std::max(*volumePeak, s.dirBytes + s.archiveBytes);
    if (Clock::now() < nextMinute) continue;
    nextMinute += std::chrono::minutes(1);
    perMinute->push_back(s);
    if (!flags.drift) continue;
    Status d = driftOne(w, drifts % flags.requests);
    if (!d.isOk()) std::fprintf(stderr, "soak_bench: drift: %s\n", d.toString().c_str());
    ++drifts;
  }
  return drifts;
}

// What the window's records hold: polls, records, cluster requests and response bodies.
struct Window {
  uint64_t records = 0, polls = 0, effects = 0, clusterRequests = 0, bodyBytes = 0;
  std::map<std::string, uint64_t> kinds;
  std::string bodies;  // every response body of the window, concatenated
};

Result<Window> readWindow(const std::string& journal, uint64_t afterSeq) {
  auto j = journal::Journal::openForReading(journal);
  if (!j) return j.status();
  Window w;
  Status s = (*j)->scan(afterSeq + 1, [&](const journal::Record& r) {
    ++w.records;
    ++w.kinds[journal::payloadKind(r.payload)];
    if (const auto* c = std::get_if<journal::EffectCompleted>(&r.payload)) {
      ++w.effects;
      if (c->command == "Observe") ++w.polls;
      w.clusterRequests += c->tape.size();
      for (const auto& t : c->tape) w.bodies += t.responseBody;
    }
    return true;
  });
  if (!s.isOk()) return s;
  w.bodyBytes = w.bodies.size();
  return w;
}

uint64_t lastSeq(const std::string& journal) {
  auto j = journal::Journal::openForReading(journal);
  return j ? (*j)->nextSeq() - 1 : 0;
}

size_t zstdSize(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  return ZSTD_isError(n) ? 0 : n;
}

void report(const Flags& f, const Window& w, const Sample& a, const Sample& b, uint64_t restA, uint64_t restB,
            double secs, int drifts) {
  const double polls = static_cast<double>(std::max<uint64_t>(w.polls, 1));
  const double atRest = static_cast<double>(restB) - static_cast<double>(restA);
  const double live = static_cast<double>(b.dirBytes) - static_cast<double>(a.dirBytes);
  std::printf("soak: %d requests, poll %ds, %.1f min, %d drifts, spr %s\n", f.requests, f.pollSeconds, secs / 60,
              drifts, f.spr.c_str());
  std::printf("window: %llu records (", static_cast<unsigned long long>(w.records));
  for (const auto& [k, v] : w.kinds) std::printf(" %s %llu", k.c_str(), static_cast<unsigned long long>(v));
  std::printf(" ), %llu Observe polls (%.2f per request), %llu effects\n", static_cast<unsigned long long>(w.polls),
              polls / f.requests, static_cast<unsigned long long>(w.effects));
  std::printf("at rest (compacted SST): %llu -> %llu bytes: %.0f bytes per request per poll, %.2f MB per hour\n",
              static_cast<unsigned long long>(restA), static_cast<unsigned long long>(restB), atRest / polls,
              atRest / secs * 3600 / 1e6);
  std::printf(
      "live (du -sb of the directory, WAL included): %+.0f bytes: %.0f bytes per request per poll, %.2f MB per hour\n",
      live, live / polls, live / secs * 3600 / 1e6);
  std::printf("WAL: %llu bytes at start, %llu at end\n", static_cast<unsigned long long>(a.walBytes),
              static_cast<unsigned long long>(b.walBytes));
  std::printf(
      "RSS: %ld KiB at start, %ld KiB at end (%+.1f%%); anonymous %ld -> %ld KiB (%+.1f%%)\n", a.rssKb, b.rssKb,
      a.rssKb ? 100.0 * static_cast<double>(b.rssKb - a.rssKb) / static_cast<double>(a.rssKb) : 0, a.rssAnonKb,
      b.rssAnonKb,
      a.rssAnonKb ? 100.0 * static_cast<double>(b.rssAnonKb - a.rssAnonKb) / static_cast<double>(a.rssAnonKb) : 0);
  std::printf("CPU: %.2f ms per poll (%.2f s in the window)\n", (b.cpuSeconds - a.cpuSeconds) * 1000 / polls,
              b.cpuSeconds - a.cpuSeconds);
  std::printf("cluster requests: %.1f per poll (all effects: %llu)\n", static_cast<double>(w.clusterRequests) / polls,
              static_cast<unsigned long long>(w.clusterRequests));
  const size_t z = zstdSize(w.bodies);
  std::printf("floor: response bodies %.0f bytes per poll raw, %.0f zstd-3 (%.1fx)\n",
              static_cast<double>(w.bodyBytes) / polls, static_cast<double>(z) / polls,
              z ? static_cast<double>(w.bodyBytes) / static_cast<double>(z) : 0);
  std::printf("ratio: journal bytes at rest per poll / zstd floor per poll = %.2f\n",
              z ? atRest / static_cast<double>(z) : 0);
}

// Minute by minute: the live growth since the window opened (du -sb, per request per
// poll, polls counted as the window's Observe rate), the WAL and the RSS, so a flush,
// a warm-up or a leak shows where it happens.
void reportPerMinute(const Sample& a, const std::vector<Sample>& perMinute, const Window& w, double secs) {
  const double pollsPerSecond = static_cast<double>(w.polls) / secs;
  std::printf("minute  live-growth(B)  B/req/poll  WAL(B)  RSS(KiB)  anon(KiB)  archives(B)\n");
  for (size_t i = 0; i < perMinute.size(); ++i) {
    const Sample& s = perMinute[i];
    const double live = static_cast<double>(s.dirBytes) - static_cast<double>(a.dirBytes);
    const double polls = std::max(1.0, pollsPerSecond * 60.0 * static_cast<double>(i + 1));
    std::printf("%6zu  %+14.0f  %10.0f  %6llu  %8ld  %9ld  %11llu\n", i + 1, live, live / polls,
                static_cast<unsigned long long>(s.walBytes), s.rssKb, s.rssAnonKb,
                static_cast<unsigned long long>(s.archiveBytes));
  }
}

int stopChild(pid_t pid) {
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

int run(const Flags& flags) {
  World w;
  Status s = setUp(w, flags.pollSeconds);
  const std::string dir = (fs::temp_directory_path() / ("spr-soak-bench-" + std::to_string(getpid()))).string();
  fs::create_directories(dir);
  const std::string kubeconfig = dir + "/kubeconfig", journal = dir + "/journal";
  std::ofstream(kubeconfig) << (w.sim ? w.sim->kubeconfigYaml() : "");
  if (s.isOk()) s = createRequests(w, flags.requests);
  pid_t pid = s.isOk() ? spawnRun(flags, kubeconfig, journal, dir + "/run.log") : -1;
  if (s.isOk() && pid < 0) s = Status(Code::kInternal, "cannot start " + flags.spr);
  if (s.isOk() && !allReady(w, flags.requests, std::chrono::seconds(60 + flags.requests))) {
    s = Status(Code::kUnavailable, "not all requests Ready (see " + dir + "/run.log)");
  }
  if (!s.isOk()) {
    std::fprintf(stderr, "soak_bench: %s\n", s.toString().c_str());
    if (pid > 0) stopChild(pid);
    return 1;
  }
  // Steady state (see Flags::warmupSeconds).
  std::mutex mu;
  std::condition_variable never;
  std::unique_lock<std::mutex> lock(mu);
  never.wait_for(lock, std::chrono::seconds(std::max(flags.pollSeconds + 2, flags.warmupSeconds)));
  lock.unlock();
  kill(pid, SIGSTOP);  // a consistent copy: no write in flight while the files are copied
  const uint64_t markSeq = lastSeq(journal);
  auto restA = compactedCopyBytes(journal, dir + "/at-start");
  kill(pid, SIGCONT);
  Sample a = sample(pid, journal);
  auto start = Clock::now();
  std::vector<Sample> perMinute;
  uint64_t volumePeak = a.dirBytes + a.archiveBytes;
  int drifts = soak(w, flags, pid, journal, &perMinute, &volumePeak);
  Sample b = sample(pid, journal);
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  stopChild(pid);
  auto restB = compactedCopyBytes(journal, dir + "/at-end");
  auto window = readWindow(journal, markSeq);
  if (!restA || !restB || !window) {
    std::fprintf(stderr, "soak_bench: measuring the journal failed: %s\n",
                 (!restA   ? restA.status()
                  : !restB ? restB.status()
                           : window.status())
                     .toString()
                     .c_str());
    return 1;
  }
  report(flags, *window, a, b, *restA, *restB, secs, drifts);
  reportPerMinute(a, perMinute, *window, secs);
  std::printf("volume (journal + archives, sampled every 5 s): peak %llu bytes, at end %llu\n",
              static_cast<unsigned long long>(volumePeak),
              static_cast<unsigned long long>(b.dirBytes + b.archiveBytes));
  if (!std::getenv("SPR_SOAK_KEEP"))
    fs::remove_all(dir);
  else
    std::printf("kept: %s\n", dir.c_str());
  w.sim->stop();
  return 0;
}

bool parse(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool hasValue = i + 1 < argc;
    if (a == "--drift")
      f->drift = true;
    else if (a == "--requests" && hasValue)
      f->requests = std::atoi(argv[++i]);
    else if (a == "--poll" && hasValue)
      f->pollSeconds = std::atoi(argv[++i]);
    else if (a == "--warmup" && hasValue)
      f->warmupSeconds = std::atoi(argv[++i]);
    else if (a == "--minutes" && hasValue)
      f->minutes = std::atof(argv[++i]);
    else if (a == "--spr" && hasValue)
      f->spr = argv[++i];
    else if (a == "--spr-arg" && hasValue)
      f->sprArgs.push_back(argv[++i]);
    else
      return false;
  }
  return f->requests > 0 && f->pollSeconds > 0 && f->minutes > 0 && f->warmupSeconds >= 0;
}

}  // namespace
}  // namespace spr::bench

int main(int argc, char** argv) {
  spr::bench::Flags flags;
  if (!spr::bench::parse(argc, argv, &flags)) {
    std::fprintf(
        stderr,
        "usage: soak_bench [--requests N (20)] [--poll SECONDS (10)] [--minutes T (3)] [--warmup SECONDS (75)] "
        "[--drift] "
        "[--spr PATH (this build's spr)] [--spr-arg ARG (to spr run; repeatable)]\n");
    return 2;
  }
  spr::log::configure(spr::log::Level::kWarn, true);
  return spr::bench::run(flags);
}
