// The libcurl Transport: one round trip per call on a pooled easy handle.
#include "adapters/k8s/curl_transport.h"

#include <mutex>
#include <vector>

#include "adapters/k8s/curl_common.h"

namespace spr::k8s {
namespace {

using EasyHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

size_t appendBody(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

// CURLOPT_XFERINFOFUNCTION: non-zero ends the transfer with CURLE_ABORTED_BY_CALLBACK.
int checkAbort(void* abort, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(abort)->load() ? 1 : 0;
}

class CurlTransport : public Transport {
 public:
  CurlTransport(std::shared_ptr<CurlCluster> cluster, CurlOptions options)
      : cluster_(std::move(cluster)), options_(options) {}

  Result<HttpResponse> roundTrip(const HttpRequest& request) override {
    EasyHandle easy = acquire();
    if (!easy) return Status(Code::kInternal, "curl_easy_init failed");
    auto result = perform(easy.get(), request);
    release(std::move(easy));
    return result;
  }

  std::string clusterName() const override { return cluster_->name(); }

 private:
  Result<HttpResponse> perform(CURL* easy, const HttpRequest& request) {
    if (options_.abort && options_.abort->load()) return aborted(request);
    curl_easy_reset(easy);
    CurlHeaders headers;
    SPR_RETURN_IF_ERROR(cluster_->apply(easy, headers));
    headers.add("Content-Type: " +
                (request.contentType.empty() ? std::string("application/json") : request.contentType));
    const std::string url = cluster_->url(request.path);
    HttpResponse response;
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    } else if (request.method == "HEAD") {
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.list);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, appendBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, collectHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &response.headers);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, options_.connectTimeoutMs);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, options_.requestTimeoutMs);
    if (options_.abort) {
      curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, checkAbort);
      curl_easy_setopt(easy, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(options_.abort.get()));
    }
    CURLcode code = curl_easy_perform(easy);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
    if (code == CURLE_ABORTED_BY_CALLBACK) return aborted(request);
    if (code != CURLE_OK)
      return Status(Code::kUnavailable, "cluster " + cluster_->name() + ": " + request.method + " " + url + ": " +
                                            describeCurlError(code, error));
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

  Status aborted(const HttpRequest& request) const {
    return Status(Code::kUnavailable,
                  "cluster " + cluster_->name() + ": " + request.method + " " + request.path + ": " + kAbortedMessage);
  }

  EasyHandle acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pool_.empty()) {
        EasyHandle easy = std::move(pool_.back());
        pool_.pop_back();
        return easy;
      }
    }
    return EasyHandle(curl_easy_init(), &curl_easy_cleanup);
  }

  void release(EasyHandle easy) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pool_.size() < kMaxPooled) pool_.push_back(std::move(easy));
  }

  static constexpr size_t kMaxPooled = 16;
  std::shared_ptr<CurlCluster> cluster_;
  CurlOptions options_;
  std::mutex mu_;
  std::vector<EasyHandle> pool_;  // guarded by mu_: idle handles keep their connections alive
};

}  // namespace

Result<std::unique_ptr<Transport>> makeCurlTransport(const ClusterConfig& config, CurlOptions options) {
  auto cluster = CurlCluster::make(config);
  if (!cluster.isOk()) return cluster.status();
  return std::unique_ptr<Transport>(std::make_unique<CurlTransport>(std::move(*cluster), options));
}

}  // namespace spr::k8s
