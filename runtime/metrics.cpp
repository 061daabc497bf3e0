#include "runtime/metrics.h"

#include <httplib.h>
#include <sys/socket.h>

#include <fstream>
#include <sstream>

#include "common/memory.h"
#include "common/tls.h"

namespace spr::runtime {
namespace {

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

std::vector<double> secondsBuckets() {
  return {0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}

void Histogram::observe(double value) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(const std::string& name, const std::string& labels, std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sep = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    *out += name + "_bucket{" + sep + "le=\"" + fmt(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += counts_.back();
  *out += name + "_bucket{" + sep + "le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  *out += name + "_sum" + braces + " " + fmt(sum_) + "\n";
  *out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

Metrics::Metrics() : reconcileTime_(secondsBuckets()), fsyncTime_(secondsBuckets()) {}

void Metrics::reconcile(const std::string& result, double seconds) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++reconciles_[result];
  }
  reconcileTime_.observe(seconds);
}

void Metrics::effect(const std::string& op, const std::string& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  ++effects_[{op, outcome}];
}

void Metrics::journalAppend(uint64_t records, uint64_t bytes, double seconds, bool synced) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    journalRecords_ += records;
    journalBytes_ += bytes;
  }
  if (synced) fsyncTime_.observe(seconds);
}

uint64_t Metrics::effects(const std::string& op) const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = 0;
  for (const auto& [key, count] : effects_)
    if (key.first == op) n += count;
  return n;
}

void Metrics::setGaugeSource(std::function<std::string()> extra) {
  std::lock_guard<std::mutex> lock(mu_);
  extra_ = std::move(extra);
}

std::string Metrics::render(const std::string& controller) const {
  std::string out;
  std::string ctl = "controller=\"" + controller + "\"";
  std::function<std::string()> extra;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out += "# TYPE controller_runtime_reconcile_total counter\n";
    for (const char* r : {"success", "error", "requeue", "requeue_after"}) {
      auto it = reconciles_.find(r);
      out += "controller_runtime_reconcile_total{" + ctl + ",result=\"" + r + "\"} " +
             std::to_string(it == reconciles_.end() ? 0 : it->second) + "\n";
    }
    out += "# TYPE spr_effects_total counter\n";
    for (const auto& [key, count] : effects_)
      out +=
          "spr_effects_total{op=\"" + key.first + "\",outcome=\"" + key.second + "\"} " + std::to_string(count) + "\n";
    out +=
        "# TYPE spr_journal_records_total counter\nspr_journal_records_total " + std::to_string(journalRecords_) + "\n";
    out += "# TYPE spr_journal_bytes counter\nspr_journal_bytes " + std::to_string(journalBytes_) + "\n";
    extra = extra_;
  }
  out += "# TYPE controller_runtime_reconcile_time_seconds histogram\n";
  reconcileTime_.render("controller_runtime_reconcile_time_seconds", ctl, &out);
  out += "# TYPE spr_journal_fsync_seconds histogram\n";
  fsyncTime_.render("spr_journal_fsync_seconds", "", &out);
  out += "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes " +
         std::to_string(memory::residentBytes()) + "\n";
  if (extra) out += extra();
  return out;
}

HttpEndpoint::HttpEndpoint() : server_(std::make_unique<httplib::Server>()) {}

Status HttpEndpoint::useTls(const EndpointTls& tls) {
  if (tls.certFile.empty() && tls.keyFile.empty()) {
    tls::KeyPtr key = tls::newKey();
    tls::CertPtr cert =
        key ? tls::newCert("spr-metrics", key.get(), nullptr, key.get(), 1, tls::CertKind::kServer) : nullptr;
    if (!cert)
      return Status(Code::kInternal, "OpenSSL could not make a self-signed certificate for the metrics endpoint");
    server_ = std::make_unique<httplib::SSLServer>(cert.get(), key.get());  // copies both
  } else {
    for (const auto& [file, what] : {std::pair{tls.certFile, "certificate"}, std::pair{tls.keyFile, "key"}}) {
      std::ifstream in(file);
      if (file.empty() || !in)
        return Status(Code::kInvalidArgument, std::string("metrics TLS ") + what + " file \"" + file +
                                                  "\" cannot be read; give --metrics-cert-path DIR holding tls.crt and "
                                                  "tls.key, or leave it out for a self-signed certificate");
    }
    server_ = std::make_unique<httplib::SSLServer>(tls.certFile.c_str(), tls.keyFile.c_str());
  }
  if (!server_->is_valid())
    return Status(Code::kInvalidArgument, "metrics TLS: \"" + tls.certFile + "\" and \"" + tls.keyFile +
                                              "\" are not a PEM certificate and its private key");
  return Status();
}

HttpEndpoint::~HttpEndpoint() { stop(); }

void HttpEndpoint::setFilter(Filter filter) {
  server_->set_pre_routing_handler([filter = std::move(filter)](const httplib::Request& req, httplib::Response& res) {
    auto [status, body] = filter(req.get_header_value("Authorization"), req.method, req.path);
    if (status == 0) return httplib::Server::HandlerResponse::Unhandled;
    res.status = status;
    res.set_content(body, "text/plain; charset=utf-8");
    return httplib::Server::HandlerResponse::Handled;
  });
}

void HttpEndpoint::handle(const std::string& path, Handler handler, const std::string& contentType) {
  server_->Get(path, [handler, contentType](const httplib::Request&, httplib::Response& res) {
    auto [status, body] = handler();
    res.status = status;
    res.set_content(body, contentType.c_str());
  });
}

// "[host]:port" with port 0..65535 (0 = any free port). kInvalidArgument naming the address.
Status parseBindAddress(const std::string& bind, std::string* host, int* port) {
  auto colon = bind.rfind(':');
  if (colon == std::string::npos)
    return Status(Code::kInvalidArgument, "bind address \"" + bind + "\" must be [host]:port, e.g. 127.0.0.1:8080");
  *host = bind.substr(0, colon);
  if (host->empty()) *host = "0.0.0.0";
  std::string digits = bind.substr(colon + 1);
  bool numeric = !digits.empty() && digits.size() <= 5 && digits.find_first_not_of("0123456789") == std::string::npos;
  *port = numeric ? std::stoi(digits) : -1;
  if (*port < 0 || *port > 65535)
    return Status(Code::kInvalidArgument,
                  "bind address \"" + bind + "\": the port must be a number from 0 to 65535 (0 = any free port)");
  return Status();
}

Status HttpEndpoint::start(const std::string& bind) {
  std::string host;
  int port = 0;
  SPR_RETURN_IF_ERROR(parseBindAddress(bind, &host, &port));
  // SO_REUSEADDR only: cpp-httplib also sets SO_REUSEPORT, which lets a second process bind
  // the same port and take half the scrapes.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    (void)setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(host.c_str());
  } else {
    port_ = server_->bind_to_port(host.c_str(), port) ? port : -1;
  }
  if (port_ <= 0)
    return Status(Code::kInvalidArgument, "cannot listen on " + bind +
                                              ": the port is in use or the host is not an address of this machine; "
                                              "choose another address");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status();
}

void HttpEndpoint::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace spr::runtime
