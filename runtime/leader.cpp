#include "runtime/leader.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "adapters/k8s/curl_transport.h"
#include "common/log.h"
#include "runtime/status.h"

namespace spr::runtime {

using nlohmann::json;

namespace {

const k8s::GroupVersionResource kLeases{"coordination.k8s.io", "v1", "leases", true};

std::string microTime(int64_t unixNanos) {
  std::string base = rfc3339(unixNanos);  // ...SSZ
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>((unixNanos / 1000) % 1000000));
  return base.substr(0, base.size() - 1) + frac + "Z";
}

std::string makeIdentity() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "spr");
  std::random_device rd;
  char suffix[40];
  std::snprintf(suffix, sizeof suffix, "%08x-%04x-%04x", rd(), rd() & 0xffff, rd() & 0xffff);
  return std::string(host) + "_" + suffix;
}

}  // namespace

LeaderElector::LeaderElector(Config config) : config_(std::move(config)), identity_(makeIdentity()) {}

LeaderElector::~LeaderElector() {
  stop();
  if (renewer_.joinable()) renewer_.join();
}

Status LeaderElector::tryAcquireOrRenew() {
  if (!client_) {
    // stop() cuts a call hanging on the platform cluster short, and the retries' waits.
    k8s::CurlOptions options;
    options.abort = abort_;
    auto transport = k8s::makeCurlTransport(config_.platform, options);
    if (!transport) return transport.status();
    transport_ = std::move(*transport);
    k8s::RetryPolicy retry;
    retry.sleepMs = [abort = abort_](long ms) {
      auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
      while (!abort->load() && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    };
    client_ = std::make_unique<k8s::Client>(*transport_, retry);
  }
  auto lease = client_->get(kLeases, config_.ns, config_.name);
  if (!lease && lease.status().code() == Code::kNotFound) return createLease();
  if (!lease) return lease.status();
  return takeOrRenew(*lease);
}

Status LeaderElector::createLease() {
  int64_t now = config_.clock->nowUnixNanos();
  json body = {{"apiVersion", "coordination.k8s.io/v1"},
               {"kind", "Lease"},
               {"metadata", {{"name", config_.name}, {"namespace", config_.ns}}},
               {"spec",
                {{"holderIdentity", identity_},
                 {"leaseDurationSeconds", durationSeconds()},
                 {"acquireTime", microTime(now)},
                 {"renewTime", microTime(now)},
                 {"leaseTransitions", 0}}}};
  auto created = client_->create(kLeases, config_.ns, body);
  return created ? Status() : created.status();
}

// Another holder's lease counts as expired when its record has not changed for its
// leaseDurationSeconds as observed on this machine's steady clock (no wall-clock skew).
Status LeaderElector::takeOrRenew(json obj) {
  json spec = obj.value("spec", json::object());
  std::string holder = spec.value("holderIdentity", "");
  std::string observed = holder + "@" + spec.value("renewTime", "");
  auto steadyNow = std::chrono::steady_clock::now();
  bool expired = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (observed != observedRecord_) {
      observedRecord_ = observed;
      observedAt_ = steadyNow;
    }
    expired = steadyNow - observedAt_ > std::chrono::seconds(spec.value("leaseDurationSeconds", durationSeconds()));
  }
  if (!holder.empty() && holder != identity_ && !expired)
    return Status(Code::kConflict, "Lease " + config_.ns + "/" + config_.name + " is held by " + holder);
  int64_t now = config_.clock->nowUnixNanos();
  if (holder != identity_) {
    spec["acquireTime"] = microTime(now);
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  spec["holderIdentity"] = identity_;
  spec["leaseDurationSeconds"] = durationSeconds();
  spec["renewTime"] = microTime(now);
  obj["spec"] = spec;
  auto updated = client_->update(kLeases, config_.ns, obj);
  if (!updated && updated.status().code() == Code::kConflict)
    return Status(Code::kUnavailable, "Lease changed while renewing; retrying");
  return updated ? Status() : updated.status();
}

Status LeaderElector::acquire() {
  log::info("waiting for leadership", {{"lease", config_.ns + "/" + config_.name}, {"identity", identity_}});
  while (!stop_) {
    Status s = tryAcquireOrRenew();
    if (s.isOk()) {
      leading_ = true;
      log::info("became leader", {{"lease", config_.ns + "/" + config_.name}, {"identity", identity_}});
      return Status();
    }
    if (s.code() == Code::kUnauthorized) return s;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::duration<double>(config_.retryPeriodSec), [&] { return stop_.load(); });
  }
  return Status(Code::kUnavailable, "stopped before becoming leader");
}

void LeaderElector::onLost(std::function<void()> lost) {
  lost_ = std::move(lost);
  renewer_ = std::thread([this] { renewLoop(); });
}

void LeaderElector::renewLoop() {
  auto lastRenew = std::chrono::steady_clock::now();
  auto deadline = std::chrono::duration<double>(config_.renewDeadlineSec);
  while (!stop_) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::duration<double>(config_.retryPeriodSec), [&] { return stop_.load(); });
    }
    if (stop_) return;
    Status s = tryAcquireOrRenew();
    auto now = std::chrono::steady_clock::now();
    if (s.isOk()) {
      lastRenew = now;
      continue;
    }
    log::warn("lease renewal failed", {{"error", s.toString()}});
    if (s.code() == Code::kConflict || now - lastRenew > deadline) {
      leading_ = false;
      log::error("leader election lost", {{"lease", config_.ns + "/" + config_.name}});
      if (lost_) lost_();
      return;
    }
  }
}

void LeaderElector::stop() {
  stop_ = true;
  abort_->store(true);
  cv_.notify_all();
}

void LeaderElector::release() {
  stop();
  if (renewer_.joinable() && renewer_.get_id() != std::this_thread::get_id()) renewer_.join();
  if (!leading_ || !client_) return;
  leading_ = false;
  // client_'s calls are aborted by now: one try each on a client of its own, bounded so
  // that a hung platform cluster holds shutdown for seconds, not curl's 30 s and retries.
  k8s::CurlOptions options;
  options.connectTimeoutMs = 1000;
  options.requestTimeoutMs = 2000;
  auto transport = k8s::makeCurlTransport(config_.platform, options);
  if (!transport) return;
  k8s::Client client(**transport, k8s::RetryPolicy{1, 0, 0, {}});
  auto lease = client.get(kLeases, config_.ns, config_.name);
  if (!lease) return;
  json obj = *lease;
  if (obj["spec"].value("holderIdentity", "") != identity_) return;
  obj["spec"]["holderIdentity"] = "";
  obj["spec"]["leaseDurationSeconds"] = 1;
  (void)client.update(kLeases, config_.ns, obj);
}

}  // namespace spr::runtime
