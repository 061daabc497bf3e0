// Prometheus text metrics for the operator (controller-runtime names where they mean the
// same: controller_runtime_reconcile_total, controller_runtime_reconcile_time_seconds,
// workqueue_depth, workqueue_adds_total; plus spr_journal_* and spr_effects_total) and a
// small cpp-httplib server for /metrics, /healthz and /readyz. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace httplib {
class Server;
}

namespace spr::runtime {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // Appends `name_bucket{labels,le=..}`, `name_sum`, `name_count` lines.
  void render(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // guarded by mu_; one per bound, plus +Inf
  double sum_ = 0;                // guarded by mu_
  uint64_t count_ = 0;            // guarded by mu_
};

class Metrics {
 public:
  Metrics();
  void reconcile(const std::string& result, double seconds);  // result: success|error|requeue
  void effect(const std::string& op, const std::string& outcome);
  void journalAppend(uint64_t records, uint64_t bytes, double seconds, bool synced);
  uint64_t effects(const std::string& op) const;
  // Gauges read at render time (e.g. workqueue depth).
  void setGaugeSource(std::function<std::string()> extra);
  std::string render(const std::string& controller) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> reconciles_;                       // guarded by mu_
  std::map<std::pair<std::string, std::string>, uint64_t> effects_;  // guarded by mu_
  uint64_t journalRecords_ = 0, journalBytes_ = 0;                   // guarded by mu_
  std::function<std::string()> extra_;                               // guarded by mu_
  Histogram reconcileTime_;
  Histogram fsyncTime_;
};

// HTTPS for an endpoint (controller-runtime's --metrics-secure): the certificate and key
// PEM files, or, when both are "", a self-signed certificate made at start.
struct EndpointTls {
  std::string certFile, keyFile;
};

// "[host]:port", port 0..65535 (0 = any free port; host "" = all addresses). kInvalidArgument
// naming the address and what is wrong.
[[nodiscard]] Status parseBindAddress(const std::string& bind, std::string* host, int* port);

// One HTTP listener on its own thread. `bind` is ":8080", "127.0.0.1:0", "host:port".
class HttpEndpoint {
 public:
  using Handler = std::function<std::pair<int, std::string>()>;  // (status, body)
  HttpEndpoint();
  // Serve HTTPS instead: call before handle(). Errors name the file and what is wrong.
  [[nodiscard]] Status useTls(const EndpointTls& tls);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;
  // Asked before routing, for every request (any path or method, known or not), with its
  // Authorization header ("" if none), method and path: status 0 = go on; else answer that
  // status and plain-text body. Call after useTls().
  using Filter = std::function<std::pair<int, std::string>(const std::string& authorization, const std::string& method,
                                                           const std::string& path)>;
  void setFilter(Filter filter);
  void handle(const std::string& path, Handler handler, const std::string& contentType = "text/plain");
  [[nodiscard]] Status start(const std::string& bind);
  int port() const { return port_; }
  void stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace spr::runtime
