// Watcher: list+watch of many resources on many clusters from ONE thread (curl multi), each
// a long streaming response of one JSON event per line. Per watch: initial list (ADDED per
// item, then SYNCED) unless resuming from a resourceVersion; allowWatchBookmarks; resume
// from the last resourceVersion seen; 410 Gone (HTTP or ERROR event) → re-list, emitting
// DELETED for objects that vanished while disconnected, then SYNCED; reconnect with backoff
// 0.8 s → 30 s, factor 2, jitter, reset after 2 minutes healthy. Callbacks run on the
// Watcher's thread, one at a time; they must not block for long. start/stop: any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "adapters/k8s/client.h"
#include "adapters/k8s/config.h"

namespace spr::k8s {

struct WatchEvent {
  // ADDED, MODIFIED, DELETED, BOOKMARK (object holds only metadata.resourceVersion),
  // SYNCED (initial list or re-list delivered; object null), ERROR (object is the API
  // Status; 401/403 are reported and the watch stops retrying).
  std::string type;
  nlohmann::json object;
  std::string resourceVersion;  // of the event (for ADDED/MODIFIED/DELETED/BOOKMARK)
};

// A watch's connection health: reported when a list or watch request fails (ok=false: the
// cluster, its address and why, e.g. "TLS: the server certificate is not trusted ...") and
// when one succeeds again after a failure (ok=true).
struct WatchHealth {
  bool ok = true;
  std::string cluster, address, reason;
  long httpStatus = 0;  // 0 when the request got no HTTP answer
};

struct WatchOptions {
  double initialBackoffSec = 0.8, maxBackoffSec = 30, backoffFactor = 2;
  double resetAfterHealthySec = 120;
  long timeoutSeconds = 300;  // server-side watch timeout per connection; reconnects after
  std::string labelSelector;
  double jitter = 0.25;     // each backoff delay is stretched by up to this fraction at random
  long listPageSize = 500;  // `limit` of the (re-)list pages
  long connectTimeoutMs = 5000;
  // Called on the Watcher's thread on each failed request and on recovery (see WatchHealth).
  // Failures are also logged (WARN, at most once per logEverySec per watch and reason).
  std::function<void(const WatchHealth&)> onHealth;
  double logEverySec = 30;
};

using WatchCallback = std::function<void(const WatchEvent&)>;

class Watcher {
 public:
  explicit Watcher(WatchOptions options);
  ~Watcher();  // stops
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Adds a watch (before or after start). ns "" = all namespaces / cluster-scoped.
  // resumeResourceVersion "" = list first.
  void add(const ClusterConfig& cluster, const GroupVersionResource& gvr, const std::string& ns,
           const std::string& resumeResourceVersion, WatchCallback callback);
  // As add(), for a resumed watch whose caller already knows objects (objectKey "ns/name",
  // "/name" when cluster-scoped -> resourceVersion, e.g. from its journal): a 410 re-list then
  // also emits DELETED for those that vanished while the caller was down.
  void add(const ClusterConfig& cluster, const GroupVersionResource& gvr, const std::string& ns,
           const std::string& resumeResourceVersion, std::map<std::string, std::string> knownObjects,
           WatchCallback callback);
  void start();
  // Closes every connection and joins the thread; no callback runs after stop() returns.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spr::k8s
