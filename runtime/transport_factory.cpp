// The real TransportFactory: curl transports pooled by server and credential, each effect
// recording through its own RecordingTransport. Declared in runtime/effects.h.
#include <list>
#include <map>
#include <mutex>

#include "adapters/k8s/curl_transport.h"
#include "runtime/effects.h"
#include "runtime/object_util.h"
#include "runtime/recording_transport.h"

namespace spr::runtime {
namespace {

// Pools curl transports by server + credential digest so TLS connections are reused
// across effects; each effect still gets its own RecordingTransport (and tape), so
// pooling never changes which requests are made or recorded. The pool keeps the most
// recently used kMaxPooled transports: with one MCP cluster per request, an unbounded pool
// held a keep-alive connection per cluster and ran the process out of file descriptors
// (10,000 requests: "Too many open files" on the journal). An evicted transport closes its
// connections once the last effect using it is done.
class RealTransportFactory : public TransportFactory {
 public:
  static constexpr size_t kMaxPooled = 256;
  explicit RealTransportFactory(std::shared_ptr<const std::atomic<bool>> abort) : abort_(std::move(abort)) {}

  Result<std::unique_ptr<k8s::Transport>> make(const std::string& clusterName, const k8s::ClusterConfig& config,
                                               Tape* tape) override {
    std::string key = fnv1aHex(config.server + "\n" + config.caData + "\n" + config.clientCertData + "\n" +
                               config.clientKeyData + "\n" + config.bearerToken + "\n" + config.tokenFile +
                               (config.insecureSkipTlsVerify ? "\ninsecure" : ""));
    std::shared_ptr<k8s::Transport> inner = lookup(key);
    if (!inner) {
      k8s::CurlOptions options;  // default timeouts
      options.abort = abort_;
      auto made = k8s::makeCurlTransport(config, options);
      if (!made) return made.status();
      inner = std::shared_ptr<k8s::Transport>(std::move(*made));
      insert(key, inner);
    }
    return std::unique_ptr<k8s::Transport>(std::make_unique<RecordingTransport>(clusterName, inner, tape));
  }

 private:
  struct Entry {
    std::shared_ptr<k8s::Transport> transport;
    std::list<std::string>::iterator age;
  };

  std::shared_ptr<k8s::Transport> lookup(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pool_.find(key);
    if (it == pool_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.age);  // most recently used first
    return it->second.transport;
  }

  void insert(const std::string& key, std::shared_ptr<k8s::Transport> transport) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pool_.count(key)) return;  // another worker made one meanwhile; theirs stays pooled
    order_.push_front(key);
    pool_.emplace(key, Entry{std::move(transport), order_.begin()});
    while (pool_.size() > kMaxPooled) {
      pool_.erase(order_.back());
      order_.pop_back();
    }
  }

  const std::shared_ptr<const std::atomic<bool>> abort_;
  std::mutex mu_;
  std::map<std::string, Entry> pool_;  // guarded by mu_
  std::list<std::string> order_;       // guarded by mu_; keys, most recently used first
};

}  // namespace

std::unique_ptr<TransportFactory> realTransportFactory(std::shared_ptr<const std::atomic<bool>> abort) {
  return std::make_unique<RealTransportFactory>(std::move(abort));
}

}  // namespace spr::runtime
