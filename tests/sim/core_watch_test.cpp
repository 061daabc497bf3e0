// Watches: events in order from a resourceVersion, bookmarks, 410 for compacted or
// (faulted) expired resourceVersions, initial events, and dropped connections.
#include <gtest/gtest.h>

#include <thread>

#include "tests/sim/core_test_support.h"

namespace spr::sim::testing {
namespace {

TEST(SimWatch, StreamsChangesAfterAResourceVersionInOrder) {
  SimFixture sim;
  auto a = sim.post("onboarding", kConfigMaps, configMap("a"));
  std::string rv = a.body["metadata"]["resourceVersion"];
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    json m = a.body;
    m["data"]["k"] = "changed";
    sim.put("onboarding", std::string(kConfigMaps) + "/a", m);
    sim.post("onboarding", "/api/v1/namespaces/kube-system/configmaps", configMap("elsewhere"));
    sim.call("onboarding", "DELETE", std::string(kConfigMaps) + "/a");
  });
  std::vector<std::string> seen;
  int code =
      sim.watch("onboarding", std::string(kConfigMaps) + "?watch=true&resourceVersion=" + rv, [&](const json& e) {
        seen.push_back(e["type"].get<std::string>() + ":" + e["object"]["metadata"]["name"].get<std::string>());
        return seen.size() < 2;
      });
  writer.join();
  EXPECT_EQ(code, 200);
  EXPECT_EQ(seen, (std::vector<std::string>{"MODIFIED:a", "DELETED:a"}));
}

TEST(SimWatch, WithoutResourceVersionStartsWithTheCurrentObjects) {
  SimFixture sim;
  ASSERT_EQ(
      sim.post("onboarding", kConfigMaps, configMap("x", json::parse(R"({"k":"v"})"), json::parse(R"({"pick":"yes"})")))
          .code,
      201);
  sim.post("onboarding", kConfigMaps, configMap("y"));
  std::vector<std::string> seen;
  sim.watch("onboarding",
            std::string(kConfigMaps) +
                "?watch=1&labelSelector=pick%3Dyes&allowWatchBookmarks=true&sendInitialEvents=true&"
                "resourceVersionMatch=NotOlderThan",
            [&](const json& e) {
              seen.push_back(e["type"]);
              if (e["type"] == "BOOKMARK") {
                EXPECT_EQ(e["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
              }
              return e["type"] != "BOOKMARK";
            });
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED", "BOOKMARK"}));
}

TEST(SimWatch, SendsBookmarksWhenAllowed) {
  SimOptions options;
  options.bookmarkIntervalMs = 100;
  SimFixture sim(options);
  auto a = sim.post("onboarding", kConfigMaps, configMap("a"));
  std::string rv;
  auto start = std::chrono::steady_clock::now();
  sim.watch("onboarding",
            std::string(kConfigMaps) + "?watch=true&allowWatchBookmarks=true&resourceVersion=" +
                a.body["metadata"]["resourceVersion"].get<std::string>(),
            [&](const json& e) {
              if (e["type"] != "BOOKMARK") return true;
              EXPECT_EQ(e["object"]["kind"], "ConfigMap");
              rv = e["object"]["metadata"]["resourceVersion"];
              return false;
            });
  EXPECT_EQ(rv, a.body["metadata"]["resourceVersion"]);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(SimWatch, TooOldResourceVersionGets410Expired) {
  SimOptions options;
  options.watchWindow = 3;
  SimFixture sim(options);
  auto first = sim.post("onboarding", kConfigMaps, configMap("c0"));
  for (int i = 1; i < 6; ++i) sim.post("onboarding", kConfigMaps, configMap("c" + std::to_string(i)));
  json error;
  bool closed = false;
  sim.watch(
      "onboarding",
      std::string(kConfigMaps) +
          "?watch=true&resourceVersion=" + first.body["metadata"]["resourceVersion"].get<std::string>(),
      [&](const json& e) {
        error = e;
        return true;
      },
      &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(error["type"], "ERROR");
  EXPECT_EQ(error["object"]["code"], 410);
  EXPECT_EQ(error["object"]["reason"], "Expired");
}

TEST(SimWatch, ClosesWhenTheCrdGoesAwayAndHonoursTimeoutSeconds) {
  SimFixture sim;
  ASSERT_EQ(sim.post("onboarding", kCrds, widgetCrd()).code, 201);
  std::thread deleter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    sim.call("onboarding", "DELETE", std::string(kCrds) + "/widgets.example.com");
  });
  bool closed = false;
  auto start = std::chrono::steady_clock::now();
  sim.watch(
      "onboarding", std::string(kWidgets) + "?watch=true", [](const json&) { return true; }, &closed);
  deleter.join();
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  start = std::chrono::steady_clock::now();
  sim.watch(
      "onboarding", std::string(kConfigMaps) + "?watch=true&timeoutSeconds=1", [](const json&) { return true; },
      &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
}

}  // namespace
}  // namespace spr::sim::testing
