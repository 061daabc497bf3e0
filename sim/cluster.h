// Cluster: one simulated Kubernetes API server (the part behind /clusters/<name>):
// discovery, OpenAPI v3, built-in and CRD-registered resources, CRUD with
// resourceVersion/uid/generation, status subresource, finalizers, patches, selectors,
// pagination and watches. Transport-free: the HTTP layer hands it ApiRequests.
// Thread-safe: every public method takes mu_, which guards the store and the registry.
#pragma once

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "sim/api_status.h"
#include "sim/openapi.h"
#include "sim/resources.h"
#include "sim/review.h"
#include "sim/selector.h"
#include "sim/store.h"
#include "sim/table.h"

namespace spr::sim {

struct ApiRequest {
  std::string method;  // GET POST PUT PATCH DELETE
  std::string path;    // below the cluster prefix: "/api/v1/namespaces/default/configmaps"
  std::map<std::string, std::string> query;
  std::string contentType;  // media type without parameters
  std::string accept;       // the Accept header (kubectl asks for Tables)
  std::string body;
  // Who asks, for the self-reviews (kubectl auth whoami / can-i): the bearer token, and the
  // Impersonate-User / Impersonate-Group headers (kubectl --as / --as-group).
  std::string bearerToken, impersonateUser;
  std::vector<std::string> impersonateGroups;
  std::string param(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? "" : it->second;
  }
  // A boolean query parameter (watch, allowWatchBookmarks, ...) as kube-apiserver converts
  // it (apimachinery's Convert_Slice_string_To_bool): absent, "0" or "false" in any case
  // is false; anything else, "True", "1", "t" and even "" included, is true.
  bool flag(const std::string& name) const {
    auto it = query.find(name);
    if (it == query.end()) return false;
    std::string v = it->second;
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v != "0" && v != "false";
  }
};

// One open watch: what it selects and how far it has read.
struct WatchCursor {
  std::string key;  // collection
  std::string ns;
  std::string kind, apiVersion;
  std::optional<LabelSelector> labels;
  std::optional<FieldSelector> fields;
  uint64_t rv = 0;
  bool bookmarks = false;
  bool custom = false;
  bool finished = false;                  // nothing more after initialLines (410 ERROR sent)
  std::optional<TableOptions> table;      // events' objects as Tables (kubectl get -w)
  std::vector<std::string> initialLines;  // ADDED events (and the initial-events-end bookmark)
};

// What one write touched, for the controllers. An empty `resource` means anything in the
// cluster may have changed (a collection or namespace delete, a CRD change); an empty
// `name`, anything of that resource.
struct Change {
  std::string cluster, resource, ns, name;
  bool operator<(const Change& o) const {
    return std::tie(cluster, resource, ns, name) < std::tie(o.cluster, o.resource, o.ns, o.name);
  }
};

class Cluster {
 public:
  // `onChange` runs after every successful write, without mu_ held (wakes controllers).
  Cluster(std::string name, std::string token, size_t watchWindow, std::function<void(const Change&)> onChange);
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  const std::string& name() const { return name_; }
  const std::string& token() const { return token_; }
  // Another bearer token accepted by this cluster: an AccessRequest grant for `user`,
  // limited to `permissions` (its spec.permissions; null = everything).
  void addToken(const std::string& token, nlohmann::json permissions = nullptr, std::string user = "");
  // The grant ends (its AccessRequest was deleted): the token is refused from now on.
  void removeToken(const std::string& token);
  bool authorized(const std::string& token) const;
  // For an authenticated `token`: the 403 to answer when its grant does not allow `request`
  // (RBAC as kube-apiserver applies it, sim/rbac.h); nullopt when it may go ahead.
  std::optional<ApiResponse> checkAccess(const std::string& token, const ApiRequest& request) const;
  std::string prefix() const { return "/clusters/" + name_; }

  // Any non-watch request.
  ApiResponse handle(const ApiRequest& request);
  static bool isWatch(const ApiRequest& request);
  // Opens a watch; on an error returns the response to send instead. A too-old
  // resourceVersion is not an error here: the cursor then streams one 410 ERROR event.
  std::optional<ApiResponse> openWatch(const ApiRequest& request, WatchCursor& cursor);
  // Waits up to `maxWait` for events after cursor.rv and returns them as JSON lines.
  // Sets `ended` when the watched resource no longer exists (CRD deleted) or expired.
  std::vector<std::string> pollWatch(WatchCursor& cursor, std::chrono::milliseconds maxWait, bool& ended);
  // A BOOKMARK line at the newest resourceVersion the cursor has fully seen (advances it).
  std::string bookmarkLine(WatchCursor& cursor);
  // Wakes every pollWatch (used by stop()).
  void wakeWatchers();

  void setExpireResourceVersions(bool on) { expireRvs_ = on; }
  // Removes namespaces marked for deletion whose contents are gone (the namespace controller).
  void finalizeNamespaces();

 private:
  struct Target {
    const ResourceType* type = nullptr;
    std::string ns;
    std::string name;
    bool status = false;
  };
  // Routing and reads (cluster.cpp).
  std::optional<ApiResponse> discovery(const ApiRequest& r);
  std::optional<ApiResponse> openapi(const ApiRequest& r);
  std::optional<ApiResponse> parseTarget(const std::string& path, Target& t) const;  // REQUIRES mu_
  const ResourceType* findType(const std::string& group, const std::string& version,
                               const std::string& resource) const;  // REQUIRES mu_
  ApiResponse get(const Target& t);
  ApiResponse list(const Target& t, const ApiRequest& r);
  // Writes (cluster_write.cpp). All REQUIRE mu_.
  ApiResponse create(const Target& t, const ApiRequest& r);
  std::optional<ApiResponse> identifyNew(const Target& t, nlohmann::json& obj);
  std::optional<ApiResponse> checkCreateTarget(const Target& t, const std::string& name) const;
  std::optional<ApiResponse> prepareKindOnCreate(const ResourceType& type, nlohmann::json& obj);
  ApiResponse update(const Target& t, const ApiRequest& r);
  ApiResponse patch(const Target& t, const ApiRequest& r);
  ApiResponse remove(const Target& t, const ApiRequest& r);
  ApiResponse removeCollection(const Target& t, const ApiRequest& r);
  ApiResponse writeUpdate(const Target& t, nlohmann::json updated, const nlohmann::json& existing, const ApiRequest& r);
  ApiResponse deleteNow(const Target& t, const nlohmann::json& existing);
  std::optional<ApiResponse> validateCustom(const ResourceType& type, nlohmann::json& object, const ApiRequest& r,
                                            std::map<std::string, std::string>& headers);
  std::optional<ApiResponse> checkNamespace(const Target& t) const;
  void onCrdWritten(const nlohmann::json& crd);
  void onCrdDeleted(const nlohmann::json& crd);
  void deleteNamespaceContents(const std::string& ns);
  std::string newUid();
  std::vector<ResourceType> typesSnapshot() const { return {types_.begin(), types_.end()}; }
  void prepareCrd(nlohmann::json& crd);
  nlohmann::json outputObject(const ResourceType& type, const nlohmann::json& stored) const;
  Change changeOf(const Target& t, const std::string& method, const ApiResponse& response) const;
  // Server-side printing of a custom resource for kubectl, when asked (REQUIRE mu_).
  std::optional<TableOptions> tableOptions(const Target& t, const ApiRequest& r) const;
  void asTable(const Target& t, const ApiRequest& r, ApiResponse& response) const;
  // TokenReview, SubjectAccessReview and TokenRequest (cluster_review.cpp). All REQUIRE mu_.
  std::optional<ApiResponse> review(const ApiRequest& r);
  ApiResponse tokenReview(const ApiRequest& r);
  ApiResponse subjectAccessReview(const ApiRequest& r);
  ApiResponse tokenRequest(const std::string& ns, const std::string& name, const ApiRequest& r);
  ApiResponse selfReview(const ApiRequest& r, bool access);  // SelfSubjectReview / SelfSubjectAccessReview
  // The TokenReview status.user of `token`, or nullopt when it authenticates no one here
  // (for those audiences); `audiences` gets the audiences it is valid for.
  std::optional<nlohmann::json> tokenUser(const std::string& token, const nlohmann::json& wantedAudiences,
                                          nlohmann::json* audiences);

  const std::string name_;
  const std::string token_;
  const std::function<void(const Change&)> onChange_;
  std::atomic<bool> expireRvs_{false};
  mutable std::mutex mu_;
  std::condition_variable changed_;    // signalled on every write and by wakeWatchers()
  ObjectStore store_;                  // guarded by mu_
  std::set<std::string> terminating_;  // guarded by mu_: namespaces deleted but not yet empty
  std::list<ResourceType> types_;      // guarded by mu_; built-ins first, then CRD-registered (list: stable addresses)
  std::mt19937_64 rng_;                // guarded by mu_
  std::map<std::string, IssuedToken> issuedTokens_;  // guarded by mu_: ServiceAccount tokens by token
  struct Grant {
    nlohmann::json permissions;  // null = everything
    std::string user;
  };
  std::map<std::string, Grant> grants_;  // guarded by mu_: token -> what it may do
};

// "2026-06-15T04:15:57Z" for now.
std::string nowTimestamp();
// Hex-free random lower-case alphanumerics, for generateName.
std::string randomSuffix(std::mt19937_64& rng, size_t n);

}  // namespace spr::sim
