// TestApiServer: a tiny scripted kube-apiserver on 127.0.0.1 (cpp-httplib, plain http) for
// the Watcher and curl Transport tests. Per collection path it serves a list (paginated by
// `limit`) and watch connections that follow queued Plans (lines, then close / hold / 410 /
// 401); other methods, and GETs below /echo, are echoed back as JSON. Records every request. Thread-safe.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <vector>

namespace spr::k8s::testing {

struct Plan {
  enum class End { kClose, kHold, kHttp410, kHttp401, kHttp503 };
  std::vector<std::string> lines;  // watch events, one JSON per line
  End end = End::kClose;
  std::optional<std::map<std::string, std::string>> objectsAfter;  // name -> rv, applied when it runs
};

struct Recorded {
  std::string method, path;
  std::map<std::string, std::string> params, headers;
  std::string body;
};

inline std::string event(const std::string& type, const std::string& name, const std::string& rv,
                         const std::string& ns = "t1") {
  nlohmann::json object = {{"kind", "Pod"},
                           {"apiVersion", "v1"},
                           {"metadata", {{"name", name}, {"namespace", ns}, {"resourceVersion", rv}}}};
  if (type == "BOOKMARK") object["metadata"] = {{"resourceVersion", rv}};
  return nlohmann::json{{"type", type}, {"object", object}}.dump();
}

class TestApiServer {
 public:
  TestApiServer() {
    server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) { onGet(req, res); });
    auto echo = [this](const httplib::Request& req, httplib::Response& res) { this->echo(req, res); };
    server_.Post(".*", echo);
    server_.Put(".*", echo);
    server_.Patch(".*", echo);
    server_.Delete(".*", echo);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~TestApiServer() {
    shutdown_ = true;
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void setObjects(const std::string& path, std::map<std::string, std::string> objects, std::string listRv) {
    std::lock_guard<std::mutex> lock(mu_);
    state_[path].objects = std::move(objects);
    state_[path].listRv = std::move(listRv);
  }
  void plan(const std::string& path, Plan plan) {
    std::lock_guard<std::mutex> lock(mu_);
    state_[path].plans.push_back(std::move(plan));
  }
  std::vector<Recorded> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<Recorded> requestsTo(const std::string& path) const {
    std::vector<Recorded> out;
    for (auto& r : requests())
      if (r.path == path) out.push_back(r);
    return out;
  }
  int openWatches() const { return openWatches_; }
  // Answers for echo(): status, and extra response headers.
  void setEcho(int status, std::map<std::string, std::string> headers) {
    std::lock_guard<std::mutex> lock(mu_);
    echoStatus_ = status;
    echoHeaders_ = std::move(headers);
  }

 private:
  struct PathState {
    std::map<std::string, std::string> objects;
    std::string listRv = "1";
    std::deque<Plan> plans;
  };

  Recorded record(const httplib::Request& req) {
    Recorded r{req.method, req.path, {}, {}, req.body};
    for (auto& [k, v] : req.params) r.params[k] = v;
    for (auto& [k, v] : req.headers) r.headers[k] = v;
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(r);
    return r;
  }

  void onGet(const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/echo", 0) == 0) return echo(req, res);
    Recorded r = record(req);
    if (r.params.count("watch")) return watch(req.path, res);
    std::lock_guard<std::mutex> lock(mu_);
    PathState& s = state_[req.path];
    size_t limit = r.params.count("limit") ? std::stoul(r.params["limit"]) : 0;
    size_t start = r.params.count("continue") ? std::stoul(r.params["continue"]) : 0;
    nlohmann::json items = nlohmann::json::array();
    size_t index = 0;
    for (auto& [name, rv] : s.objects) {
      if (index++ < start) continue;
      if (limit && items.size() == limit) break;
      items.push_back({{"metadata", {{"name", name}, {"namespace", "t1"}, {"resourceVersion", rv}}}});
    }
    nlohmann::json meta = {{"resourceVersion", s.listRv}};
    if (limit && start + items.size() < s.objects.size()) meta["continue"] = std::to_string(start + items.size());
    nlohmann::json list = {{"kind", "PodList"}, {"apiVersion", "v1"}, {"metadata", meta}, {"items", items}};
    res.set_content(list.dump(), "application/json");
  }

  void watch(const std::string& path, httplib::Response& res) {
    Plan plan;
    {
      std::lock_guard<std::mutex> lock(mu_);
      PathState& s = state_[path];
      if (!s.plans.empty()) {
        plan = std::move(s.plans.front());
        s.plans.pop_front();
      } else {
        plan.end = Plan::End::kHold;
      }
      if (plan.objectsAfter) s.objects = *plan.objectsAfter;
    }
    if (plan.end == Plan::End::kHttp410 || plan.end == Plan::End::kHttp401 || plan.end == Plan::End::kHttp503) {
      int code = plan.end == Plan::End::kHttp410 ? 410 : plan.end == Plan::End::kHttp401 ? 401 : 503;
      res.status = code;
      const char* reason = code == 410 ? "Expired" : code == 401 ? "Unauthorized" : "ServiceUnavailable";
      nlohmann::json status = {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                               {"code", code},     {"reason", reason},   {"message", "scripted"}};
      res.set_content(status.dump(), "application/json");
      return;
    }
    auto lines = std::make_shared<std::vector<std::string>>(plan.lines);
    bool hold = plan.end == Plan::End::kHold;
    ++openWatches_;
    res.set_chunked_content_provider(
        "application/json",
        [this, lines, hold, sent = size_t(0)](size_t, httplib::DataSink& sink) mutable {
          if (sent < lines->size()) {
            std::string line = (*lines)[sent++] + "\n";
            return sink.write(line.data(), line.size());
          }
          if (!hold || shutdown_) {
            sink.done();
            return true;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          return sink.is_writable();
        },
        [this](bool) { --openWatches_; });
  }

  void echo(const httplib::Request& req, httplib::Response& res) {
    Recorded r = record(req);
    nlohmann::json out = {
        {"method", r.method}, {"path", r.path}, {"body", r.body}, {"headers", r.headers}, {"params", r.params}};
    std::lock_guard<std::mutex> lock(mu_);
    res.status = echoStatus_;
    for (auto& [k, v] : echoHeaders_) res.set_header(k, v);
    res.set_content(out.dump(), "application/json");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> shutdown_{false};
  std::atomic<int> openWatches_{0};
  mutable std::mutex mu_;
  std::map<std::string, PathState> state_;  // guarded by mu_
  std::vector<Recorded> requests_;          // guarded by mu_
  int echoStatus_ = 200;                    // guarded by mu_
  std::map<std::string, std::string> echoHeaders_;
};

}  // namespace spr::k8s::testing
