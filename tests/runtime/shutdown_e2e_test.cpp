// SIGTERM while an effect waits on a hung API server (one that accepts connections and
// never answers): a real `spr run` child must exit 0 within a bound far below curl's
// 30 s request timeout, journal nothing for the interrupted effect, and the restart must
// resolve it (an Unknown completion, as after kill -9) and bring the request to Ready.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "sim/tls.h"
#include "tests/runtime/e2e_env.h"
#include "tests/support/paths.h"
#include "tests/support/run_command.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
using testing::E2E;
using testing::eventually;

const k8s::GroupVersionResource kAccessRequests{"clusters.openmcp.cloud", "v1alpha1", "accessrequests", true};
const k8s::GroupVersionResource kSecrets{"", "v1", "secrets", true};

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A TCP listener on 127.0.0.1 that accepts every connection and never reads or answers.
class HungServer {
 public:
  HungServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 64), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;  // shutdown() of the listener
        std::lock_guard<std::mutex> lock(mu_);
        accepted_.push_back(c);
      }
    });
  }
  ~HungServer() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
    for (int c : accepted_) close(c);
  }
  int port() const { return port_; }
  size_t accepted() {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_.size();
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> accepted_;  // guarded by mu_: held open, never answered
};

// The exit status of `pid` once it exits within `seconds`, else -1 (then it is killed).
int waitExit(pid_t pid, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// As if the cluster provider had granted spr's AccessRequest for <ns>/<name>'s MCP with a
// kubeconfig pointing at `server`. Made before the MCP's ClusterRequest exists, so the
// local API server's own cluster provider leaves the grant alone.
void grantAccessTo(E2E& env, const std::string& ns, const std::string& name, const std::string& server) {
  const std::string mcpNs = k8s::mcpNamespace(ns, name);
  const std::string ar = "crossplane-" + name;
  ASSERT_TRUE(E2E::createOk(*env.platform, testing::kNamespaces, "",
                            {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", mcpNs}}}}));
  const std::string kubeconfig =
      "apiVersion: v1\nkind: Config\nclusters:\n- name: hung\n  cluster:\n    server: " + server +
      "\nusers:\n- name: hung\n  user:\n    token: not-a-secret\ncontexts:\n- name: hung\n"
      "  context:\n    cluster: hung\n    user: hung\ncurrent-context: hung\n";
  ASSERT_TRUE(E2E::createOk(*env.platform, kSecrets, mcpNs,
                            {{"apiVersion", "v1"},
                             {"kind", "Secret"},
                             {"metadata", {{"name", ar + "-kubeconfig"}, {"namespace", mcpNs}}},
                             {"data", {{"kubeconfig", sim::base64Encode(kubeconfig)}}}}));
  auto created = env.platform->create(kAccessRequests, mcpNs,
                                      {{"apiVersion", "clusters.openmcp.cloud/v1alpha1"},
                                       {"kind", "AccessRequest"},
                                       {"metadata", {{"name", ar}, {"namespace", mcpNs}}},
                                       {"spec", {{"requestRef", {{"name", name}, {"namespace", mcpNs}}}}}});
  ASSERT_TRUE(created.isOk()) << created.status().toString();
  json granted = *created;
  granted["status"] = {{"phase", "Granted"}, {"secretRef", {{"name", ar + "-kubeconfig"}, {"namespace", mcpNs}}}};
  auto updated = env.platform->updateStatus(kAccessRequests, mcpNs, granted);
  ASSERT_TRUE(updated.isOk()) << updated.status().toString();
}

// {"Observe": {"Succeeded": 3, "Unknown": 1}, ...}: completions by command, from `spr journal stats`.
json completions(const std::string& journal) {
  int status = 0;
  std::string out = spr::testing::runCommand(
      spr::testing::sprBinary() + " journal stats --effects --json --journal " + journal, &status);
  json j = json::parse(out, nullptr, false);
  EXPECT_TRUE(j.is_object()) << out;
  json by = json::object();
  if (!j.is_object()) return by;
  for (const auto& [command, counts] : j["effects"].items()) by[command] = counts["completed"];
  return by;
}

// Effects requested but never completed, from `spr journal stats`.
int openEffects(const std::string& journal) {
  int status = 0;
  json j = json::parse(spr::testing::runCommand(
                           spr::testing::sprBinary() + " journal stats --effects --json --journal " + journal, &status),
                       nullptr, false);
  if (!j.is_object()) return -1;
  int open = 0;
  for (const auto& [command, counts] : j["effects"].items()) {
    int completed = 0;
    for (const auto& [outcome, n] : counts["completed"].items()) completed += n.get<int>();
    open += counts.value("requested", 0) - completed;
  }
  return open;
}

// `scheme` http: the call hangs waiting for the response; https: in the TLS handshake.
void sigtermDuringAHungCall(const std::string& scheme) {
  E2E env("hung-" + scheme);
  env.createConfig();
  HungServer hung;
  const std::string ns = "project-h--ws-1";
  grantAccessTo(env, ns, "mcp", scheme + "://127.0.0.1:" + std::to_string(hung.port()));
  env.createRequest(ns, "mcp");
  const std::string journal = env.dir + "/journal", logFile = env.dir + "/run.log";
  pid_t pid = testing::spawnRun(env, journal, logFile);
  // The provider's Observe has connected to the hung server and waits for its answer.
  ASSERT_TRUE(eventually([&] { return hung.accepted() > 0; }, 60)) << readFile(logFile);

  auto sent = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int code = waitExit(pid, 20);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  EXPECT_EQ(code, 0) << readFile(logFile);
  std::printf("spr run exited %.2f s after SIGTERM (%s)\n", took, scheme.c_str());
  // curl's request timeout is 30 s a call (and the client retries); the grace is 0.5 s and
  // curl looks at the stop flag about once a second.
  EXPECT_LT(took, 3.0) << readFile(logFile);
  EXPECT_NE(readFile(logFile).find("effect interrupted by shutdown"), std::string::npos) << readFile(logFile);
  json before = completions(journal);
  EXPECT_FALSE(before.value("Observe", json::object()).contains("Unknown")) << before.dump();

  // The server is fixed (the hung grant goes; the local API server grants a real one).
  const std::string mcpNs = k8s::mcpNamespace(ns, "mcp");
  ASSERT_TRUE(env.platform->remove(kAccessRequests, mcpNs, "crossplane-mcp").isOk());
  ASSERT_TRUE(env.platform->remove(kSecrets, mcpNs, "crossplane-mcp-kubeconfig").isOk());
  pid = testing::spawnRun(env, journal, logFile);
  EXPECT_TRUE(eventually([&] { return env.isReady(ns, "mcp"); }, 60)) << env.get(ns, "mcp").dump();
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(waitExit(pid, 20), 0) << readFile(logFile);
  // The effect SIGTERM interrupted (the first to reach the MCP: Observe, or Create when
  // Observe found nothing on the platform) was completed after the restart: Unknown for an
  // Observe, a resumed run for a Create. Either way no effect is left without a completion.
  json after = completions(journal);
  EXPECT_EQ(openEffects(journal), 0) << after.dump();
  EXPECT_EQ(after["Observe"].value("Unknown", 0) + (after.contains("Create") ? 1 : 0), 1) << after.dump();
}

TEST(ShutdownE2E, SigtermWhileAnEffectAwaitsAHungApiServersAnswerExitsPromptlyAndTheRestartCompletesIt) {
  sigtermDuringAHungCall("http");
}

TEST(ShutdownE2E, SigtermWhileAnEffectIsStuckInTheTlsHandshakeExitsPromptlyAndTheRestartCompletesIt) {
  sigtermDuringAHungCall("https");
}

// `spr run` against a platform cluster (and with `extra` flags) that accepts and never
// answers: SIGTERM once it has connected must end it promptly with exit 0.
void sigtermAgainstAHungPlatform(const std::string& what, const std::vector<std::string>& extra) {
  HungServer hung;
  const std::string dir = ::testing::TempDir() + "spr-hung-platform-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string kubeconfig = dir + "/kubeconfig";
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\nclusters:\n- name: hung\n  cluster:\n"
                            << "    server: http://127.0.0.1:" << hung.port()
                            << "\nusers:\n- name: hung\n  user:\n    token: not-a-secret\ncontexts:\n"
                            << "- name: hung\n  context:\n    cluster: hung\n    user: hung\n"
                            << "current-context: hung\n";
  std::vector<std::string> args = {"run",
                                   "--provider-name",
                                   "crossplane",
                                   "--journal",
                                   dir + "/journal",
                                   "--platform-kubeconfig",
                                   kubeconfig,
                                   "--health-probe-bind-address",
                                   "127.0.0.1:0",
                                   "--metrics-bind-address",
                                   "127.0.0.1:0"};
  for (const auto& e : extra) args.push_back(e == "KUBECONFIG" ? kubeconfig : e);
  const std::string logFile = dir + "/run.log";
  pid_t pid = testing::spawnSpr(args, logFile, "w");
  ASSERT_TRUE(eventually([&] { return hung.accepted() > 0; }, 60)) << readFile(logFile);
  auto sent = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int code = waitExit(pid, 20);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  std::printf("spr run exited %.2f s after SIGTERM (%s)\n", took, what.c_str());
  EXPECT_EQ(code, 0) << readFile(logFile);
  EXPECT_LT(took, 3.0) << readFile(logFile);
  std::filesystem::remove_all(dir);
}

// Start-up without --onboarding-kubeconfig asks the platform cluster for onboarding access;
// a hung platform held SIGTERM for curl's timeouts and retries (118 s measured before).
TEST(ShutdownE2E, SigtermWhileAskingAHungPlatformForOnboardingAccessExitsPromptly) {
  sigtermAgainstAHungPlatform("waiting for onboarding access", {});
}

// The same while waiting for the Lease (118 s measured before).
TEST(ShutdownE2E, SigtermWhileWaitingForTheLeaseOnAHungPlatformExitsPromptly) {
  sigtermAgainstAHungPlatform("waiting for the Lease", {"--leader-elect", "--onboarding-kubeconfig", "KUBECONFIG"});
}

// stop() now cuts the elector's calls short; the Lease is still given up on a clean stop
// (on a client of its own), so a standby need not wait out the lease duration.
TEST(ShutdownE2E, ACleanStopStillReleasesTheLease) {
  E2E env("release");
  env.createConfig();
  const k8s::GroupVersionResource leases{"coordination.k8s.io", "v1", "leases", true};
  auto op = testing::startOperator(env, [](OperatorOptions& o) { o.leaderElect = true; });
  ASSERT_TRUE(op);
  auto holder = [&] {
    auto lease = env.platform->get(leases, "default", "spr-crossplane");
    return lease.isOk() ? (*lease)["spec"].value("holderIdentity", "") : std::string("(no lease)");
  };
  ASSERT_TRUE(eventually([&] { return !holder().empty() && holder() != "(no lease)"; })) << holder();
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
  EXPECT_EQ(holder(), "");
}

}  // namespace
}  // namespace spr::runtime
