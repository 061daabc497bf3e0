// Kubernetes API answers: an HTTP code, a JSON body and extra headers, plus builders for
// the metav1.Status bodies kube-apiserver sends (NotFound, AlreadyExists, Conflict, ...),
// shaped exactly as the recordings in shared/fixtures/kube-apiserver-replays show.
// Pure values and functions; thread-safe.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace spr::sim {

struct ApiResponse {
  int code = 200;
  nlohmann::json body;
  std::map<std::string, std::string> headers;
};

// What a Status's details name: the object, its API group and the resource (plural), as
// kube-apiserver fills them ("kind" holds the resource for NotFound/AlreadyExists/Conflict).
struct StatusTarget {
  std::string group;
  std::string resource;
  std::string name;
};

ApiResponse failure(int code, const std::string& reason, const std::string& message, nlohmann::json details = nullptr);
// `<resource>.<group> "name" not found` (group omitted for the core group).
ApiResponse notFound(const StatusTarget& t);
ApiResponse alreadyExists(const StatusTarget& t);
ApiResponse conflictModified(const StatusTarget& t);
ApiResponse badRequest(const std::string& message);
ApiResponse methodNotAllowed(const std::string& message);
ApiResponse unsupportedMediaType(const std::string& contentType);
ApiResponse tooLarge();
ApiResponse unauthorized();
ApiResponse gone(const std::string& message);
// The plain 404 for a URL that names no resource at all ("the server could not find the requested resource").
ApiResponse noSuchPath();
// {"kind":"Status","status":"Success","details":{...,"uid"}} as DELETE returns when the object is gone.
ApiResponse deleteSuccess(const StatusTarget& t, const std::string& uid);
// "<resource>.<group>" or "<resource>" for the core group.
std::string qualifiedResource(const std::string& group, const std::string& resource);
// JSON text as kube-apiserver writes it: bytes that are not UTF-8 (a name taken from the
// URL, a protobuf string) become U+FFFD instead of failing the whole answer.
std::string wireJson(const nlohmann::json& value);

}  // namespace spr::sim
