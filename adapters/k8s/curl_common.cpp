#include "adapters/k8s/curl_common.h"

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>

#include "adapters/k8s/encoding.h"

namespace spr::k8s {
namespace {

Status checkReadable(const std::string& path, const std::string& field, const ClusterConfig& config) {
  if (path.empty()) return Status::ok();
  std::ifstream in(path);
  if (!in)
    return Status(Code::kInvalidArgument, "cluster " + config.name + " (" + config.source + "): " + field + " " + path +
                                              " cannot be read; check the path and its permissions");
  return Status::ok();
}

void setBlob(CURL* easy, CURLoption option, const std::string& data) {
  curl_blob blob{const_cast<char*>(data.data()), data.size(), CURL_BLOB_COPY};
  curl_easy_setopt(easy, option, &blob);
}

std::string trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

void ensureCurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlCluster::CurlCluster(ClusterConfig config) : config_(std::move(config)), server_(config_.server) {
  while (!server_.empty() && server_.back() == '/') server_.pop_back();
}

Result<std::shared_ptr<CurlCluster>> CurlCluster::make(const ClusterConfig& config) {
  if (config.server.empty())
    return Status(Code::kInvalidArgument, "cluster " + config.name + " (" + config.source +
                                              "): no server URL; set the kubeconfig cluster's `server`");
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0)
    return Status(Code::kInvalidArgument,
                  "cluster " + config.name + ": server \"" + config.server + "\" must start with https:// or http://");
  SPR_RETURN_IF_ERROR(checkReadable(config.caFile, "certificate-authority file", config));
  SPR_RETURN_IF_ERROR(checkReadable(config.clientCertFile, "client-certificate file", config));
  SPR_RETURN_IF_ERROR(checkReadable(config.clientKeyFile, "client-key file", config));
  SPR_RETURN_IF_ERROR(checkReadable(config.tokenFile, "token file", config));
  ensureCurlGlobalInit();
  return std::make_shared<CurlCluster>(config);
}

// The token file is re-read when its mtime changes (projected service-account tokens rotate).
Result<std::string> CurlCluster::token() {
  if (!config_.bearerToken.empty()) return config_.bearerToken;
  if (config_.tokenFile.empty()) return std::string();
  struct stat st {};
  std::lock_guard<std::mutex> lock(mu_);
  if (::stat(config_.tokenFile.c_str(), &st) != 0)
    return Status(Code::kUnauthorized, "cluster " + config_.name + ": token file " + config_.tokenFile +
                                           " is gone; check the mounted service-account token");
  if (st.st_mtim.tv_sec != cachedMtime_.tv_sec || st.st_mtim.tv_nsec != cachedMtime_.tv_nsec || cachedToken_.empty()) {
    std::ifstream in(config_.tokenFile);
    std::ostringstream text;
    text << in.rdbuf();
    cachedToken_ = trim(text.str());
    cachedMtime_ = st.st_mtim;
  }
  return cachedToken_;
}

Status CurlCluster::apply(CURL* easy, CurlHeaders& headers) {
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROXY, "");  // never through an environment proxy
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  if (!config_.caData.empty()) setBlob(easy, CURLOPT_CAINFO_BLOB, config_.caData);
  if (!config_.caFile.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, config_.caFile.c_str());
  if (!config_.clientCertData.empty()) {
    setBlob(easy, CURLOPT_SSLCERT_BLOB, config_.clientCertData);
    curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (!config_.clientCertFile.empty()) {
    curl_easy_setopt(easy, CURLOPT_SSLCERT, config_.clientCertFile.c_str());
  }
  if (!config_.clientKeyData.empty()) {
    setBlob(easy, CURLOPT_SSLKEY_BLOB, config_.clientKeyData);
    curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (!config_.clientKeyFile.empty()) {
    curl_easy_setopt(easy, CURLOPT_SSLKEY, config_.clientKeyFile.c_str());
  }
  if (config_.insecureSkipTlsVerify) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  headers.add("Accept: application/json");
  headers.add("User-Agent: spr/0.1");
  headers.add("Expect:");  // no 100-continue round trip
  auto bearer = token();
  if (!bearer.isOk()) return bearer.status();
  if (!bearer->empty()) headers.add("Authorization: Bearer " + *bearer);
  return Status::ok();
}

std::string describeCurlError(CURLcode code, const char* errorBuffer) {
  std::string detail = errorBuffer && *errorBuffer ? errorBuffer : curl_easy_strerror(code);
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return "TLS: the server certificate is not trusted (" + detail +
             "); check certificate-authority(-data) in the kubeconfig";
    case CURLE_SSL_CERTPROBLEM:
      return "TLS: the client certificate or key cannot be used (" + detail + "); check client-certificate/client-key";
    case CURLE_SSL_CONNECT_ERROR: return "TLS handshake failed (" + detail + ")";
    case CURLE_COULDNT_RESOLVE_HOST: return "DNS: cannot resolve the server's host name (" + detail + ")";
    case CURLE_COULDNT_CONNECT: return "connection refused or unreachable (" + detail + ")";
    case CURLE_OPERATION_TIMEDOUT: return "timed out (" + detail + "); retry later";
    default: return detail;
  }
}

size_t collectHeader(char* data, size_t size, size_t count, void* target) {
  auto& headers = *static_cast<std::map<std::string, std::string>*>(target);
  std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    headers.clear();  // a new response (after 100 Continue or a redirect): keep the last one's headers
    return size * count;
  }
  auto colon = line.find(':');
  if (colon != std::string::npos) headers[toLower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  return size * count;
}

}  // namespace spr::k8s
