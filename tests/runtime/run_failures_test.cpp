// What an operator of `spr run` sees when things go wrong, with real `spr` processes and
// the local API server: an unreachable or untrusted cluster is logged with its address and
// the reason and named by /readyz, SIGTERM ends start-up promptly, a failed start logs an
// error, bad flags exit 2 naming the flag; and in process, /readyz fails while a watch
// cannot reconnect and recovers by itself; `spr demo` reports its process's time.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/runtime/e2e_env.h"
#include "tests/support/paths.h"
#include "tests/support/run_command.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
using testing::E2E;
using testing::eventually;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The exit status of `pid` once it exits within `seconds`, else -1 (then it is killed).
int waitExit(pid_t pid, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// The first log line (JSON) whose msg is `message`, or null.
json logLine(const std::string& logFile, const std::string& message) {
  std::istringstream lines(readFile(logFile));
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == message) return j;
  }
  return nullptr;
}

std::pair<int, std::string> readyz(int port) {
  httplib::Client health("127.0.0.1", port);
  auto r = health.Get("/readyz");
  return r ? std::make_pair(r->status, r->body) : std::make_pair(0, std::string());
}

// A port nothing listens on (bound, then closed).
int closedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::vector<std::string> runArgs(const std::string& kubeconfig, const std::string& journal) {
  return {"run",
          "--provider-name",
          "crossplane",
          "--journal",
          journal,
          "--platform-kubeconfig",
          kubeconfig + "#platform",
          "--onboarding-kubeconfig",
          kubeconfig + "#onboarding",
          "--health-probe-bind-address",
          "127.0.0.1:0"};
}

// Starts `spr run`, waits for the failure to be logged (10 s), checks /readyz names it,
// then SIGTERM must end the process within 5 s with exit 0.
void expectVisibleFailureThenPromptStop(const std::string& kubeconfig, const std::string& dir,
                                        const std::string& address, const std::string& reason) {
  const std::string logFile = dir + "/run.log";
  pid_t pid = testing::spawnSpr(runArgs(kubeconfig, dir + "/journal"), logFile, "w");
  json failure;
  EXPECT_TRUE(eventually([&] { return !(failure = logLine(logFile, "cannot watch cluster")).is_null(); }, 10))
      << readFile(logFile);
  EXPECT_EQ(failure.value("cluster", ""), "platform");
  EXPECT_NE(failure.value("address", "").find(address), std::string::npos) << failure.dump();
  EXPECT_NE(failure.value("reason", "").find(reason), std::string::npos) << failure.dump();
  json serving = logLine(logFile, "serving health probes");
  ASSERT_FALSE(serving.is_null()) << readFile(logFile);
  auto [code, body] = readyz(serving.value("port", 0));
  EXPECT_EQ(code, 500);
  EXPECT_NE(body.find(reason), std::string::npos) << body;
  EXPECT_NE(body.find(address), std::string::npos) << body;
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(waitExit(pid, 5), 0) << readFile(logFile);
  EXPECT_EQ(readFile(logFile).find("\"level\":\"error\""), std::string::npos) << readFile(logFile);
}

TEST(SprRunFailures, UnreachablePlatformIsLoggedWithAddressAndReasonAndSigtermEndsStartUp) {
  E2E env("unreachable");
  const std::string address = "127.0.0.1:" + std::to_string(closedPort());
  std::string yaml = readFile(env.kubeconfig);
  const std::string live = env.platformConfig.server.substr(0, env.platformConfig.server.find("/clusters/"));
  for (size_t at; (at = yaml.find(live)) != std::string::npos;) yaml.replace(at, live.size(), "https://" + address);
  std::ofstream(env.dir + "/dead.kubeconfig") << yaml;
  expectVisibleFailureThenPromptStop(env.dir + "/dead.kubeconfig", env.dir, address, "connection refused");
}

TEST(SprRunFailures, UntrustedCertificateIsNamedAndSigtermEndsStartUp) {
  E2E env("untrusted");
  std::istringstream lines(readFile(env.kubeconfig));
  std::ofstream out(env.dir + "/untrusted.kubeconfig");
  for (std::string line; std::getline(lines, line);)
    if (line.find("certificate-authority-data") == std::string::npos) out << line << "\n";
  out.close();
  const std::string address = env.platformConfig.server;
  expectVisibleFailureThenPromptStop(env.dir + "/untrusted.kubeconfig", env.dir, address, "not trusted");
}

TEST(SprRunFailures, AFailedStartLogsAnErrorNotStoppedOk) {
  E2E env("failedstart");
  std::ofstream(env.dir + "/not-a-dir") << "a file where the journal directory should be\n";
  const std::string logFile = env.dir + "/run.log";
  pid_t pid = testing::spawnSpr(runArgs(env.kubeconfig, env.dir + "/not-a-dir"), logFile, "w");
  int code = waitExit(pid, 30);
  EXPECT_NE(code, 0) << readFile(logFile);
  json stopped = logLine(logFile, "operator stopped");
  if (!stopped.is_null()) {
    EXPECT_EQ(stopped.value("level", ""), "error") << stopped.dump();
  }
  EXPECT_EQ(readFile(logFile).find("\"status\":\"OK\""), std::string::npos) << readFile(logFile);
}

TEST(SprRunFailures, AMetricsPortInUseExitsTwoNamingIt) {
  E2E env("portinuse");
  httplib::Server holder;
  int port = holder.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { holder.listen_after_bind(); });
  auto args = runArgs(env.kubeconfig, env.dir + "/journal");
  args.insert(args.end(), {"--metrics-bind-address", "127.0.0.1:" + std::to_string(port)});
  const std::string logFile = env.dir + "/run.log";
  int code = waitExit(testing::spawnSpr(args, logFile, "w"), 30);
  holder.stop();
  serving.join();
  EXPECT_EQ(code, 2) << readFile(logFile);
  EXPECT_NE(readFile(logFile).find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << readFile(logFile);
}

struct BadInput {
  std::string args, mentions;
};

TEST(SprCliInput, EachBadInputExitsTwoNamingTheFlag) {
  const std::string spr = spr::testing::sprBinary();
  char tmpl[] = "/tmp/spr-badinput-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/existing.bundle") << "keep me";
  std::ofstream(dir + "/empty.kubeconfig").close();
  const std::string run =
      "run --provider-name crossplane --journal " + dir + "/j --platform-kubeconfig " + dir + "/empty.kubeconfig ";
  const std::vector<BadInput> cases = {
      {run + "--rate-limit-qps 0", "--rate-limit-qps"},
      {run + "--rate-limit-qps -1", "--rate-limit-qps"},
      {run + "--delay-scale nan", "--delay-scale"},
      {run + "--verbosity LOUD", "--verbosity"},
      {run + "--pod-namespace Bad_NS", "--pod-namespace"},
      {run + "--provider-config-name Default", "--provider-config-name \"Default\" is not a Kubernetes object name"},
      {run + "--provider-config-name x-", "--provider-config-name"},
      {run + "--provider-config-name a..b", "--provider-config-name"},
      {"run --provider-name crossplane --journal ''", "--journal"},
      {run + "--metrics-bind-address 127.0.0.1:99999", "65535"},
      {run + "--health-probe-bind-address :-1", "65535"},
      {run + "--workers 2 --workers 3", "--workers is given twice"},
      {run, "holds no clusters and no contexts"},
      {"audit --journal " + dir + "/j --tenant ''", "--tenant"},
      {"audit --journal " + dir + "/j --tenant t --since 2025-01-02T00:00:00Z --until 2025-01-01T00:00:00Z", "--since"},
      {"journal export --journal " + dir + "/j --tenant t --out " + dir + "/existing.bundle", "already exists"},
  };
  for (const BadInput& c : cases) {
    int status = 0;
    std::string out = spr::testing::runCommand(spr + " " + c.args, &status);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << c.args << "\n" << out;
    EXPECT_NE(out.find(c.mentions), std::string::npos) << c.args << "\n" << out;
  }
  EXPECT_EQ(readFile(dir + "/existing.bundle"), "keep me");
  int status = 0;
  std::string help = spr::testing::runCommand(spr + " audit --help", &status);
  EXPECT_NE(help.find("3 the journal failed verification"), std::string::npos) << help;
  std::filesystem::remove_all(dir);
}

// `spr demo` reports the time the whole process took and exits right after saying so
// (it used to wait out its own keep-alive connections for ~5 s after the report).
TEST(SprDemo, ReportsTheProcessTimeAndExitsPromptly) {
  char dir[] = "/tmp/spr-demo-time-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string journal = std::string(dir) + "/journal";
  auto begin = std::chrono::steady_clock::now();
  int status = 0;
  std::string out = spr::testing::runCommand(spr::testing::sprBinary() + " demo --journal " + journal, &status);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  const std::string marker = "all steps passed in ";
  auto at = out.find(marker);
  ASSERT_NE(at, std::string::npos) << out;
  double reported = std::strtod(out.c_str() + at + marker.size(), nullptr);
  EXPECT_GT(reported, 0.5) << out;
  EXPECT_LT(wall - reported, 1.0) << "reported " << reported << " s, the process took " << wall << " s";
  std::filesystem::remove_all(dir);
}

// In process: a watch that cannot reconnect (its re-lists answered 5xx) makes /readyz fail
// with the reason within seconds; once the API server answers again it is ready by itself.
TEST(OperatorReadiness, FailsWithTheReasonWhileAWatchCannotReconnectAndRecovers) {
  E2E env("readyz");
  auto op = testing::startOperator(env, [](OperatorOptions& o) { o.healthProbeBindAddress = "127.0.0.1:0"; });
  ASSERT_TRUE(op);
  ASSERT_TRUE(eventually([&] { return readyz(op->healthPort()).first == 200; }, 30));
  sim::FaultOptions faults;
  faults.errorRate = 1;
  faults.watchDropRate = 1;
  faults.expireResourceVersions = true;
  env.simServer->setFaults(faults);
  std::string body;
  EXPECT_TRUE(eventually(
      [&] {
        auto r = readyz(op->healthPort());
        body = r.second;
        return r.first == 500 && body.find("cannot watch the") != std::string::npos;
      },
      15))
      << body;
  EXPECT_NE(body.find("/clusters/"), std::string::npos) << body;  // the address
  env.simServer->setFaults(sim::FaultOptions{});
  EXPECT_TRUE(eventually([&] { return readyz(op->healthPort()).first == 200; }, 60)) << readyz(op->healthPort()).second;
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

}  // namespace
}  // namespace spr::runtime
