// How spr talks to one API server over libcurl: the URL (server path prefix kept), TLS
// (CA data/file, client certificate and key as data or files, insecure-skip-tls-verify) and
// the Authorization header (bearer token, or a token file re-read when it changes). Shared by
// the request Transport and the Watcher. Thread-safe (the token cache is mutex-guarded).
#pragma once

#include <curl/curl.h>

#include <ctime>
#include <memory>
#include <mutex>
#include <string>

#include "adapters/k8s/config.h"

namespace spr::k8s {

void ensureCurlGlobalInit();

// Owns a curl_slist; frees it on destruction.
struct CurlHeaders {
  curl_slist* list = nullptr;
  CurlHeaders() = default;
  CurlHeaders(const CurlHeaders&) = delete;
  CurlHeaders& operator=(const CurlHeaders&) = delete;
  ~CurlHeaders() { curl_slist_free_all(list); }
  void add(const std::string& header) { list = curl_slist_append(list, header.c_str()); }
  void reset() {
    curl_slist_free_all(list);
    list = nullptr;
  }
};

class CurlCluster {
 public:
  // Checks that the config can be used (server URL, readable CA/cert/key/token files).
  [[nodiscard]] static Result<std::shared_ptr<CurlCluster>> make(const ClusterConfig& config);

  std::string url(const std::string& path) const { return server_ + path; }
  const std::string& name() const { return config_.name; }
  // Sets TLS options on `easy` and adds Accept/Authorization headers to `headers`.
  [[nodiscard]] Status apply(CURL* easy, CurlHeaders& headers);

  explicit CurlCluster(ClusterConfig config);

 private:
  Result<std::string> token();

  ClusterConfig config_;
  std::string server_;  // without a trailing '/'
  std::mutex mu_;
  std::string cachedToken_;  // guarded by mu_: tokenFile's content as of cachedMtime_
  std::timespec cachedMtime_{};
};

// Why a transfer failed, for logs and errors: curl's detail plus what it means and what to
// check ("TLS: the server certificate is not trusted ...", "DNS: ...", "connection refused").
std::string describeCurlError(CURLcode code, const char* errorBuffer);

// Lower-cases header names and trims values; a header callback target for curl.
size_t collectHeader(char* data, size_t size, size_t count, void* headersMap);

}  // namespace spr::k8s
