// The fault injector: injected 5xx/429 with Retry-After, latency, dropped watches,
// early 410s, through setFaults() and the admin endpoint.
#include <gtest/gtest.h>

#include <thread>

#include "tests/sim/core_test_support.h"

namespace spr::sim::testing {
namespace {

TEST(SimFaults, ErrorRateAnswers5xxOr429WithRetryAfter) {
  SimFixture sim;
  FaultOptions f;
  f.errorRate = 1.0;
  sim.server->setFaults(f);
  std::set<int> codes;
  for (int i = 0; i < 30; ++i) {
    auto r = sim.get("onboarding", kConfigMaps);
    codes.insert(r.code);
    EXPECT_EQ(r.retryAfter, "1");
    EXPECT_EQ(r.body["kind"], "Status");
  }
  for (int c : codes) EXPECT_TRUE(c == 500 || c == 503 || c == 429) << c;
  EXPECT_GE(codes.size(), 2u);
  sim.server->setFaults({});
  EXPECT_EQ(sim.get("onboarding", kConfigMaps).code, 200);
}

TEST(SimFaults, LatencyIsAddedToEveryRequest) {
  SimFixture sim;
  FaultOptions f;
  f.latencyMs = 150;
  sim.server->setFaults(f);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(sim.get("onboarding", kConfigMaps).code, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
}

TEST(SimFaults, WatchDropsCloseStreamsAndOtherClientsKeepWorking) {
  SimFixture sim;
  FaultOptions f;
  f.watchDropRate = 1.0;
  sim.server->setFaults(f);
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  sim.watch(
      "onboarding", std::string(kConfigMaps) + "?watch=true", [](const json&) { return true; }, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(sim.post("onboarding", kConfigMaps, configMap("still-serving")).code, 201);
}

TEST(SimFaults, ExpiredResourceVersionsGet410OnWatchAndContinue) {
  SimFixture sim;
  auto a = sim.post("onboarding", kConfigMaps, configMap("a"));
  sim.post("onboarding", kConfigMaps, configMap("b"));
  sim.post("onboarding", kConfigMaps, configMap("c"));
  auto page = sim.get("onboarding", std::string(kConfigMaps) + "?limit=1");
  std::string cont = page.body["metadata"]["continue"];
  sim.post("onboarding", kConfigMaps, configMap("d"));
  FaultOptions f;
  f.expireResourceVersions = true;
  sim.server->setFaults(f);
  json event;
  sim.watch("onboarding",
            std::string(kConfigMaps) +
                "?watch=true&resourceVersion=" + a.body["metadata"]["resourceVersion"].get<std::string>(),
            [&](const json& e) {
              event = e;
              return false;
            });
  EXPECT_EQ(event["type"], "ERROR");
  EXPECT_EQ(event["object"]["code"], 410);
  auto expired = sim.get("onboarding",
                         std::string(kConfigMaps) + "?limit=1&continue=" + httplib::detail::encode_query_param(cont));
  EXPECT_EQ(expired.code, 410);
  EXPECT_EQ(expired.body["reason"], "Expired");
}

TEST(SimFaults, AdminEndpointTakesTheFirstClustersToken) {
  SimFixture sim;
  auto c = sim.client();
  auto denied = c->Post("/admin/faults", {{"Authorization", "Bearer " + sim.token("platform")}}, R"({"errorRate":1})",
                        "application/json");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  auto set = c->Post("/admin/faults", {{"Authorization", "Bearer " + sim.token("onboarding")}},
                     R"({"errorRate":1,"latencyMs":5})", "application/json");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->status, 200);
  EXPECT_EQ(json::parse(set->body)["errorRate"], 1.0);
  int code = sim.get("workload", "/api/v1/namespaces").code;
  EXPECT_TRUE(code == 500 || code == 503 || code == 429) << code;
  auto bad =
      c->Post("/admin/faults", {{"Authorization", "Bearer " + sim.token("onboarding")}}, "nope", "application/json");
  EXPECT_EQ(bad->status, 400);
  auto clear =
      c->Post("/admin/faults", {{"Authorization", "Bearer " + sim.token("onboarding")}}, "{}", "application/json");
  EXPECT_EQ(clear->status, 200);
  EXPECT_EQ(sim.get("workload", "/api/v1/namespaces").code, 200);
}

}  // namespace
}  // namespace spr::sim::testing
