// Transport: one HTTP round trip to one cluster's API server. The Client builds requests;
// a Transport sends them (curl_transport.h over libcurl; the runtime wraps one to record a
// tape; replay answers from a tape; tests fake one). Implementations must be thread-safe:
// one Transport is shared by the threads that reconcile different objects.
#pragma once

#include <map>
#include <string>

#include "common/status.h"

namespace spr::k8s {

struct HttpRequest {
  std::string method;  // GET, POST, PUT, PATCH, DELETE
  std::string path;    // absolute path and query below the server URL, e.g. "/api/v1/namespaces/a/secrets?limit=500"
  std::string body;    // JSON, or empty
  std::string contentType;  // "" = application/json; merge/JSON patch set their own
};

struct HttpResponse {
  int status = 0;                              // HTTP status code
  std::string body;                            // as received
  std::map<std::string, std::string> headers;  // lower-case names (e.g. "retry-after", "content-type")
};

class Transport {
 public:
  virtual ~Transport() = default;
  // A failed connection, TLS error or timeout is a non-ok Result (kUnavailable); any HTTP
  // answer, 4xx and 5xx included, is an ok Result carrying the status code.
  [[nodiscard]] virtual Result<HttpResponse> roundTrip(const HttpRequest& request) = 0;
  // The cluster's name for logs and tapes ("onboarding", "platform", "mcp", ...).
  virtual std::string clusterName() const = 0;
};

}  // namespace spr::k8s
