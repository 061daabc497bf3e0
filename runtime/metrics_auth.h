// Authentication and authorization of /metrics scrapes (`spr run --metrics-secure`), as
// controller-runtime's filters.WithAuthenticationAndAuthorization does it: the bearer
// token is checked with a TokenReview (authentication.k8s.io/v1) and the user it names with
// a SubjectAccessReview (authorization.k8s.io/v1, nonResourceAttributes {path, verb}) on
// the platform cluster. Answers: no or unknown token 401, not allowed 403, review failed
// 500. Decisions are cached (by the token's SHA-256, never the token) so a scraper costs at
// most 2 API calls a minute. Tokens never reach a log. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "adapters/k8s/client.h"
#include "adapters/k8s/transport.h"
#include "runtime/types.h"

namespace spr::runtime {

struct MetricsAuthOptions {
  // How long answers are kept. controller-runtime: TokenReviews 1 min, allowed 5 min,
  // denied 30 s; denied is kept 1 min here, so a denied scraper every 15 s also costs at
  // most 2 calls a minute.
  double authnTtlSec = 60, allowTtlSec = 300, denyTtlSec = 60;
  size_t maxEntries = 1024;  // per cache; the entry closest to expiry makes room
  k8s::RetryPolicy retry{3, 200, 1000, {}};
  Clock* clock = nullptr;  // null = system clock; must outlive the MetricsAuth
};

// What to answer a request: status 0 = serve it; else this status and plain-text body.
struct AuthAnswer {
  int status = 0;
  std::string body;
};

class MetricsAuth {
 public:
  // `platform` (the cluster spr runs in) must outlive this.
  MetricsAuth(k8s::Transport& platform, MetricsAuthOptions options = {});
  MetricsAuth(const MetricsAuth&) = delete;
  MetricsAuth& operator=(const MetricsAuth&) = delete;

  // `authorization` is the request's Authorization header ("" when absent); `method` its
  // HTTP method (the verb, lower-cased), `path` its URL path.
  AuthAnswer check(const std::string& authorization, const std::string& method, const std::string& path);
  // TokenReviews and SubjectAccessReviews sent so far.
  uint64_t apiCalls() const;

 private:
  struct Entry {
    bool yes = false;     // authenticated / allowed
    nlohmann::json user;  // TokenReview status.user
    std::string reason;   // SubjectAccessReview status.reason
    int64_t expiresNanos = 0;
  };
  using Cache = std::map<std::string, Entry>;  // by SHA-256 hex

  [[nodiscard]] Result<Entry> authenticate(const std::string& token);
  [[nodiscard]] Result<Entry> authorize(const nlohmann::json& user, const std::string& verb, const std::string& path);
  bool lookup(Cache& cache, const std::string& key, Entry* out);
  void store(Cache& cache, const std::string& key, Entry entry, double ttlSec);
  int64_t now() const;

  k8s::Client client_;
  MetricsAuthOptions options_;
  std::unique_ptr<Clock> ownClock_;
  mutable std::mutex mu_;
  Cache authn_, authz_;  // guarded by mu_
  uint64_t calls_ = 0;   // guarded by mu_
};

}  // namespace spr::runtime
