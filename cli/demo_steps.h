// DemoRun: the steps of `spr demo` against an in-process local API server and operator:
// setup, requests for two tenants, wait for Ready/rejected with a progress view, drift,
// delete, stop, journal check. Each step prints one line with its result. Single-threaded
// (the operator runs its own threads); one DemoRun per demo.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "cli/scenario.h"
#include "runtime/operator.h"
#include "sim/server.h"

namespace spr::cli {

inline const std::string kDemoTenantA = "project-acme--ws-dev";
inline const std::string kDemoTenantB = "project-globex--ws-prod";

class DemoRun {
 public:
  DemoRun(std::string journalDir, int workers);
  ~DemoRun();  // shutdown()
  DemoRun(const DemoRun&) = delete;
  DemoRun& operator=(const DemoRun&) = delete;

  // Runs every step; the first failure ends the demo with a message saying which step.
  [[nodiscard]] Status run();
  // Stops the operator, closes this process's connections, then stops the server (which
  // would otherwise wait out their keep-alive). Idempotent.
  void shutdown();
  // Seconds since this process started (the demo's whole run, as `time` would report it).
  double elapsedSeconds() const;

 private:
  struct Request {
    std::string ns, name, version;
    nlohmann::json providers;  // spec.providers
    bool expectReady = true;   // false: expected to be rejected (Ready=False)
  };

  Status startClusters();
  Status installProvider();
  Status createRequests();
  Status startOperator();
  Status waitSettled();
  Status repairDrift();
  Status deleteOne();
  Status stopAndCheckJournal();

  // One progress line per change of an object's lifecycle phase or condition.
  void showProgress();
  void step(const std::string& what);
  void done(const std::string& result);

  std::string journalDir_;
  int workers_;
  std::chrono::steady_clock::time_point start_;
  std::unique_ptr<sim::SimServer> sim_;
  Connection onboarding_, platform_;
  std::unique_ptr<providers::Provider> provider_;
  std::unique_ptr<runtime::Operator> operator_;
  std::vector<Request> requests_;
  std::map<std::string, std::string> shown_;  // object key -> last progress line
};

}  // namespace spr::cli
