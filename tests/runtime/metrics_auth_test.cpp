// MetricsAuth against a fake platform cluster (the boundary) and a fake clock: the status
// a scraper gets for each kind of token, what the reviews ask, and that the caches keep a
// scraper every 15 s at no more than 2 API calls a minute per token.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "runtime/metrics_auth.h"

namespace spr::runtime {
namespace {

using nlohmann::json;

class FakeClock : public Clock {
 public:
  int64_t nowUnixNanos() const override { return now; }
  void advanceSeconds(double s) { now += static_cast<int64_t>(s * 1e9); }
  int64_t now = 1'700'000'000'000'000'000;
};

// Tokens "allowed-*" and "denied-*" belong to users of those names; only "allowed-*" users
// may get /metrics. Counts the reviews per token / user.
class FakePlatform : public k8s::Transport {
 public:
  Result<k8s::HttpResponse> roundTrip(const k8s::HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu);
    if (down) return Status(Code::kUnavailable, "connection refused");
    json body = json::parse(request.body);
    requests.push_back(request.path);
    json status;
    if (request.path == "/apis/authentication.k8s.io/v1/tokenreviews") {
      std::string token = body["spec"]["token"];
      ++calls[token];
      bool known = token.rfind("allowed-", 0) == 0 || token.rfind("denied-", 0) == 0;
      status = known ? json{{"authenticated", true},
                            {"user", {{"username", token + "-user"}, {"groups", {"system:authenticated"}}}}}
                     : json{{"user", json::object()}, {"error", "invalid bearer token"}};
    } else {
      lastAccessReview = body;
      std::string user = body["spec"]["user"];
      ++calls[user.substr(0, user.size() - 5)];  // the token's count: "<token>-user"
      status = {{"allowed", user.rfind("allowed-", 0) == 0}};
    }
    body["status"] = status;
    return k8s::HttpResponse{201, body.dump(), {}};
  }
  std::string clusterName() const override { return "platform"; }

  std::mutex mu;
  bool down = false;
  std::map<std::string, int> calls;
  std::vector<std::string> requests;
  json lastAccessReview;
};

struct Fixture {
  Fixture(size_t maxEntries = 1024) {
    MetricsAuthOptions o;
    o.clock = &clock;
    o.maxEntries = maxEntries;
    o.retry.maxAttempts = 1;
    auth = std::make_unique<MetricsAuth>(platform, o);
  }
  int scrape(const std::string& token) { return auth->check("Bearer " + token, "GET", "/metrics").status; }
  FakeClock clock;
  FakePlatform platform;
  std::unique_ptr<MetricsAuth> auth;
};

TEST(MetricsAuth, AnswersAsControllerRuntimesFilter) {
  Fixture f;
  EXPECT_EQ(f.auth->check("", "GET", "/metrics").status, 401) << "anonymous";
  EXPECT_EQ(f.auth->check("Basic dXNlcjpwdw==", "GET", "/metrics").status, 401) << "not a bearer token";
  EXPECT_EQ(f.auth->check("Bearer ", "GET", "/metrics").status, 401) << "empty token";
  EXPECT_EQ(f.platform.requests.size(), 0u) << "no token: nothing to review";
  AuthAnswer garbage = f.auth->check("Bearer garbage", "GET", "/metrics");
  EXPECT_EQ(garbage.status, 401);
  EXPECT_EQ(garbage.body, "Unauthorized\n");
  AuthAnswer denied = f.auth->check("Bearer denied-1", "GET", "/metrics");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.body, "Authorization denied for user denied-1-user\n");
  EXPECT_EQ(f.auth->check("bearer allowed-1", "GET", "/metrics").status, 0) << "the scheme in any case";
  // The SubjectAccessReview asks for the user's groups and the request's verb and path.
  EXPECT_EQ(f.platform.lastAccessReview["spec"]["groups"], json({"system:authenticated"}));
  EXPECT_EQ(f.platform.lastAccessReview["spec"]["nonResourceAttributes"],
            json({{"path", "/metrics"}, {"verb", "get"}}));
}

TEST(MetricsAuth, AScrapeEvery15sCostsAtMostTwoApiCallsAMinutePerToken) {
  Fixture f;
  const int minutes = 30;
  for (int i = 0; i < minutes * 4; ++i) {
    EXPECT_EQ(f.scrape("allowed-p"), 0);
    EXPECT_EQ(f.scrape("denied-p"), 403);
    EXPECT_EQ(f.scrape("garbage"), 401);
    f.clock.advanceSeconds(15);
  }
  for (const char* token : {"allowed-p", "denied-p", "garbage"}) {
    EXPECT_LE(f.platform.calls[token], 2 * minutes) << token;
    EXPECT_GE(f.platform.calls[token], minutes) << token << ": answers expire (a revoked token stops working)";
  }
  // Allowed: a TokenReview a minute and a SubjectAccessReview every 5 minutes.
  EXPECT_EQ(f.platform.calls["allowed-p"], minutes + minutes / 5);
}

TEST(MetricsAuth, AFailedReviewIs500AndIsNotCached) {
  Fixture f;
  f.platform.down = true;
  AuthAnswer a = f.auth->check("Bearer allowed-x", "GET", "/metrics");
  EXPECT_EQ(a.status, 500);
  EXPECT_EQ(a.body, "Authentication failed\n");
  f.platform.down = false;
  EXPECT_EQ(f.scrape("allowed-x"), 0) << "the cluster answers again: so does spr, at once";
}

TEST(MetricsAuth, TheCacheIsBounded) {
  Fixture f(2);
  EXPECT_EQ(f.scrape("garbage-a"), 401);
  f.clock.advanceSeconds(1);
  EXPECT_EQ(f.scrape("garbage-b"), 401);
  EXPECT_EQ(f.scrape("garbage-a"), 401);
  EXPECT_EQ(f.platform.calls["garbage-a"], 1) << "cached";
  for (int i = 0; i < 100; ++i) EXPECT_EQ(f.scrape("garbage-" + std::to_string(i)), 401);
  EXPECT_EQ(f.scrape("garbage-a"), 401);
  EXPECT_EQ(f.platform.calls["garbage-a"], 2) << "evicted by newer tokens";
}

}  // namespace
}  // namespace spr::runtime
