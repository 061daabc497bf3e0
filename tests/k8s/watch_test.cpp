// The Watcher against a scripted API server over real HTTP: list+watch, pagination,
// bookmarks, resume, 410 re-list with synthesized DELETEs, 401, several watches, stop().
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <mutex>

#include "adapters/k8s/watch.h"
#include "common/log.h"
#include "tests/k8s/test_api_server.h"

namespace spr::k8s {
namespace {

using testing::event;
using testing::Plan;
using testing::TestApiServer;

const GroupVersionResource kPods{"", "v1", "pods", true};
const char kPodsPath[] = "/api/v1/namespaces/t1/pods";

// Collects events; waits for a count.
class EventLog {
 public:
  WatchCallback callback() {
    return [this](const WatchEvent& e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(e);
      cv_.notify_all();
    };
  }
  bool waitFor(size_t count, double seconds = 5) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return events_.size() >= count; });
  }
  // "TYPE name@rv" per event, "SYNCED", "BOOKMARK@rv", "ERROR code".
  std::vector<std::string> summary() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const WatchEvent& e : events_) {
      if (e.type == "SYNCED")
        out.push_back("SYNCED");
      else if (e.type == "BOOKMARK")
        out.push_back("BOOKMARK@" + e.resourceVersion);
      else if (e.type == "ERROR")
        out.push_back("ERROR " + std::to_string(e.object.value("code", 0)));
      else
        out.push_back(e.type + " " + e.object["metadata"].value("name", "") + "@" + e.resourceVersion);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchEvent> events_;
};

using Events = std::vector<std::string>;

WatchOptions fast() {
  WatchOptions o;
  o.initialBackoffSec = 0.05;
  o.maxBackoffSec = 0.2;
  o.listPageSize = 2;
  return o;
}

ClusterConfig clusterOf(const TestApiServer& server) {
  ClusterConfig c;
  c.name = "test";
  c.server = server.url();
  return c;
}

TEST(Watcher, ListThenEventsInOrderAndResumeFromBookmark) {
  TestApiServer server;
  server.setObjects(kPodsPath, {{"a", "5"}, {"b", "6"}, {"c", "7"}}, "10");
  server.plan(kPodsPath, Plan{{event("MODIFIED", "a", "11"), event("BOOKMARK", "", "12")}, Plan::End::kClose, {}});
  server.plan(kPodsPath, Plan{{event("ADDED", "d", "13"), event("DELETED", "b", "14")}, Plan::End::kHold, {}});
  EventLog log;
  Watcher watcher(fast());
  watcher.add(clusterOf(server), kPods, "t1", "", log.callback());
  watcher.start();
  ASSERT_TRUE(log.waitFor(8));
  watcher.stop();
  EXPECT_EQ(log.summary(), (Events{"ADDED a@5", "ADDED b@6", "ADDED c@7", "SYNCED", "MODIFIED a@11", "BOOKMARK@12",
                                   "ADDED d@13", "DELETED b@14"}));
  auto requests = server.requestsTo(kPodsPath);
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].params["limit"], "2");  // two pages
  EXPECT_EQ(requests[1].params["continue"], "2");
  EXPECT_EQ(requests[2].params["watch"], "true");
  EXPECT_EQ(requests[2].params["allowWatchBookmarks"], "true");
  EXPECT_EQ(requests[2].params["resourceVersion"], "10");  // the list's
  EXPECT_EQ(requests[3].params["resourceVersion"], "12");  // the bookmark's: no re-list after a close
}

TEST(Watcher, GoneRelistsAndSynthesizesDeletedForVanishedObjects) {
  TestApiServer server;
  server.setObjects(kPodsPath, {{"a", "5"}, {"b", "6"}}, "10");
  // HTTP 410 on the watch; meanwhile a was deleted, b changed and c appeared.
  server.plan(kPodsPath, Plan{{}, Plan::End::kHttp410, std::map<std::string, std::string>{{"b", "15"}, {"c", "16"}}});
  server.setObjects("/unused", {}, "1");
  // Then an ERROR event with code 410 inside the stream; meanwhile c was deleted.
  std::string gone =
      R"J({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 10 (20)","reason":"Expired","code":410}})J";
  server.plan(kPodsPath, Plan{{gone}, Plan::End::kHold, std::map<std::string, std::string>{{"b", "15"}}});
  EventLog log;
  Watcher watcher(fast());
  watcher.add(clusterOf(server), kPods, "t1", "", log.callback());
  watcher.start();
  ASSERT_TRUE(log.waitFor(9));
  watcher.stop();
  EXPECT_EQ(log.summary(), (Events{"ADDED a@5", "ADDED b@6", "SYNCED",                      // initial list
                                   "MODIFIED b@15", "ADDED c@16", "DELETED a@5", "SYNCED",  // after HTTP 410
                                   "DELETED c@16", "SYNCED"}));                             // after ERROR 410
}

TEST(Watcher, ResumesFromAGivenResourceVersionWithoutListing) {
  TestApiServer server;
  server.plan(kPodsPath, Plan{{event("MODIFIED", "x", "43")}, Plan::End::kHold, {}});
  EventLog log;
  Watcher watcher(fast());
  watcher.add(clusterOf(server), kPods, "t1", "42", log.callback());
  watcher.start();
  ASSERT_TRUE(log.waitFor(1));
  watcher.stop();
  EXPECT_EQ(log.summary(), (Events{"MODIFIED x@43"}));
  auto requests = server.requestsTo(kPodsPath);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].params["resourceVersion"], "42");
}

TEST(Watcher, SeededKnownObjectsGetDeletedOnRelist) {
  TestApiServer server;
  server.setObjects(kPodsPath, {{"kept", "3"}}, "50");
  server.plan(kPodsPath, Plan{{}, Plan::End::kHttp410, {}});
  EventLog log;
  Watcher watcher(fast());
  watcher.add(clusterOf(server), kPods, "t1", "42", {{"t1/kept", "3"}, {"t1/gone", "2"}}, log.callback());
  watcher.start();
  ASSERT_TRUE(log.waitFor(2));
  watcher.stop();
  EXPECT_EQ(log.summary(), (Events{"DELETED gone@2", "SYNCED"}));
}

TEST(Watcher, UnauthorizedDeliversErrorAndStopsThatWatch) {
  TestApiServer server;
  server.setObjects(kPodsPath, {{"a", "1"}}, "2");
  server.plan(kPodsPath, Plan{{}, Plan::End::kHttp401, {}});
  EventLog log;
  Watcher watcher(fast());
  watcher.add(clusterOf(server), kPods, "t1", "", log.callback());
  watcher.start();
  ASSERT_TRUE(log.waitFor(3));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // several backoff periods
  watcher.stop();
  EXPECT_EQ(log.summary(), (Events{"ADDED a@1", "SYNCED", "ERROR 401"}));
  EXPECT_EQ(server.requestsTo(kPodsPath).size(), 2u);  // list, watch; no retry
}

TEST(Watcher, ReconnectsWithBackoffAfterDrops) {
  TestApiServer server;
  for (int i = 0; i < 3; ++i) server.plan(kPodsPath, Plan{{}, Plan::End::kClose, {}});
  EventLog log;
  WatchOptions options = fast();
  options.initialBackoffSec = 0.1;
  options.maxBackoffSec = 1;
  options.jitter = 0;
  Watcher watcher(options);
  auto begin = std::chrono::steady_clock::now();
  watcher.add(clusterOf(server), kPods, "t1", "7", log.callback());
  watcher.start();
  while (server.requestsTo(kPodsPath).size() < 4 && std::chrono::steady_clock::now() - begin < std::chrono::seconds(5))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  watcher.stop();
  auto requests = server.requestsTo(kPodsPath);
  ASSERT_GE(requests.size(), 4u);
  for (auto& r : requests) EXPECT_EQ(r.params["resourceVersion"], "7");  // no re-list
  EXPECT_GE(elapsed, 0.1 + 0.2 + 0.4 - 0.05);                            // 0.1, 0.2, 0.4: factor 2
  EXPECT_LT(elapsed, 2.0);
}

TEST(Watcher, TwoWatchesOnOneWatcherBothDeliver) {
  TestApiServer server;
  const GroupVersionResource configMaps{"", "v1", "configmaps", true};
  server.setObjects(kPodsPath, {{"p", "1"}}, "2");
  server.setObjects("/api/v1/namespaces/t1/configmaps", {{"cm", "3"}}, "4");
  server.plan(kPodsPath, Plan{{event("MODIFIED", "p", "5")}, Plan::End::kHold, {}});
  server.plan("/api/v1/namespaces/t1/configmaps", Plan{{event("MODIFIED", "cm", "6")}, Plan::End::kHold, {}});
  EventLog pods, maps;
  Watcher watcher(fast());
  watcher.start();  // adds after start are picked up too
  watcher.add(clusterOf(server), kPods, "t1", "", pods.callback());
  watcher.add(clusterOf(server), configMaps, "t1", "", maps.callback());
  ASSERT_TRUE(pods.waitFor(3));
  ASSERT_TRUE(maps.waitFor(3));
  EXPECT_EQ(server.openWatches(), 2);
  watcher.stop();
  EXPECT_EQ(pods.summary(), (Events{"ADDED p@1", "SYNCED", "MODIFIED p@5"}));
  EXPECT_EQ(maps.summary(), (Events{"ADDED cm@3", "SYNCED", "MODIFIED cm@6"}));
}

TEST(Watcher, StopIsPromptWithAConnectionOpen) {
  TestApiServer server;
  server.setObjects(kPodsPath, {{"a", "1"}}, "2");
  EventLog log;
  auto watcher = std::make_unique<Watcher>(fast());
  watcher->add(clusterOf(server), kPods, "t1", "", log.callback());
  watcher->start();
  ASSERT_TRUE(log.waitFor(2));
  for (int i = 0; i < 100 && server.openWatches() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(server.openWatches(), 1);
  auto begin = std::chrono::steady_clock::now();
  watcher->stop();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  EXPECT_LT(elapsed, 1.0);
  watcher.reset();  // the destructor after stop() is a no-op
}

TEST(Watcher, UnreachableServerKeepsRetryingAndStopsPromptly) {
  ClusterConfig nowhere;
  nowhere.name = "down";
  nowhere.server = "http://127.0.0.1:1";  // nothing listens on port 1
  EventLog log;
  Watcher watcher(fast());
  watcher.add(nowhere, kPods, "t1", "", log.callback());
  watcher.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto begin = std::chrono::steady_clock::now();
  watcher.stop();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count(), 1.0);
  EXPECT_TRUE(log.summary().empty());  // connection failures are retried, not reported
}

// Every failed attempt is reported through onHealth (for /readyz), with the cluster, its
// address and why; the log gets the first one and then at most one per logEverySec, so a
// cluster that stays down does not flood it. A recovery is reported too.
TEST(Watcher, FailuresAreReportedEachTimeButLoggedAtABoundedRate) {
  const std::string logFile = ::testing::TempDir() + "watch-health-" + std::to_string(::getpid()) + ".log";
  ASSERT_TRUE(log::logToFile(logFile));
  std::mutex mu;
  std::vector<WatchHealth> reports;
  WatchOptions options = fast();
  options.initialBackoffSec = 0.01;
  options.maxBackoffSec = 0.02;
  options.logEverySec = 30;
  options.onHealth = [&](const WatchHealth& h) {
    std::lock_guard<std::mutex> lock(mu);
    reports.push_back(h);
  };
  ClusterConfig nowhere;
  nowhere.name = "down";
  nowhere.server = "http://127.0.0.1:1";
  Watcher watcher(options);
  EventLog events;
  watcher.add(nowhere, kPods, "t1", "", events.callback());
  watcher.start();
  auto enough = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return reports.size() >= 10;
  };
  for (int i = 0; i < 500 && !enough(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  watcher.stop();
  ASSERT_TRUE(enough());
  EXPECT_FALSE(reports[0].ok);
  EXPECT_EQ(reports[0].cluster, "down");
  EXPECT_EQ(reports[0].address, "http://127.0.0.1:1");
  EXPECT_NE(reports[0].reason.find("connection refused"), std::string::npos) << reports[0].reason;
  std::ifstream in(logFile);
  std::string line;
  int logged = 0;
  while (std::getline(in, line)) logged += line.find("cannot watch cluster") != std::string::npos;
  EXPECT_EQ(logged, 1) << reports.size() << " failures";
  std::remove(logFile.c_str());
}

TEST(Watcher, RecoveryAfterAFailureIsReported) {
  TestApiServer server;
  server.setObjects(kPodsPath, {{"a", "1"}}, "2");
  server.plan(kPodsPath, Plan{{}, Plan::End::kHttp503, {}});
  server.plan(kPodsPath, Plan{{event("MODIFIED", "a", "3")}, Plan::End::kHold, {}});
  std::mutex mu;
  std::vector<bool> states;
  WatchOptions options = fast();
  options.onHealth = [&](const WatchHealth& h) {
    std::lock_guard<std::mutex> lock(mu);
    states.push_back(h.ok);
  };
  EventLog events;
  Watcher watcher(options);
  watcher.add(clusterOf(server), kPods, "t1", "", events.callback());
  watcher.start();
  ASSERT_TRUE(events.waitFor(3));  // ADDED, SYNCED, MODIFIED after the 503
  watcher.stop();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(states, (std::vector<bool>{false, true}));
}

}  // namespace
}  // namespace spr::k8s
