// Maps an API server's answer to spr's Status: the HTTP code and the API `Status` object
// (reason, message, details.causes) become a Code that says what to do next and a message
// that names the object, the fields and the fix. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "adapters/k8s/transport.h"
#include "common/status.h"

namespace spr::k8s {

struct StatusCause {
  std::string reason, message, field;
};

// The fields spr uses of a `kind: Status` body (meta/v1 Status).
struct ApiStatus {
  int code = 0;
  std::string status;  // "Success" / "Failure"
  std::string reason;  // NotFound, AlreadyExists, Conflict, Invalid, Expired, Gone, ...
  std::string message;
  std::string name, group, kind;  // details
  std::vector<StatusCause> causes;
  long retryAfterSeconds = 0;  // details.retryAfterSeconds
};

// Parses a Status object; nullopt when `json` is not one (kind != "Status").
std::optional<ApiStatus> parseApiStatus(const nlohmann::json& json);
std::optional<ApiStatus> parseApiStatus(const std::string& body);

// The Code for an HTTP status (and the API reason, which splits 409 into AlreadyExists/Conflict).
Code codeForHttp(int httpStatus, const std::string& reason, const std::string& method);

// ok() for 2xx; otherwise the mapped error. `cluster` names the cluster in the message.
Status statusFromResponse(const HttpResponse& response, const HttpRequest& request, const std::string& cluster);
// The same for an ERROR watch event's Status object (no HTTP response around it).
Status statusFromApiStatus(const ApiStatus& status, const std::string& what, const std::string& cluster);

// Retry-After header (seconds) or details.retryAfterSeconds, in milliseconds; 0 if absent.
long retryAfterMs(const HttpResponse& response);

}  // namespace spr::k8s
