// SimServer's implementation: the HTTPS listener, routing to clusters by URL prefix,
// bearer-token auth, the fault injector, watch streaming and the admin endpoint.
//
// Admin endpoint: POST /admin/faults with a JSON body {"errorRate": 0.1, "latencyMs": 50,
// "watchDropRate": 0.5, "expireResourceVersions": true} (fields optional; omitted = 0/false),
// authenticated with the FIRST cluster's bearer token. GET /admin/faults returns them.
#include <httplib.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "common/log.h"
#include "sim/cluster.h"
#include "sim/controllers.h"
#include "sim/kubeconfig.h"
#include "sim/server.h"
#include "sim/tls.h"

namespace spr::sim {

using nlohmann::json;

namespace {

// httplib serves a connection on one pool thread until it has been idle for the keep-alive
// timeout; a connection beyond the pool waits for a thread. spr keeps up to 256 idle
// keep-alive connections (one per recent MCP cluster), so the pool must be larger than that.
constexpr int kWorkerThreads = 512;
constexpr auto kWatchPoll = std::chrono::milliseconds(100);

// A JSON body, or (a string body with a Content-Type header) those bytes as that type.
void writeResponse(httplib::Response& res, const ApiResponse& r) {
  res.status = r.code;
  auto type = r.headers.find("Content-Type");
  for (const auto& [k, v] : r.headers)
    if (k != "Content-Type") res.set_header(k.c_str(), v);
  if (type != r.headers.end() && r.body.is_string())
    return res.set_content(r.body.get<std::string>(), type->second.c_str());
  res.set_content(wireJson(r.body), "application/json");
}

// The token of an "Authorization: Bearer TOKEN" header; the scheme in any case, as
// Kubernetes' bearer-token authenticator reads it. "" when there is none.
std::string bearerToken(const std::string& header) {
  auto space = header.find(' ');
  if (space == std::string::npos) return "";
  std::string scheme = header.substr(0, space);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer") return "";
  std::string token = header.substr(space + 1);
  return token.substr(0, token.find(' '));
}

std::string mediaType(const std::string& contentType) {
  std::string t = contentType.substr(0, contentType.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

bool validClusterName(const std::string& n) {
  if (n.empty() || n.size() > 63) return false;
  for (char c : n)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
      return false;
  return n.front() != '-' && n.back() != '-';
}

json faultsJson(const FaultOptions& f) {
  return {{"errorRate", f.errorRate},
          {"latencyMs", f.latencyMs},
          {"watchDropRate", f.watchDropRate},
          {"expireResourceVersions", f.expireResourceVersions}};
}

// State shared between a watch's content provider calls (one connection).
struct WatchState {
  Cluster* cluster;
  WatchCursor cursor;
  bool initialSent = false;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::steady_clock::time_point nextBookmark;
};

class SimServerImpl final : public SimServer, public ClusterHost {
 public:
  explicit SimServerImpl(SimOptions options) : options_(std::move(options)), rng_(std::random_device{}()) {}
  ~SimServerImpl() override { stop(); }

  Status init();
  int port() const override { return port_; }
  std::string baseUrl() const override { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string kubeconfigYaml() const override;
  std::vector<std::string> clusterNames() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return order_;
  }
  std::string addCluster(const std::string& name) override;
  void setFaults(const FaultOptions& faults) override;
  void stop() override;

  Cluster* findCluster(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = clusters_.find(name);
    return it == clusters_.end() ? nullptr : it->second.get();
  }
  std::string grantAccess(const std::string& cluster, const json& permissions, const std::string& user,
                          std::string* token) override;
  void revokeAccess(const std::string& cluster, const std::string& token) override {
    if (Cluster* c = findCluster(cluster)) c->removeToken(token);
  }

 private:
  // The cluster `token` is a credential of (each token belongs to one), or nullptr.
  Cluster* clusterAuthorizing(const std::string& token) {
    if (token.empty()) return nullptr;
    std::vector<Cluster*> all;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [name, cluster] : clusters_) all.push_back(cluster.get());
    }
    for (Cluster* c : all)
      if (c->authorized(token)) return c;
    return nullptr;
  }
  void route(const httplib::Request& req, httplib::Response& res);
  void admin(const httplib::Request& req, httplib::Response& res);
  bool injectFault(httplib::Response& res);
  void serveWatch(Cluster& cluster, const ApiRequest& request, httplib::Response& res);
  bool pumpWatch(WatchState& state, httplib::DataSink& sink);
  FaultOptions faults() const {
    std::lock_guard<std::mutex> lock(mu_);
    return faults_;
  }
  double random01() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::uniform_real_distribution<double>(0, 1)(rng_);
  }

  const SimOptions options_;
  TlsMaterial tls_;
  std::unique_ptr<httplib::SSLServer> http_;
  std::unique_ptr<Controllers> controllers_;
  std::thread listener_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Cluster>> clusters_;  // guarded by mu_; never shrinks
  std::vector<std::string> order_;                            // guarded by mu_
  FaultOptions faults_;                                       // guarded by mu_
  std::mt19937_64 rng_;                                       // guarded by mu_
};

Status SimServerImpl::init() {
  auto tls = TlsMaterial::generate();
  if (!tls) return tls.status();
  tls_ = std::move(*tls);
  controllers_ = std::make_unique<Controllers>(*this, options_.deploymentReadyDelayMs);
  if (options_.clusters.empty()) return Status(Code::kInvalidArgument, "--clusters: give at least one cluster name");
  for (const auto& name : options_.clusters) {
    if (!validClusterName(name))
      return Status(Code::kInvalidArgument,
                    "--clusters: \"" + name + "\" is not a valid cluster name (lower-case letters, digits and '-')");
    if (findCluster(name)) return Status(Code::kInvalidArgument, "--clusters: \"" + name + "\" is listed twice");
    addCluster(name);
  }
  size_t colon = options_.listen.rfind(':');
  if (colon == std::string::npos)
    return Status(Code::kInvalidArgument, "--listen \"" + options_.listen + "\": expected HOST:PORT, e.g. 127.0.0.1:0");
  std::string host = options_.listen.substr(0, colon);
  int port = std::atoi(options_.listen.substr(colon + 1).c_str());
  http_ = std::make_unique<httplib::SSLServer>(tls_.serverCert.get(), tls_.serverKey.get());
  if (!http_->is_valid()) return Status(Code::kInternal, "could not set up the TLS server context");
  // httplib owns the queue it gets from this factory (its API takes a raw pointer).
  http_->new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  http_->set_payload_max_length(64 * 1024 * 1024);
  http_->set_keep_alive_timeout(5);
  // Without TCP_NODELAY every response waits ~40 ms (Nagle against the client's delayed ACK);
  // and httplib closes a keep-alive connection after 5 requests by default.
  http_->set_tcp_nodelay(true);
  http_->set_keep_alive_max_count(100000);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { route(req, res); };
  http_->Get(".*", handler).Post(".*", handler).Put(".*", handler).Patch(".*", handler).Delete(".*", handler);
  port_ = port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host.c_str(), port) ? port : -1);
  if (port_ <= 0)
    return Status(Code::kUnavailable, "cannot listen on " + options_.listen + " (address in use or not local?)");
  listener_ = std::thread([this] { http_->listen_after_bind(); });
  for (int i = 0; i < 500 && !http_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  setFaults(options_.faults);
  for (const auto& name : options_.clusters) {
    if (name == "platform") controllers_->installProviderCrds(name);
    if (name == "onboarding") controllers_->installMcpCrd(name);
  }
  controllers_->start();
  return Status();
}

std::string SimServerImpl::addCluster(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = clusters_.find(name);
  if (it != clusters_.end()) return it->second->token();
  auto cluster = std::make_unique<Cluster>(name, randomToken(), options_.watchWindow, [this](const Change& change) {
    if (controllers_) controllers_->notify(change);
  });
  cluster->setExpireResourceVersions(faults_.expireResourceVersions);
  std::string token = cluster->token();
  clusters_.emplace(name, std::move(cluster));
  order_.push_back(name);
  return token;
}

std::string SimServerImpl::grantAccess(const std::string& name, const json& permissions, const std::string& user,
                                       std::string* tokenOut) {
  Cluster* c = findCluster(name);
  if (!c) return "";
  std::string token = randomToken();
  c->addToken(token, permissions, user);
  if (tokenOut) *tokenOut = token;
  return sim::kubeconfigYaml({{name, baseUrl() + c->prefix(), token}}, tls_.caPem);
}

std::string SimServerImpl::kubeconfigYaml() const {
  std::vector<KubeconfigEntry> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& n : order_)
      entries.push_back({n, baseUrl() + clusters_.at(n)->prefix(), clusters_.at(n)->token()});
  }
  return sim::kubeconfigYaml(entries, tls_.caPem);
}

void SimServerImpl::setFaults(const FaultOptions& f) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_ = f;
  for (auto& [name, c] : clusters_) c->setExpireResourceVersions(f.expireResourceVersions);
}

void SimServerImpl::stop() {
  if (stopped_.exchange(true)) return;
  stopping_ = true;
  if (controllers_) controllers_->stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, c] : clusters_) c->wakeWatchers();
  }
  if (http_) http_->stop();
  if (listener_.joinable()) listener_.join();
}

bool SimServerImpl::injectFault(httplib::Response& res) {
  FaultOptions f = faults();
  if (f.latencyMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(f.latencyMs));
  if (f.errorRate <= 0 || random01() >= f.errorRate) return false;
  static const struct {
    int code;
    const char* reason;
    const char* message;
  } kErrors[] = {{500, "InternalError", "Internal error occurred: injected fault"},
                 {503, "ServiceUnavailable", "the server is currently unable to handle the request (injected fault)"},
                 {429, "TooManyRequests", "Too many requests, please try again later. (injected fault)"}};
  const auto& e = kErrors[static_cast<size_t>(random01() * 3) % 3];
  ApiResponse r = failure(e.code, e.reason, e.message);
  r.body["details"] = {{"retryAfterSeconds", 1}};
  r.headers["Retry-After"] = "1";
  writeResponse(res, r);
  return true;
}

void SimServerImpl::admin(const httplib::Request& req, httplib::Response& res) {
  Cluster* first = findCluster(clusterNames().front());
  if (!first->authorized(bearerToken(req.get_header_value("Authorization")))) return writeResponse(res, unauthorized());
  if (req.method == "POST") {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return writeResponse(res, badRequest("POST /admin/faults: body must be a JSON object like {\"errorRate\":0.1}"));
    FaultOptions f;
    f.errorRate = body.value("errorRate", 0.0);
    f.latencyMs = body.value("latencyMs", 0L);
    f.watchDropRate = body.value("watchDropRate", 0.0);
    f.expireResourceVersions = body.value("expireResourceVersions", false);
    setFaults(f);
  }
  writeResponse(res, ApiResponse{200, faultsJson(faults()), {}});
}

void SimServerImpl::route(const httplib::Request& req, httplib::Response& res) {
  if (req.path == "/admin/faults") return admin(req, res);
  const std::string kPrefix = "/clusters/";
  const std::string token = bearerToken(req.get_header_value("Authorization"));
  const bool prefixed = req.path.rfind(kPrefix, 0) == 0;
  size_t slash = prefixed ? req.path.find('/', kPrefix.size()) : 0;
  Cluster* cluster = nullptr;
  if (prefixed)
    cluster = findCluster(
        req.path.substr(kPrefix.size(), slash == std::string::npos ? std::string::npos : slash - kPrefix.size()));
  else
    cluster = clusterAuthorizing(token);  // `kubectl get --raw /api/...` drops the server URL's path
  // Authenticate before saying what exists, as kube-apiserver does: without a token some
  // cluster accepts, an unknown cluster (or path) is 401 like a known one, not 404.
  if (!cluster) return writeResponse(res, clusterAuthorizing(token) ? noSuchPath() : unauthorized());
  if (!cluster->authorized(token)) return writeResponse(res, unauthorized());
  ApiRequest r;
  r.method = req.method;
  r.path = slash == std::string::npos ? "/" : req.path.substr(slash);
  for (const auto& [k, v] : req.params) r.query.emplace(k, v);
  r.contentType = mediaType(req.get_header_value("Content-Type"));
  r.accept = req.get_header_value("Accept");
  r.body = req.body;
  r.bearerToken = token;
  r.impersonateUser = req.get_header_value("Impersonate-User");
  for (size_t i = 0; i < req.get_header_value_count("Impersonate-Group"); ++i)
    r.impersonateGroups.push_back(req.get_header_value("Impersonate-Group", i));
  if (auto denied = cluster->checkAccess(token, r)) return writeResponse(res, *denied);
  bool watch = Cluster::isWatch(r);
  if (!watch && injectFault(res)) return;
  if (watch) {
    FaultOptions f = faults();
    if (f.latencyMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(f.latencyMs));
    return serveWatch(*cluster, r, res);
  }
  writeResponse(res, cluster->handle(r));
}

void SimServerImpl::serveWatch(Cluster& cluster, const ApiRequest& request, httplib::Response& res) {
  auto state = std::make_shared<WatchState>();
  state->cluster = &cluster;
  if (auto err = cluster.openWatch(request, state->cursor)) return writeResponse(res, *err);
  long timeout = std::atol(request.param("timeoutSeconds").c_str());
  auto now = std::chrono::steady_clock::now();
  state->deadline = timeout > 0 ? now + std::chrono::seconds(timeout) : std::chrono::steady_clock::time_point::max();
  state->nextBookmark = now + std::chrono::milliseconds(options_.bookmarkIntervalMs);
  res.status = 200;
  // The ";stream=watch" parameter also keeps httplib from gzip-buffering the stream.
  res.set_chunked_content_provider("application/json;stream=watch",
                                   [this, state](size_t, httplib::DataSink& sink) { return pumpWatch(*state, sink); });
}

// One round of a watch stream; false ends the connection without a clean close.
bool SimServerImpl::pumpWatch(WatchState& s, httplib::DataSink& sink) {
  auto send = [&](const std::string& line) { return sink.write(line.data(), line.size()); };
  if (!s.initialSent) {
    s.initialSent = true;
    for (const auto& l : s.cursor.initialLines)
      if (!send(l)) return false;
    s.cursor.initialLines.clear();
    if (s.cursor.finished) {
      sink.done();
      return true;
    }
  }
  if (stopping_ || std::chrono::steady_clock::now() >= s.deadline) {
    sink.done();
    return true;
  }
  FaultOptions f = faults();
  double pollSeconds = std::chrono::duration<double>(kWatchPoll).count();
  if (f.watchDropRate > 0 && random01() < f.watchDropRate * pollSeconds) return false;  // abrupt close
  bool ended = false;
  for (const auto& l : s.cluster->pollWatch(s.cursor, kWatchPoll, ended))
    if (!send(l)) return false;
  if (ended) {
    sink.done();
    return true;
  }
  auto now = std::chrono::steady_clock::now();
  if (s.cursor.bookmarks && now >= s.nextBookmark) {
    s.nextBookmark = now + std::chrono::milliseconds(options_.bookmarkIntervalMs);
    if (!send(s.cluster->bookmarkLine(s.cursor))) return false;
  }
  return sink.is_writable();
}

}  // namespace

Result<std::unique_ptr<SimServer>> SimServer::start(const SimOptions& options) {
  auto server = std::make_unique<SimServerImpl>(options);
  Status s = server->init();
  if (!s.isOk()) return s;
  return std::unique_ptr<SimServer>(std::move(server));
}

}  // namespace spr::sim
