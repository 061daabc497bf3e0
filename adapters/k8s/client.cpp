#include "adapters/k8s/client.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "adapters/k8s/encoding.h"
#include "adapters/k8s/status_error.h"

namespace spr::k8s {

using nlohmann::json;

std::string GroupVersionResource::basePath() const {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

std::string GroupVersionResource::collectionPath(const std::string& ns) const {
  if (namespaced && !ns.empty()) return basePath() + "/namespaces/" + ns + "/" + resource;
  return basePath() + "/" + resource;
}

std::string GroupVersionResource::objectPath(const std::string& ns, const std::string& name) const {
  return collectionPath(ns) + "/" + name;
}

std::string GroupVersionResource::apiVersion() const { return group.empty() ? version : group + "/" + version; }

Client::Client(Transport& transport, RetryPolicy retry) : transport_(transport), retry_(std::move(retry)) {}

void Client::sleepFor(long ms) const {
  if (ms <= 0) return;
  if (retry_.sleepMs)
    retry_.sleepMs(ms);
  else
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// One request with retries: kUnavailable (connection, timeout, 429, 5xx) is retried up to
// maxAttempts with exponential backoff, or after Retry-After when the server sends one.
Result<json> Client::call(const HttpRequest& request) {
  const int attempts = std::max(1, retry_.maxAttempts);
  long backoff = retry_.initialBackoffMs;
  Status last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    long waitMs = backoff;
    auto response = transport_.roundTrip(request);
    if (response.isOk()) {
      if (response->status >= 200 && response->status < 300) {
        if (response->body.empty()) return json::object();
        json body = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
        if (body.is_discarded())
          return Status(Code::kInternal, "cluster " + transport_.clusterName() + ": " + request.method + " " +
                                             request.path + ": the response is not JSON");
        return body;
      }
      last = statusFromResponse(*response, request, transport_.clusterName());
      if (long after = retryAfterMs(*response); after > 0) waitMs = after;
      // Only 429 and 5xx are retried here; no other 4xx (a 408 is left to the caller).
      if (response->status != 429 && response->status < 500) break;
    } else {
      last = response.status();
    }
    if (last.code() != Code::kUnavailable || attempt == attempts) break;
    sleepFor(std::min(waitMs, retry_.maxBackoffMs));
    backoff = std::min(backoff * 2, retry_.maxBackoffMs);
  }
  return last;
}

Result<json> Client::get(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) {
  return call({"GET", gvr.objectPath(ns, name), "", ""});
}

Result<json> Client::listPages(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& options) {
  json merged;
  std::string continueToken;
  do {
    std::string query;
    auto param = [&query](const std::string& key, const std::string& value) {
      if (value.empty()) return;
      query += (query.empty() ? "?" : "&") + key + "=" + urlEncode(value);
    };
    param("labelSelector", options.labelSelector);
    param("fieldSelector", options.fieldSelector);
    if (options.limit > 0) param("limit", std::to_string(options.limit));
    param("continue", continueToken);
    auto page = call({"GET", gvr.collectionPath(ns) + query, "", ""});
    if (!page.isOk()) return page.status();
    json& body = *page;
    if (merged.is_null()) {
      merged = {{"apiVersion", body.value("apiVersion", gvr.apiVersion())},
                {"kind", body.value("kind", std::string("List"))},
                {"metadata", json::object()},
                {"items", json::array()}};
    }
    json items = body.value("items", json::array());
    if (items.is_array())
      for (json& item : items) merged["items"].push_back(std::move(item));
    json meta = body.value("metadata", json::object());
    if (meta.contains("resourceVersion")) merged["metadata"]["resourceVersion"] = meta["resourceVersion"];
    continueToken = meta.value("continue", std::string());
  } while (!continueToken.empty());
  return merged;
}

Result<json> Client::list(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& options) {
  auto result = listPages(gvr, ns, options);
  // A continue token expires (410) when a paginated list takes longer than etcd's compaction
  // window; like client-go, fall back to one unpaginated list.
  if (!result.isOk() && result.status().code() == Code::kGone && options.limit > 0) {
    ListOptions whole = options;
    whole.limit = 0;
    return listPages(gvr, ns, whole);
  }
  return result;
}

Result<json> Client::create(const GroupVersionResource& gvr, const std::string& ns, const json& object) {
  json body = object;
  if (gvr.namespaced && !ns.empty() && body.is_object() && !body["metadata"].contains("namespace"))
    body["metadata"]["namespace"] = ns;
  return call({"POST", gvr.collectionPath(ns), body.dump(), ""});
}

namespace {

Result<std::string> objectName(const json& object, const char* verb) {
  std::string name;
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object())
    name = object["metadata"].value("name", std::string());
  if (name.empty())
    return Status(Code::kInvalidArgument,
                  std::string(verb) + ": the object has no metadata.name; set it to the object to write");
  return name;
}

}  // namespace

Result<json> Client::update(const GroupVersionResource& gvr, const std::string& ns, const json& object) {
  auto name = objectName(object, "update");
  if (!name.isOk()) return name.status();
  return call({"PUT", gvr.objectPath(ns, *name), object.dump(), ""});
}

Result<json> Client::updateStatus(const GroupVersionResource& gvr, const std::string& ns, const json& object) {
  auto name = objectName(object, "updateStatus");
  if (!name.isOk()) return name.status();
  return call({"PUT", gvr.objectPath(ns, *name) + "/status", object.dump(), ""});
}

Result<json> Client::patch(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                           const json& patch, const char* contentType) {
  return call({"PATCH", gvr.objectPath(ns, name), patch.dump(), contentType});
}

Result<json> Client::mergePatch(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                                const json& patch) {
  return this->patch(gvr, ns, name, patch, "application/merge-patch+json");
}

Result<json> Client::jsonPatch(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                               const json& patch) {
  return this->patch(gvr, ns, name, patch, "application/json-patch+json");
}

Status Client::remove(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                      const DeleteOptions& options) {
  std::string body;
  if (!options.propagationPolicy.empty() || !options.preconditionUid.empty() ||
      !options.preconditionResourceVersion.empty()) {
    json del = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
    if (!options.propagationPolicy.empty()) del["propagationPolicy"] = options.propagationPolicy;
    if (!options.preconditionUid.empty()) del["preconditions"]["uid"] = options.preconditionUid;
    if (!options.preconditionResourceVersion.empty())
      del["preconditions"]["resourceVersion"] = options.preconditionResourceVersion;
    body = del.dump();
  }
  auto result = call({"DELETE", gvr.objectPath(ns, name), body, ""});
  return result.isOk() ? Status::ok() : result.status();
}

}  // namespace spr::k8s
