#include "runtime/operator.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "adapters/k8s/curl_transport.h"
#include "adapters/k8s/redact.h"
#include "common/log.h"
#include "runtime/effects.h"
#include "runtime/leader.h"
#include "runtime/metrics.h"
#include "runtime/metrics_auth.h"
#include "runtime/reconciler.h"
#include "runtime/watch_loop.h"
#include "runtime/workqueue.h"

namespace spr::runtime {
namespace {

class OperatorImpl : public Operator {
 public:
  OperatorImpl(OperatorOptions options, std::unique_ptr<providers::Provider> provider)
      : options_(std::move(options)),
        provider_(std::move(provider)),
        kinds_(provider_->kinds()),
        limiter_(options_.rateLimitQps, options_.rateLimitBurst) {
    if (!options_.clock) options_.clock = std::shared_ptr<Clock>(systemClock());
    if (options_.leaderElectionId.empty()) options_.leaderElectionId = "spr-" + options_.providerName;
  }
  ~OperatorImpl() override {
    requestStop();
    (void)wait();
  }

  Status start() override;
  void requestStop() override;
  Status wait() override;
  std::vector<ObjectView> objects() const override {
    return reconciler_ ? reconciler_->views() : std::vector<ObjectView>{};
  }
  uint64_t effectsRun(lifecycle::Op op) const override { return metrics_.effects(lifecycle::opName(op)); }
  int metricsPort() const override { return metricsHttp_ ? metricsHttp_->port() : 0; }
  int healthPort() const override { return healthHttp_ ? healthHttp_->port() : 0; }

 private:
  [[nodiscard]] Status journalStart();
  [[nodiscard]] Status startEndpoints();
  [[nodiscard]] Status guardMetrics();  // TokenReview + SubjectAccessReview before every scrape
  [[nodiscard]] Status startActing();
  [[nodiscard]] Status startBundleWatch();
  ReconcilerDeps reconcilerDeps();
  void startLeaderElection();
  void stopWith(const Status& status);
  // After the journal refused an append for lack of space: alive but not ready, until the
  // space is back (then wait() returns so a restart resumes from the journal) or a stop.
  [[nodiscard]] Status waitForSpace();
  std::string journalSpaceMetrics() const;
  bool shortOfSpace() const;  // the journal refused an append for lack of space
  void workerLoop();
  void joinWorkers();
  // "" when ready; else why not (leadership, a watch not listed yet or failing), for /readyz.
  std::string notReady() const;
  [[nodiscard]] Status startInner();
  std::string journaledRv(const std::string& cluster, const k8s::GroupVersionResource& gvr) const {
    auto rv = journal_->meta(watchRvKey(cluster, gvr.group, gvr.resource));
    return rv.isOk() && rv->has_value() ? **rv : std::string();
  }

  OperatorOptions options_;
  std::unique_ptr<providers::Provider> provider_;
  providers::ProviderKinds kinds_;
  Metrics metrics_;
  WorkQueue queue_;
  TimerList timers_;
  RateLimiter limiter_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<EffectExecutor> executor_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<WatchLoop> configWatch_, apiWatch_;
  std::unique_ptr<WatchLoop> bundleWatch_;  // ConfigMaps in spr's namespace (caBundleRef)
  std::unique_ptr<LeaderElector> leader_;
  std::unique_ptr<k8s::Transport> metricsAuthTransport_;  // to the platform cluster; outlives metricsAuth_
  std::unique_ptr<MetricsAuth> metricsAuth_;              // --metrics-secure: who may scrape
  std::unique_ptr<HttpEndpoint> metricsHttp_, healthHttp_;
  std::unique_ptr<Retention> retention_;
  std::vector<std::thread> workers_;
  std::thread starter_;                          // waits for leadership, then starts watches and workers
  std::atomic<bool> bundleWatchStarted_{false};  // bundleWatch_ exists (set once)
  std::atomic<bool> configWatchStarted_{false};  // configWatch_ exists (set once)
  std::atomic<bool> watchesStarted_{false};      // both watch loops exist (set once)

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;        // guarded by mu_
  bool stopped_ = false;        // guarded by mu_
  bool stopRequested_ = false;  // guarded by mu_: requestStop() was called
  std::atomic<bool> waitingForSpace_{false};
  bool joined_ = false;  // guarded by mu_
  Status stopStatus_;    // guarded by mu_
};

// A failed start is a stop with that status: logged as an error, returned by wait().
Status OperatorImpl::start() {
  Status s = startInner();
  if (!s.isOk()) stopWith(s);
  return s;
}

Status OperatorImpl::startInner() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return Status(Code::kInternal, "Operator::start called twice");
    started_ = true;
  }
  journal::Options jopts;
  Clock* clock = options_.clock.get();
  jopts.nowUnixNanos = [clock] { return clock->nowUnixNanos(); };
  auto journal = journal::Journal::open(options_.journalDir, jopts);
  if (!journal) return journal.status();
  journal_ = std::move(*journal);
  SPR_RETURN_IF_ERROR(journalStart());
  metrics_.setGaugeSource([this] {
    return "# TYPE workqueue_depth gauge\nworkqueue_depth{name=\"" + options_.providerName + "\"} " +
           std::to_string(queue_.depth()) + "\n# TYPE workqueue_adds_total counter\nworkqueue_adds_total{name=\"" +
           options_.providerName + "\"} " + std::to_string(queue_.adds()) + "\n" + journalSpaceMetrics();
  });
  executor_ = std::make_unique<EffectExecutor>(EffectExecutor::Config{
      options_.providerName, options_.onboarding, options_.platform, provider_.get(), options_.clock.get(),
      /*factory=*/nullptr, k8s::RetryPolicy{}, options_.podNamespace, options_.providerConfigName});
  reconciler_ = std::make_unique<Reconciler>(reconcilerDeps());
  SPR_RETURN_IF_ERROR(reconciler_->restore());
  retention_ = std::make_unique<Retention>(options_.retention, journal_.get(), options_.clock.get());
  retention_->start();
  SPR_RETURN_IF_ERROR(startEndpoints());
  if (!options_.leaderElect) return startActing();
  startLeaderElection();
  return Status();
}

// The first record of every process: a timeline then shows each restart and the build.
Status OperatorImpl::journalStart() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  journal::Record r;
  r.object = journal::processObjectId();
  // Embedded (spr demo, tests): no command line to describe.
  const std::string version = options_.version.empty() ? "embedded" : options_.version;
  r.payload = journal::ProcessStarted{
      version, options_.build, options_.flagsDigest, options_.flagNames, host, static_cast<int64_t>(::getpid())};
  auto seq = journal_->append(std::move(r), journal::Sync::kSync);
  if (!seq) return seq.status();
  log::info("process start journaled", {{"seq", *seq}, {"version", options_.version}});
  return Status();
}

// Acting starts once this instance holds the Lease; losing it stops acting at once.
void OperatorImpl::startLeaderElection() {
  leader_ = std::make_unique<LeaderElector>(LeaderElector::Config{
      options_.platform, options_.leaderElectionNamespace, options_.leaderElectionId, options_.leaseDurationSec,
      options_.renewDeadlineSec, options_.retryPeriodSec, options_.clock.get()});
  starter_ = std::thread([this] {
    Status won = leader_->acquire();  // blocks until leading or stopped
    if (!won.isOk()) {
      stopWith(won);
      return;
    }
    leader_->onLost([this] { stopWith(Status(Code::kUnavailable, "leader election lost: stopped acting")); });
    Status s = startActing();
    if (!s.isOk()) stopWith(s);
  });
}

ReconcilerDeps OperatorImpl::reconcilerDeps() {
  ReconcilerDeps deps;
  deps.journal = journal_.get();
  deps.runner = executor_.get();
  deps.metrics = &metrics_;
  deps.clock = options_.clock.get();
  deps.queue = &queue_;
  deps.timers = &timers_;
  deps.limiter = &limiter_;
  deps.delayScale = options_.delayScale;
  deps.providerName = options_.providerName;
  deps.providerConfigName = options_.providerConfigName;
  deps.apiGroup = kinds_.api.group;
  deps.apiVersion = kinds_.api.version;
  deps.apiKind = kinds_.apiKind;
  deps.apiResource = kinds_.api.resource;
  deps.configGroup = kinds_.config.group;
  deps.configVersion = kinds_.config.version;
  deps.configKind = kinds_.configKind;
  deps.configResource = kinds_.config.resource;
  deps.onFatal = [this](const Status& s) { stopWith(s); };
  deps.podNamespace = options_.podNamespace;
  deps.clearConfigOperation = [this](const nlohmann::json& c) { return executor_->clearConfigOperation(c); };
  deps.redact = [](const nlohmann::json& o) { return k8s::redactObject(o).dump(); };
  return deps;
}

Status OperatorImpl::startActing() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return Status();
  }
  queue_.setPollCap(static_cast<size_t>(std::max(1, options_.workers / 2)));  // polls never take every worker
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { workerLoop(); });
  SPR_RETURN_IF_ERROR(startBundleWatch());
  WatchLoop::Target config{"platform", options_.platform, kinds_.config, "", ""};
  config.resumeRv = journaledRv("platform", kinds_.config);
  configWatch_ = std::make_unique<WatchLoop>(
      config,
      WatchLoop::Callbacks{[this](journal::WatchType t, const nlohmann::json& o, const std::string& rv) {
                             return reconciler_->observeConfig(t, o, rv);
                           },
                           [this](const std::set<std::string>& keys) {
                             return reconciler_->configListSynced(keys.count("/" + options_.providerConfigName) > 0);
                           },
                           [this](const std::string& rv) {
                             reconciler_->bookmark("platform", kinds_.config.group, kinds_.config.resource, rv);
                           },
                           [this](const Status& s) { stopWith(s); }});
  SPR_RETURN_IF_ERROR(configWatch_->start());
  configWatchStarted_ = true;
  auto stopping = [this] {
    if (options_.stopRequested && options_.stopRequested()) stopWith(Status());
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  };
  configWatch_->waitSynced(stopping);
  if (stopping()) return Status();  // SIGTERM (or a fatal error) while the platform cluster was not reachable
  // The API kind is listed afresh at every start (not resumed): each object's live
  // status and finalizer are compared with the folded view, so what a crash cut off is
  // written again.
  WatchLoop::Target api{"onboarding", options_.onboarding, kinds_.api, "", ""};
  apiWatch_ = std::make_unique<WatchLoop>(
      api, WatchLoop::Callbacks{[this](journal::WatchType t, const nlohmann::json& o, const std::string& rv) {
                                  return reconciler_->observeApiObject(t, o, rv);
                                },
                                [this](const std::set<std::string>& keys) { return reconciler_->listSynced(keys); },
                                [this](const std::string& rv) {
                                  reconciler_->bookmark("onboarding", kinds_.api.group, kinds_.api.resource, rv);
                                },
                                [this](const Status& s) { stopWith(s); }, [this] { reconciler_->watchResynced(); }});
  apiWatch_->setKeyFunction(
      [this](const std::string& ns, const std::string& name) { return reconciler_->apiObjectKey(ns, name); });
  SPR_RETURN_IF_ERROR(apiWatch_->start());
  watchesStarted_ = true;
  log::info("operator running", {{"provider", options_.providerName}, {"workers", options_.workers}});
  return Status();
}

// ConfigMaps in spr's namespace, listed afresh at every start (not resumed) and before the
// ProviderConfig watch, so the config is journaled with its CA bundle already resolved.
Status OperatorImpl::startBundleWatch() {
  WatchLoop::Target target{"platform", options_.platform, k8s::GroupVersionResource{"", "v1", "configmaps", true},
                           options_.podNamespace, ""};
  bundleWatch_ = std::make_unique<WatchLoop>(
      target, WatchLoop::Callbacks{[this](journal::WatchType t, const nlohmann::json& o, const std::string&) {
                                     return reconciler_->observeConfigMap(t, o);
                                   },
                                   [this](const std::set<std::string>&) { return reconciler_->configMapsListed(); },
                                   [](const std::string&) {}, [this](const Status& s) { stopWith(s); }});
  SPR_RETURN_IF_ERROR(bundleWatch_->start());
  bundleWatchStarted_ = true;
  bundleWatch_->waitSynced([this] {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_ || (options_.stopRequested && options_.stopRequested());
  });
  return Status();
}

namespace {

// What the journal holds in memory, so a months-long run shows where its memory is.
std::string journalMemoryMetrics(const journal::MemoryUse& m) {
  std::string out = "# TYPE spr_journal_memory_bytes gauge\n";
  for (const auto& [part, bytes] : {std::pair{"memtables", m.memtables}, std::pair{"block_cache", m.blockCache},
                                    std::pair{"table_readers", m.tableReaders}})
    out += std::string("spr_journal_memory_bytes{part=\"") + part + "\"} " + std::to_string(bytes) + "\n";
  return out + "# TYPE spr_journal_known_bodies gauge\nspr_journal_known_bodies " + std::to_string(m.knownBodies) +
         "\n";
}

}  // namespace

std::string OperatorImpl::journalSpaceMetrics() const {
  journal::SpaceStatus st = journal_->space();
  return "# TYPE spr_journal_free_bytes gauge\nspr_journal_free_bytes " + std::to_string(st.freeBytes) +
         "\n# TYPE spr_journal_reserve_bytes gauge\nspr_journal_reserve_bytes " + std::to_string(st.reserveBytes) +
         "\n# TYPE spr_journal_appends_refused_total counter\nspr_journal_appends_refused_total " +
         std::to_string(st.refusedAppends) + "\n" + journalMemoryMetrics(journal_->memory());
}

bool OperatorImpl::shortOfSpace() const {
  return waitingForSpace_ || (journal_ && journal_->space().refusing && !journal_->poisoned());
}

// A watch failing for longer than this makes /readyz fail; a reconnect takes ~1 s.
constexpr double kWatchGraceSec = 3;

std::string OperatorImpl::notReady() const {
  if (shortOfSpace()) {
    journal::SpaceStatus st = journal_->space();
    return "journal " + options_.journalDir + " has " + std::to_string(st.freeBytes) +
           " bytes free, below its reserve of " + std::to_string(st.reserveBytes) +
           " bytes; appends are refused: free space or grow the volume";
  }
  if (leader_ && !leader_->leading()) return "not the leader (Lease " + options_.leaderElectionId + ")";
  if (!watchesStarted_) {
    if (configWatchStarted_) return configWatch_->problem(kWatchGraceSec);
    if (bundleWatchStarted_) return bundleWatch_->problem(kWatchGraceSec);  // the first watch of the platform
    return "starting";
  }
  std::string why = configWatch_->problem(kWatchGraceSec);
  std::string api = apiWatch_->problem(kWatchGraceSec);
  if (!api.empty()) why += (why.empty() ? "" : "; ") + api;
  std::string bundles = bundleWatch_->problem(kWatchGraceSec);
  if (!bundles.empty() && why.empty()) why = bundles;  // the same platform cluster: said once
  return why;
}

Status OperatorImpl::startEndpoints() {
  auto off = [](const std::string& a) { return a.empty() || a == "0"; };
  if (!off(options_.metricsBindAddress)) {
    metricsHttp_ = std::make_unique<HttpEndpoint>();
    if (options_.metricsSecure)
      SPR_RETURN_IF_ERROR(metricsHttp_->useTls(EndpointTls{options_.metricsCertFile, options_.metricsKeyFile}));
    if (options_.metricsSecure && options_.metricsAuth) SPR_RETURN_IF_ERROR(guardMetrics());
    metricsHttp_->handle(
        "/metrics", [this] { return std::make_pair(200, metrics_.render(options_.providerName)); },
        "text/plain; version=0.0.4");
    SPR_RETURN_IF_ERROR(metricsHttp_->start(options_.metricsBindAddress));
    log::info("serving metrics", {{"address", options_.metricsBindAddress}, {"port", metricsHttp_->port()}});
  }
  if (!off(options_.healthProbeBindAddress)) {
    healthHttp_ = std::make_unique<HttpEndpoint>();
    healthHttp_->handle("/healthz", [this] {
      std::lock_guard<std::mutex> lock(mu_);
      const bool alive = !stopped_ || shortOfSpace();  // waiting for disk space is not dead
      return alive ? std::make_pair(200, std::string("ok\n")) : std::make_pair(500, std::string("stopped\n"));
    });
    healthHttp_->handle("/readyz", [this] {
      std::string why = notReady();
      return why.empty() ? std::make_pair(200, std::string("ok\n")) : std::make_pair(500, "not ready: " + why + "\n");
    });
    SPR_RETURN_IF_ERROR(healthHttp_->start(options_.healthProbeBindAddress));
    log::info("serving health probes", {{"address", options_.healthProbeBindAddress}, {"port", healthHttp_->port()}});
  }
  return Status();
}

// As controller-runtime's WithAuthenticationAndAuthorization: reviews go to the platform
// cluster (the one spr runs in), with spr's own credentials there.
Status OperatorImpl::guardMetrics() {
  auto transport = k8s::makeCurlTransport(options_.platform, k8s::CurlOptions{5000, 10000});
  if (!transport) return transport.status();
  metricsAuthTransport_ = std::move(*transport);
  MetricsAuthOptions auth;
  auth.clock = options_.clock.get();
  metricsAuth_ = std::make_unique<MetricsAuth>(*metricsAuthTransport_, auth);
  metricsHttp_->setFilter([this](const std::string& authorization, const std::string& method, const std::string& path) {
    AuthAnswer a = metricsAuth_->check(authorization, method, path);
    return std::make_pair(a.status, a.body);
  });
  return Status();
}

void OperatorImpl::workerLoop() {
  std::string key;
  while (queue_.get(&key)) {
    reconciler_->process(key);
    queue_.done(key);
  }
}

// Effects in flight get kEffectGraceMs to finish and be journaled; past it their cluster
// calls are cut short (a hung API server would otherwise hold shutdown for curl's timeouts,
// 30 s a call and retries), and the restart resolves them as Unknown, as after kill -9.
void OperatorImpl::joinWorkers() {
  constexpr auto kEffectGraceMs = std::chrono::milliseconds(500);
  std::mutex m;
  std::condition_variable cv;
  bool joined = false;  // guarded by m
  std::thread aborter([&] {
    std::unique_lock<std::mutex> lock(m);
    if (cv.wait_for(lock, kEffectGraceMs, [&] { return joined; }) || !executor_) return;
    log::info("stopping: cutting in-flight cluster calls short; the restart resolves their effects");
    executor_->abortClusterCalls();
  });
  for (auto& w : workers_) w.join();
  {
    std::lock_guard<std::mutex> lock(m);
    joined = true;
  }
  cv.notify_all();
  aborter.join();
}

void OperatorImpl::stopWith(const Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopStatus_ = status;
  }
  if (reconciler_) reconciler_->stop();
  limiter_.stop();
  queue_.shutdown();
  if (leader_) leader_->stop();
  if (!status.isOk()) log::error("operator stopping", {{"reason", status.toString()}});
  cv_.notify_all();
}

void OperatorImpl::requestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopRequested_ = true;
  }
  cv_.notify_all();
  stopWith(Status());
}

Status OperatorImpl::waitForSpace() {
  waitingForSpace_ = true;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopRequested_) {
    journal::SpaceStatus st = journal_->space();
    if (st.freeBytes >= st.reserveBytes + st.reserveBytes / 4) {  // a margin, so it does not flap
      waitingForSpace_ = false;
      log::info("journal has space again; exiting so that a restart resumes from the journal",
                {{"journal", options_.journalDir}, {"freeBytes", st.freeBytes}});
      return Status(Code::kUnavailable, "journal " + options_.journalDir + " has space again (" +
                                            std::to_string(st.freeBytes) + " bytes free): restart spr run to resume");
    }
    cv_.wait_for(lock, std::chrono::seconds(1));
  }
  waitingForSpace_ = false;
  return Status(Code::kUnavailable, "stopped while the journal " + options_.journalDir + " was short of space");
}

Status OperatorImpl::wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return stopped_ || !started_; });
  if (joined_ || !started_) return stopStatus_;
  joined_ = true;
  lock.unlock();
  if (starter_.joinable()) starter_.join();
  if (bundleWatch_) bundleWatch_->stop();
  if (configWatch_) configWatch_->stop();
  if (apiWatch_) apiWatch_->stop();
  joinWorkers();
  if (retention_) retention_->stop();  // a compaction under way completes first
  timers_.stop();
  if (leader_) leader_->release();
  const bool spaceRefused = journal_ && journal_->space().refusing && !journal_->poisoned();
  Status afterSpace = spaceRefused ? waitForSpace() : Status();
  if (metricsHttp_) metricsHttp_->stop();
  if (healthHttp_) healthHttp_->stop();
  lock.lock();
  if (spaceRefused) stopStatus_ = afterSpace;
  if (stopStatus_.isOk())
    log::info("operator stopped", {{"status", stopStatus_.toString()}});
  else
    log::error("operator stopped", {{"status", stopStatus_.toString()}});
  return stopStatus_;
}

}  // namespace

Result<std::unique_ptr<Operator>> Operator::create(OperatorOptions options,
                                                   std::unique_ptr<providers::Provider> provider) {
  if (!provider) return Status(Code::kInvalidArgument, "no provider given");
  if (options.providerName.empty()) options.providerName = provider->name();
  if (options.providerConfigName.empty()) options.providerConfigName = options.providerName;
  if (options.journalDir.empty()) return Status(Code::kInvalidArgument, "--journal DIR is required");
  if (options.workers < 1) return Status(Code::kInvalidArgument, "--workers must be at least 1");
  if (options.delayScale <= 0) options.delayScale = 1;
  return std::unique_ptr<Operator>(std::make_unique<OperatorImpl>(std::move(options), std::move(provider)));
}

}  // namespace spr::runtime
