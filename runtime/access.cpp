#include "runtime/access.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "adapters/k8s/curl_transport.h"
#include "adapters/k8s/openmcp.h"
#include "common/log.h"

namespace spr::runtime {

using nlohmann::json;

namespace {

const k8s::GroupVersionResource kClusterRequests{"clusters.openmcp.cloud", "v1alpha1", "clusterrequests", true};
const k8s::GroupVersionResource kAccessRequests{"clusters.openmcp.cloud", "v1alpha1", "accessrequests", true};
const k8s::GroupVersionResource kSecrets{"", "v1", "secrets", true};

std::string ref(const AccessTarget& t, const std::string& name) { return t.ns + "/" + name; }

std::optional<std::string> base64Decode(const std::string& in) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    auto pos = kAlphabet.find(c);
    if (pos == std::string::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

// GET the AccessRequest, creating it (spec.requestRef -> the ClusterRequest) if missing.
Result<json> getOrCreateAccessRequest(k8s::Client& platform, const AccessTarget& t) {
  if (!t.rules.is_array() || t.rules.empty())
    return Status(Code::kInternal, "the AccessRequest " + ref(t, t.accessRequest) + " for the " + t.what +
                                       " cluster has no rules to ask for (a bug: every caller declares them)");
  auto ar = platform.get(kAccessRequests, t.ns, t.accessRequest);
  if (ar || ar.status().code() != Code::kNotFound) return ar;
  json body = {{"apiVersion", "clusters.openmcp.cloud/v1alpha1"},
               {"kind", "AccessRequest"},
               {"metadata", {{"name", t.accessRequest}, {"namespace", t.ns}}},
               {"spec",
                {{"requestRef", {{"name", t.clusterRequest}, {"namespace", t.ns}}},
                 {"permissions", json::array({{{"rules", t.rules}}})}}}};
  auto created = platform.create(kAccessRequests, t.ns, body);
  if (!created && created.status().code() == Code::kAlreadyExists)
    return platform.get(kAccessRequests, t.ns, t.accessRequest);
  return created;
}

bool granted(const json& ar) {
  const json status = ar.value("status", json::object());
  return status.is_object() && status.value("phase", "") == "Granted";
}

std::string secretName(const json& ar) {
  const json status = ar.value("status", json::object());
  if (!status.is_object() || !status.contains("secretRef") || !status["secretRef"].is_object()) return "";
  return status["secretRef"].value("name", "");
}

Result<k8s::ClusterConfig> configFromSecret(k8s::Client& platform, const AccessTarget& t, const std::string& name) {
  auto secret = platform.get(kSecrets, t.ns, name);
  if (!secret)
    return Status(secret.status().code(), "reading Secret " + ref(t, name) + " of AccessRequest " +
                                              ref(t, t.accessRequest) + ": " + secret.status().message());
  const json data = secret->value("data", json::object());
  if (!data.is_object() || !data.contains("kubeconfig") || !data["kubeconfig"].is_string())
    return Status(Code::kUnavailable, "Secret " + ref(t, name) + " has no data.kubeconfig yet");
  auto yaml = base64Decode(data["kubeconfig"].get<std::string>());
  if (!yaml) return Status(Code::kUnavailable, "Secret " + ref(t, name) + ": data.kubeconfig is not base64");
  auto cfg = k8s::parseKubeconfig(*yaml, "", "Secret " + ref(t, name));
  if (!cfg)
    return Status(Code::kUnavailable, "Secret " + ref(t, name) + ": kubeconfig unusable: " + cfg.status().message());
  return cfg;
}

// Turns `stopRequested` (polled every 50 ms on a thread of its own) into the flag curl's
// calls check (k8s::CurlOptions::abort), so SIGTERM also ends a call hanging on the
// platform cluster instead of waiting out curl's timeouts and the client's retries.
class AbortOnStop {
 public:
  explicit AbortOnStop(std::function<bool()> stopRequested) {
    if (!stopRequested) return;
    thread_ = std::thread([this, stop = std::move(stopRequested)] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!done_) {
        if (stop()) return flag_->store(true);
        cv_.wait_for(lock, std::chrono::milliseconds(50));
      }
    });
  }
  ~AbortOnStop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  AbortOnStop(const AbortOnStop&) = delete;
  AbortOnStop& operator=(const AbortOnStop&) = delete;

  std::shared_ptr<const std::atomic<bool>> flag() const { return flag_; }
  // The client's waits between retries, cut short once stopped.
  k8s::RetryPolicy retry() const {
    k8s::RetryPolicy policy;
    policy.sleepMs = [flag = flag_](long ms) {
      auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
      while (!flag->load() && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    };
    return policy;
  }

 private:
  const std::shared_ptr<std::atomic<bool>> flag_ = std::make_shared<std::atomic<bool>>(false);
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace

json onboardingAccessRules(const providers::Provider& provider) {
  const providers::ProviderKinds kinds = provider.kinds();
  json crdNames = json::array();
  for (const auto& crd : provider.apiCrds()) crdNames.push_back(crd["metadata"].value("name", ""));
  return json::array({
      {{"apiGroups", {kinds.api.group}},
       {"resources", {kinds.api.resource}},
       {"verbs", {"get", "list", "watch", "update", "patch"}}},
      {{"apiGroups", {kinds.api.group}},
       {"resources", {kinds.api.resource + "/status"}},
       {"verbs", {"get", "update", "patch"}}},
      {{"apiGroups", {kinds.api.group}}, {"resources", {kinds.api.resource + "/finalizers"}}, {"verbs", {"update"}}},
      {{"apiGroups", {""}}, {"resources", {"events"}}, {"verbs", {"create", "patch"}}},
      {{"apiGroups", {"apiextensions.k8s.io"}},
       {"resources", {"customresourcedefinitions"}},
       {"resourceNames", crdNames},
       {"verbs", {"get", "update"}}},
      {{"apiGroups", {"apiextensions.k8s.io"}}, {"resources", {"customresourcedefinitions"}}, {"verbs", {"create"}}},
  });
}

Result<k8s::ClusterConfig> requestAccess(k8s::Client& platform, const AccessTarget& t) {
  auto cr = platform.get(kClusterRequests, t.ns, t.clusterRequest);
  if (!cr) {
    if (cr.status().code() == Code::kNotFound)
      return Status(Code::kUnavailable, "waiting for the " + t.what + " cluster: ClusterRequest " +
                                            ref(t, t.clusterRequest) + " does not exist on the platform cluster yet");
    return cr.status();
  }
  auto ar = getOrCreateAccessRequest(platform, t);
  if (!ar) return ar.status();
  std::string secret = secretName(*ar);
  if (!granted(*ar) || secret.empty())
    return Status(Code::kUnavailable, "waiting for access to the " + t.what + " cluster (AccessRequest " +
                                          ref(t, t.accessRequest) + " not granted yet)");
  return configFromSecret(platform, t, secret);
}

Result<bool> clusterGone(k8s::Client& platform, const AccessTarget& t) {
  auto cr = platform.get(kClusterRequests, t.ns, t.clusterRequest);
  if (!cr && cr.status().code() == Code::kNotFound) return true;
  if (!cr) return cr.status();
  const json meta = cr->value("metadata", json::object());
  return meta.is_object() && meta.contains("deletionTimestamp");
}

Result<json> releaseAccess(k8s::Client& platform, const AccessTarget& t) {
  json done = json::object();
  auto ar = platform.get(kAccessRequests, t.ns, t.accessRequest);
  if (!ar && ar.status().code() == Code::kNotFound) return done;
  if (!ar) return ar.status();
  const std::string secret = secretName(*ar);
  Status removed = platform.remove(kAccessRequests, t.ns, t.accessRequest);
  if (!removed.isOk() && removed.code() != Code::kNotFound) return removed;
  done["accessRequest"] = ref(t, t.accessRequest);
  if (secret.empty()) return done;
  Status secretRemoved = platform.remove(kSecrets, t.ns, secret);
  if (secretRemoved.code() == Code::kUnauthorized) {
    done["secretLeft"] = ref(t, secret) + ": " + secretRemoved.message();
    return done;
  }
  if (!secretRemoved.isOk() && secretRemoved.code() != Code::kNotFound) return secretRemoved;
  done["secret"] = ref(t, secret);
  return done;
}

Result<k8s::ClusterConfig> ensureClusterAccess(k8s::Client& platform, const AccessTarget& t,
                                               const std::string& purpose) {
  auto cr = platform.get(kClusterRequests, t.ns, t.clusterRequest);
  if (!cr && cr.status().code() == Code::kNotFound) {
    json body = {{"apiVersion", "clusters.openmcp.cloud/v1alpha1"},
                 {"kind", "ClusterRequest"},
                 {"metadata", {{"name", t.clusterRequest}, {"namespace", t.ns}}},
                 {"spec", {{"purpose", purpose}}}};
    auto created = platform.create(kClusterRequests, t.ns, body);
    if (!created && created.status().code() != Code::kAlreadyExists) return created.status();
  } else if (!cr) {
    return cr.status();
  }
  return requestAccess(platform, t);
}

Result<k8s::ClusterConfig> onboardingAccess(const k8s::ClusterConfig& platformConfig, const std::string& ns,
                                            const std::string& providerName, const json& rules,
                                            const std::function<bool()>& stopRequested) {
  AbortOnStop abort(stopRequested);
  k8s::CurlOptions options;
  options.abort = abort.flag();
  auto transport = k8s::makeCurlTransport(platformConfig, options);
  if (!transport) return transport.status();
  k8s::Client platform(**transport, abort.retry());
  std::string name = "spr-onboarding-" + providerName;
  AccessTarget target{ns, name, name, "onboarding", rules};
  Status last;
  for (int i = 0; i < 120; ++i) {
    auto cfg = ensureClusterAccess(platform, target, "onboarding");
    if (cfg) return cfg;
    last = cfg.status();
    if (last.code() != Code::kUnavailable) return last;
    if (i % 10 == 0) log::info("waiting for onboarding cluster access", {{"reason", last.message()}});
    for (int tick = 0; tick < 10; ++tick) {
      if (stopRequested && stopRequested())
        return Status(Code::kUnavailable, "stopped while waiting for onboarding cluster access: " + last.message());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return Status(Code::kUnavailable, "no onboarding cluster access after 2 minutes: " + last.message());
}

}  // namespace spr::runtime
