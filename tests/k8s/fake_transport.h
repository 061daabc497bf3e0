// FakeTransport: a scripted Transport for Client tests. Answers requests from a queue of
// responses (or errors) and records every request it was sent. Thread-safe.
#pragma once

#include <deque>
#include <mutex>
#include <vector>

#include "adapters/k8s/transport.h"

namespace spr::k8s::testing {

class FakeTransport : public Transport {
 public:
  void push(int status, std::string body, std::map<std::string, std::string> headers = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_.push_back(HttpResponse{status, std::move(body), std::move(headers)});
  }
  void pushError(Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_.push_back(std::move(status));
  }
  Result<HttpResponse> roundTrip(const HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    if (answers_.empty()) return Status(Code::kInternal, "FakeTransport: no scripted answer for " + request.path);
    Result<HttpResponse> answer = answers_.front();
    answers_.pop_front();
    return answer;
  }
  std::string clusterName() const override { return "fake"; }
  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<Result<HttpResponse>> answers_;
  std::vector<HttpRequest> requests_;
};

}  // namespace spr::k8s::testing
