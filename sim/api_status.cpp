#include "sim/api_status.h"

namespace spr::sim {

using nlohmann::json;

namespace {

json details(const StatusTarget& t) { return {{"name", t.name}, {"group", t.group}, {"kind", t.resource}}; }

}  // namespace

std::string qualifiedResource(const std::string& group, const std::string& resource) {
  return group.empty() ? resource : resource + "." + group;
}

ApiResponse failure(int code, const std::string& reason, const std::string& message, json detailsJson) {
  json body = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
               {"status", "Failure"}, {"message", message}, {"reason", reason}};
  if (!detailsJson.is_null()) {
    if (detailsJson.contains("group") && detailsJson["group"] == "") detailsJson.erase("group");
    body["details"] = detailsJson;
  }
  body["code"] = code;
  return {code, body, {}};
}

ApiResponse notFound(const StatusTarget& t) {
  return failure(404, "NotFound", qualifiedResource(t.group, t.resource) + " \"" + t.name + "\" not found", details(t));
}

ApiResponse alreadyExists(const StatusTarget& t) {
  return failure(409, "AlreadyExists", qualifiedResource(t.group, t.resource) + " \"" + t.name + "\" already exists",
                 details(t));
}

ApiResponse conflictModified(const StatusTarget& t) {
  return failure(409, "Conflict",
                 "Operation cannot be fulfilled on " + qualifiedResource(t.group, t.resource) + " \"" + t.name +
                     "\": the object has been modified; please apply your changes to the latest version and try again",
                 details(t));
}

ApiResponse badRequest(const std::string& message) { return failure(400, "BadRequest", message); }

ApiResponse methodNotAllowed(const std::string& message) { return failure(405, "MethodNotAllowed", message); }

ApiResponse unsupportedMediaType(const std::string& contentType) {
  return failure(
      415, "UnsupportedMediaType",
      "the body of the request was in an unknown format - accepted media types include: application/json, "
      "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got \"" +
          contentType + "\")");
}

ApiResponse tooLarge() { return failure(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"); }

ApiResponse unauthorized() { return failure(401, "Unauthorized", "Unauthorized"); }

ApiResponse gone(const std::string& message) { return failure(410, "Expired", message); }

ApiResponse noSuchPath() {
  return failure(404, "NotFound", "the server could not find the requested resource", json::object());
}

ApiResponse deleteSuccess(const StatusTarget& t, const std::string& uid) {
  json d = details(t);
  if (t.group.empty()) d.erase("group");
  d["uid"] = uid;
  json body = {
      {"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Success"}, {"details", d}};
  return {200, body, {}};
}

std::string wireJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace spr::sim
