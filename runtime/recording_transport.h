// RecordingTransport: wraps a k8s::Transport and appends every request/response it
// carries to a Tape, with bodies passed through k8s::redactText (no token or Secret data
// in clear). A Tape is shared by the transports of one effect; it is guarded by a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/k8s/transport.h"
#include "core/journal/record.h"

namespace spr::runtime {

class Tape {
 public:
  void add(journal::TapeEntry entry);
  std::vector<journal::TapeEntry> take();

 private:
  std::mutex mu_;
  std::vector<journal::TapeEntry> entries_;  // guarded by mu_
};

class RecordingTransport : public k8s::Transport {
 public:
  // `inner` may be shared (pooled); `tape` must outlive this transport.
  RecordingTransport(std::string cluster, std::shared_ptr<k8s::Transport> inner, Tape* tape);
  Result<k8s::HttpResponse> roundTrip(const k8s::HttpRequest& request) override;
  std::string clusterName() const override { return cluster_; }

 private:
  std::string cluster_;
  std::shared_ptr<k8s::Transport> inner_;
  Tape* tape_;
};

}  // namespace spr::runtime
