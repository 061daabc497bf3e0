// Client: typed REST verbs on any group/version/resource, over a Transport. Every
// non-2xx answer becomes a Status whose Code says what to do (status_error.h maps the
// API's Status object: 404 kNotFound, 409 AlreadyExists kAlreadyExists, 409 Conflict
// kConflict, 422 kInvalid with the causes in the message, 410 kGone, 429/5xx kUnavailable,
// 401/403 kUnauthorized). Retries 429/5xx/timeouts with backoff honouring Retry-After
// (RetryPolicy). Thread-safe if the Transport is; the Transport must outlive the Client.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adapters/k8s/transport.h"
#include "common/status.h"

namespace spr::k8s {

struct GroupVersionResource {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural, lower-case
  bool namespaced = true;
  // "/api/v1" or "/apis/<group>/<version>"
  std::string basePath() const;
  // Collection path: ns "" on a namespaced resource means all namespaces.
  std::string collectionPath(const std::string& ns) const;
  std::string objectPath(const std::string& ns, const std::string& name) const;
  std::string apiVersion() const;  // "v1" or "<group>/<version>"
};

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  long limit = 500;  // page size; list() follows `continue` until the end
};

struct DeleteOptions {
  std::string propagationPolicy;  // "", "Foreground", "Background", "Orphan"
  std::string preconditionUid, preconditionResourceVersion;
};

struct RetryPolicy {
  int maxAttempts = 4;  // 1 = no retry
  long initialBackoffMs = 200;
  long maxBackoffMs = 5000;
  // How the Client waits between attempts; null = std::this_thread::sleep_for. Tests pass
  // their own to observe the delays (Retry-After) without waiting.
  std::function<void(long ms)> sleepMs;
};

class Client {
 public:
  explicit Client(Transport& transport, RetryPolicy retry = {});
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  [[nodiscard]] Result<nlohmann::json> get(const GroupVersionResource& gvr, const std::string& ns,
                                           const std::string& name);
  // All pages merged into one List object:
  // {"apiVersion","kind":"<Kind>List","metadata":{"resourceVersion"},"items":[...]}.
  [[nodiscard]] Result<nlohmann::json> list(const GroupVersionResource& gvr, const std::string& ns,
                                            const ListOptions& options = {});
  // Namespace for namespaced resources comes from `ns` (metadata.namespace is filled in if missing).
  [[nodiscard]] Result<nlohmann::json> create(const GroupVersionResource& gvr, const std::string& ns,
                                              const nlohmann::json& object);
  // PUT of the whole object (metadata.resourceVersion, when set, is the precondition).
  [[nodiscard]] Result<nlohmann::json> update(const GroupVersionResource& gvr, const std::string& ns,
                                              const nlohmann::json& object);
  [[nodiscard]] Result<nlohmann::json> updateStatus(const GroupVersionResource& gvr, const std::string& ns,
                                                    const nlohmann::json& object);
  // application/merge-patch+json (RFC 7386) and application/json-patch+json (RFC 6902).
  [[nodiscard]] Result<nlohmann::json> mergePatch(const GroupVersionResource& gvr, const std::string& ns,
                                                  const std::string& name, const nlohmann::json& patch);
  [[nodiscard]] Result<nlohmann::json> jsonPatch(const GroupVersionResource& gvr, const std::string& ns,
                                                 const std::string& name, const nlohmann::json& patch);
  [[nodiscard]] Status remove(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                              const DeleteOptions& options = {});

  // Any other path (discovery "/apis", "/version", deletecollection, strategic merge patch):
  // one request with the same retries and error mapping; the body parsed as JSON.
  [[nodiscard]] Result<nlohmann::json> request(const HttpRequest& request) { return call(request); }

  Transport& transport() { return transport_; }

 private:
  Result<nlohmann::json> call(const HttpRequest& request);
  Result<nlohmann::json> listPages(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& options);
  Result<nlohmann::json> patch(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                               const nlohmann::json& patch, const char* contentType);
  void sleepFor(long ms) const;

  Transport& transport_;
  RetryPolicy retry_;
};

}  // namespace spr::k8s
