#include "runtime/recording_transport.h"

#include "adapters/k8s/redact.h"

namespace spr::runtime {

void Tape::add(journal::TapeEntry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(std::move(entry));
}

std::vector<journal::TapeEntry> Tape::take() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(entries_);
}

RecordingTransport::RecordingTransport(std::string cluster, std::shared_ptr<k8s::Transport> inner, Tape* tape)
    : cluster_(std::move(cluster)), inner_(std::move(inner)), tape_(tape) {}

Result<k8s::HttpResponse> RecordingTransport::roundTrip(const k8s::HttpRequest& request) {
  auto response = inner_->roundTrip(request);
  journal::TapeEntry entry;
  entry.cluster = cluster_;
  entry.method = request.method;
  entry.path = request.path;
  entry.requestBody = k8s::redactText(request.body);
  if (response) {
    entry.status = response->status;
    entry.responseBody = k8s::redactText(response->body);
  } else {
    entry.error = response.status().toString();
  }
  tape_->add(std::move(entry));
  return response;
}

}  // namespace spr::runtime
