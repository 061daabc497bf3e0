// `spr run --metrics-secure` as a real process, scraped over real HTTPS, with the local API
// server as the platform cluster answering TokenReviews and SubjectAccessReviews from its
// RBAC (deploy/rbac.yaml applied with real kubectl): allowed 200, unbound ServiceAccount
// 403, anonymous and garbage tokens 401, probes without a token; no token in the log.
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "tests/runtime/e2e_env.h"
#include "tests/support/run_command.h"

namespace spr::runtime::testing {
namespace {

std::string testName() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The "port" of the first log line whose msg is `message`, 0 until there is one.
int loggedPort(const std::string& logFile, const std::string& message) {
  std::istringstream lines(readFile(logFile));
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == message) return j.value("port", 0);
  }
  return 0;
}

int waitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const k8s::GroupVersionResource kServiceAccounts{"", "v1", "serviceaccounts", true};
const k8s::GroupVersionResource kClusterRoleBindings{"rbac.authorization.k8s.io", "v1", "clusterrolebindings", false};

// A ServiceAccount in openmcp-system and a token for it (what `kubectl create token` does).
std::string serviceAccountToken(E2E& env, const std::string& name) {
  EXPECT_TRUE(E2E::createOk(*env.platform, kServiceAccounts, "openmcp-system",
                            {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", name}}}}));
  json request = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", json::object()}};
  auto r = env.platform->request(
      {"POST", "/api/v1/namespaces/openmcp-system/serviceaccounts/" + name + "/token", request.dump(), ""});
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  return r.isOk() ? (*r)["status"].value("token", "") : "";
}

int scrape(int port, const std::string& token, const std::string& path = "/metrics", std::string* body = nullptr) {
  httplib::SSLClient c("127.0.0.1", port);
  c.enable_server_certificate_verification(false);
  c.set_read_timeout(30, 0);
  if (!token.empty()) c.set_bearer_token_auth(token);
  auto r = c.Get(path);
  if (r && body) *body = r->body;
  return r ? r->status : 0;
}

TEST(MetricsAuthE2E, OnlyScrapersTheClusterAllowsGetTheMetrics) {
  E2E env(testName());
  env.createConfig();
  // deploy/rbac.yaml as an operator applies it: spr's ServiceAccount and roles, and the
  // spr-metrics-reader ClusterRole for scrapers.
  int status = 0;
  std::string out =
      spr::testing::runCommand("kubectl --kubeconfig " + env.kubeconfig + " --context platform --cache-dir " + env.dir +
                                   "/kubectl-cache apply -f " + spr::testing::sourceDir() + "/deploy/rbac.yaml",
                               &status);
  ASSERT_EQ(status, 0) << out;
  const std::string prometheus = serviceAccountToken(env, "prometheus");
  const std::string stranger = serviceAccountToken(env, "stranger");
  ASSERT_FALSE(prometheus.empty() || stranger.empty());
  ASSERT_TRUE(E2E::createOk(
      *env.platform, kClusterRoleBindings, "",
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "ClusterRoleBinding"},
       {"metadata", {{"name", "prometheus-spr-metrics"}}},
       {"roleRef",
        {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "spr-metrics-reader"}}},
       {"subjects",
        json::array({{{"kind", "ServiceAccount"}, {"name", "prometheus"}, {"namespace", "openmcp-system"}}})}}));

  const std::string log = env.dir + "/run.log";
  pid_t pid = spawnRun(env, env.dir + "/journal", log,
                       {"--metrics-secure", "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address",
                        "127.0.0.1:0", "--verbosity", "DEBUG"});
  int metrics = 0, health = 0;
  ASSERT_TRUE(eventually([&] {
    metrics = loggedPort(log, "serving metrics");
    health = loggedPort(log, "serving health probes");
    return metrics > 0 && health > 0;
  })) << readFile(log);

  std::string body;
  EXPECT_EQ(scrape(metrics, prometheus, "/metrics", &body), 200);
  EXPECT_NE(body.find("controller_runtime_reconcile_total"), std::string::npos) << body;
  EXPECT_EQ(scrape(metrics, stranger, "/metrics", &body), 403);
  EXPECT_EQ(body, "Authorization denied for user system:serviceaccount:openmcp-system:stranger\n");
  EXPECT_EQ(scrape(metrics, "", "/metrics", &body), 401) << "anonymous";
  EXPECT_EQ(scrape(metrics, "garbage-token-0123456789", "/metrics", &body), 401);
  EXPECT_EQ(body, "Unauthorized\n");
  EXPECT_EQ(scrape(metrics, env.platformConfig.bearerToken), 200) << "the cluster admin (system:masters)";
  // Every path is guarded, as in controller-runtime: nothing is revealed before the checks,
  // and the SubjectAccessReview is for the path asked.
  EXPECT_EQ(scrape(metrics, "", "/debug/pprof"), 401);
  EXPECT_EQ(scrape(metrics, prometheus, "/debug/pprof"), 403) << "spr-metrics-reader grants /metrics only";
  // kubelet probes carry no token.
  httplib::Client probes("127.0.0.1", health);
  auto healthz = probes.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);

  kill(pid, SIGTERM);
  EXPECT_EQ(waitExit(pid), 0) << readFile(log);
  const std::string text = readFile(log);
  for (const std::string& secret :
       {prometheus, stranger, std::string("garbage-token-0123456789"), env.platformConfig.bearerToken})
    EXPECT_EQ(text.find(secret), std::string::npos) << "a token reached the log";
  EXPECT_NE(text.find("system:serviceaccount:openmcp-system:stranger"), std::string::npos)
      << "the denial is logged at DEBUG with the user's name";
}

TEST(MetricsAuthE2E, MetricsAuthFlagIsChecked) {
  E2E env(testName());
  const std::string log = env.dir + "/run.log";
  EXPECT_EQ(waitExit(spawnRun(env, env.dir + "/journal", log, {"--metrics-secure", "--metrics-auth", "maybe"})), 2);
  EXPECT_NE(readFile(log).find("--metrics-auth \"maybe\" is not known"), std::string::npos) << readFile(log);
  EXPECT_EQ(waitExit(spawnRun(env, env.dir + "/journal", log, {"--metrics-auth", "none"})), 2);
  EXPECT_NE(readFile(log).find("--metrics-auth needs --metrics-secure"), std::string::npos) << readFile(log);
}

TEST(MetricsAuthE2E, MetricsAuthNoneServesAnyone) {
  E2E env(testName());
  env.createConfig();
  const std::string log = env.dir + "/run.log";
  pid_t pid = spawnRun(env, env.dir + "/journal", log,
                       {"--metrics-secure", "--metrics-auth", "none", "--metrics-bind-address", "127.0.0.1:0"});
  int metrics = 0;
  ASSERT_TRUE(eventually([&] { return (metrics = loggedPort(log, "serving metrics")) > 0; })) << readFile(log);
  EXPECT_EQ(scrape(metrics, ""), 200);
  kill(pid, SIGTERM);
  EXPECT_EQ(waitExit(pid), 0) << readFile(log);
}

}  // namespace
}  // namespace spr::runtime::testing
