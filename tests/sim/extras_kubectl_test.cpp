// Real kubectl (1.32, /usr/bin/kubectl) against a running SimServer: discovery, OpenAPI v3
// (kubectl sends fieldValidation=Strict only when the documents satisfy it), CRDs,
// custom objects (create/get/list/patch/delete), watch output, 401 and 422 as a user sees them,
// and the typed one-liners (`kubectl create namespace|configmap|secret|serviceaccount`) that
// send protobuf bodies.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/server.h"
#include "tests/support/spawn.h"

namespace spr::sim {
namespace {

using nlohmann::json;
const char* kKubectl = "/usr/bin/kubectl";

struct KubectlRun {
  int exitCode = -1;
  std::string output;  // stdout and stderr
};

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class KubectlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SimOptions options;
    options.clusters = {"onboarding"};
    auto started = SimServer::start(options);
    ASSERT_TRUE(started.isOk()) << started.status().toString();
    server_ = std::move(*started).release();
    char dirTemplate[] = "/tmp/spr-kubectl-XXXXXX";
    ASSERT_NE(mkdtemp(dirTemplate), nullptr);
    dir_ = dirTemplate;
    writeFile(dir_ + "/kubeconfig", server_->kubeconfigYaml());
  }
  static void TearDownTestSuite() {
    delete server_;  // stops the server
    server_ = nullptr;
    if (!dir_.empty()) std::system(("rm -rf " + shellQuote(dir_)).c_str());
  }
  void SetUp() override {
    ASSERT_EQ(access(kKubectl, X_OK), 0)
        << kKubectl << " is missing or not executable: run scripts/setup.sh to install kubectl 1.32";
    ASSERT_NE(server_, nullptr);
  }

  static void writeFile(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
  }

  // Common flags: our kubeconfig, the onboarding context, a private discovery cache.
  static std::string base(const std::string& kubeconfig = "", const std::string& cache = "cache") {
    return std::string(kKubectl) + " --kubeconfig " +
           shellQuote(kubeconfig.empty() ? dir_ + "/kubeconfig" : kubeconfig) + " --context onboarding --cache-dir " +
           shellQuote(dir_ + "/" + cache) + " --request-timeout=20s ";
  }

  static KubectlRun kubectl(const std::string& args, const std::string& kubeconfig = "",
                            const std::string& cache = "cache") {
    KubectlRun r;
    std::string cmd = base(kubeconfig, cache) + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    int status = pclose(p);
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }

  static KubectlRun apply(const std::string& verb, const std::string& name, const std::string& yaml) {
    std::string file = dir_ + "/" + name + ".yaml";
    writeFile(file, yaml);
    return kubectl(verb + " -f " + shellQuote(file));
  }

  static void createCrd() {
    static bool created = false;
    if (created) return;
    KubectlRun r = apply("create", "crd", R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Ready, type: string, jsonPath: ".status.conditions[?(@.type=='Ready')].status"}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
              color: {type: string, default: blue}
)");
    ASSERT_EQ(r.exitCode, 0) << r.output;
    EXPECT_NE(r.output.find("customresourcedefinition.apiextensions.k8s.io/widgets.example.com created"),
              std::string::npos)
        << r.output;
    r = kubectl("wait --for=condition=Established crd/widgets.example.com --timeout=30s");
    ASSERT_EQ(r.exitCode, 0) << r.output;
    EXPECT_NE(r.output.find("condition met"), std::string::npos) << r.output;
    created = true;
  }

  static std::string widget(const std::string& name, const std::string& spec) {
    return "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: " + name +
           "\n  namespace: default\nspec: " + spec + "\n";
  }

  static SimServer* server_;
  static std::string dir_;
};

SimServer* KubectlTest::server_ = nullptr;
std::string KubectlTest::dir_;

TEST_F(KubectlTest, CustomObjectLifecycle) {
  createCrd();
  KubectlRun r = apply("create", "w1", widget("w1", "{size: 3}"));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("widget.example.com/w1 created"), std::string::npos) << r.output;

  r = kubectl("get widget w1 -n default -o json");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  json w = json::parse(r.output, nullptr, false);
  ASSERT_TRUE(w.is_object()) << r.output;
  EXPECT_EQ(w["spec"]["size"], 3);
  EXPECT_EQ(w["spec"]["color"], "blue");  // schema default applied by the server
  EXPECT_FALSE(w["metadata"]["uid"].get<std::string>().empty());

  r = kubectl("get widgets -n default -o json");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  json list = json::parse(r.output, nullptr, false);
  ASSERT_TRUE(list.is_object()) << r.output;
  bool found = false;
  for (const auto& item : list["items"]) found |= item["metadata"]["name"] == "w1";
  EXPECT_TRUE(found) << r.output;

  r = kubectl("patch widget w1 -n default --type merge -p " + shellQuote(R"({"spec":{"size":7}})"));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("widget.example.com/w1 patched"), std::string::npos) << r.output;
  r = kubectl("get widget w1 -n default -o jsonpath={.spec.size}");
  EXPECT_EQ(r.output, "7");

  r = kubectl("delete widget w1 -n default");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("widget.example.com \"w1\" deleted"), std::string::npos) << r.output;
  r = kubectl("get widget w1 -n default");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.output.find("NotFound"), std::string::npos) << r.output;
}

TEST_F(KubectlTest, SchemaInvalidObjectIsRejectedWith422) {
  createCrd();
  KubectlRun r = apply("create", "bad", widget("bad", "{size: big}"));
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.output.find("is invalid"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("spec.size"), std::string::npos) << r.output;
  r = apply("create", "small", widget("small", "{size: 0}"));
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.output.find("spec.size in body should be greater than or equal to 1"), std::string::npos) << r.output;
}

TEST_F(KubectlTest, UnknownFieldIsRejectedBecauseKubectlAsksForStrict) {
  createCrd();
  KubectlRun r = apply("create", "extra", widget("extra", "{size: 1, bogus: true}"));
  EXPECT_NE(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("unknown field \"spec.bogus\""), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("failed to download openapi"), std::string::npos) << r.output;
}

TEST_F(KubectlTest, WrongTokenIsUnauthorized) {
  std::string yaml = server_->kubeconfigYaml();
  std::string marker = "    token: ";
  size_t pos = yaml.find(marker);
  ASSERT_NE(pos, std::string::npos);
  size_t end = yaml.find('\n', pos);
  yaml.replace(pos + marker.size(), end - pos - marker.size(), "not-the-token");
  writeFile(dir_ + "/wrong", yaml);
  // Cold discovery cache: kubectl fails on discovery and words the 401 itself.
  KubectlRun r = kubectl("get namespaces", dir_ + "/wrong", "cold-cache");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(
      r.output.find(
          "error: You must be logged in to the server (the server has asked for the client to provide credentials)"),
      std::string::npos)
      << r.output;
  // Warm cache (filled by a call with the right token): the GET itself gets the 401 and
  // kubectl prints the Status message the server sent — unless kubectl decides to refresh
  // discovery first (seen under load), which words the same 401 as above.
  ASSERT_EQ(kubectl("get namespaces", "", "warm-cache").exitCode, 0);
  r = kubectl("get namespaces", dir_ + "/wrong", "warm-cache");
  EXPECT_NE(r.exitCode, 0);
  bool unauthorized = r.output.find("error: You must be logged in to the server (Unauthorized)") != std::string::npos ||
                      r.output.find(
                          "error: You must be logged in to the server (the server has asked for the client "
                          "to provide credentials)") != std::string::npos;
  EXPECT_TRUE(unauthorized) << r.output;
}

// Reads what a child wrote to `fd` until `needle` shows up or the deadline passes.
bool waitForOutput(int fd, std::string& seen, const std::string& needle, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (seen.find(needle) == std::string::npos) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return seen.find(needle) != std::string::npos;
    seen.append(buf, static_cast<size_t>(n));
  }
  return true;
}

// Server-side printing: kubectl shows the CRD's additionalPrinterColumns, as against a
// real API server (not just NAME and AGE).
TEST_F(KubectlTest, GetPrintsTheCrdPrinterColumns) {
  createCrd();
  ASSERT_EQ(apply("create", "printed", widget("printed", "{size: 7}")).exitCode, 0);
  KubectlRun r = kubectl("get widgets -n default");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  std::string header = r.output.substr(0, r.output.find('\n'));
  for (const char* column : {"NAME", "SIZE", "COLOR", "READY", "AGE"})
    EXPECT_NE(header.find(column), std::string::npos) << column << " missing from:\n" << r.output;
  size_t row = r.output.find("\nprinted ");
  ASSERT_NE(row, std::string::npos) << r.output;
  std::string line = r.output.substr(row + 1, r.output.find('\n', row + 1) - row - 1);
  EXPECT_NE(line.find(" 7 "), std::string::npos) << line;
  EXPECT_NE(line.find("blue"), std::string::npos) << line;  // the schema default
  r = kubectl("get widgets -A");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(r.output.rfind("NAMESPACE", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("default "), std::string::npos) << r.output;
  r = kubectl("get widget printed -n default -o jsonpath={.spec.size}");  // not a Table
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(r.output, "7");
}

TEST_F(KubectlTest, WatchPrintsChanges) {
  createCrd();
  ASSERT_EQ(apply("create", "watch1", widget("watch-one", "{size: 1}")).exitCode, 0);
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);  // the child keeps only the write end, as its stdout and stderr
  spr::testing::SpawnOptions spawn;
  spawn.outputFd = fds[1];
  pid_t pid = spr::testing::spawnProcess({"/bin/sh", "-c", "exec " + base() + "get widgets -n default -w"}, spawn);
  ASSERT_GE(pid, 0);
  close(fds[1]);
  std::string seen;
  bool initial = waitForOutput(fds[0], seen, "watch-one", std::chrono::seconds(20));
  bool change = false;
  if (initial) {
    EXPECT_EQ(apply("create", "watch2", widget("watch-two", "{size: 2}")).exitCode, 0);
    change = waitForOutput(fds[0], seen, "watch-two", std::chrono::seconds(20));
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[0]);
  EXPECT_TRUE(initial) << "kubectl get -w never listed watch-one; it printed:\n" << seen;
  EXPECT_TRUE(change) << "kubectl get -w never printed the new watch-two; it printed:\n" << seen;
}

// kubectl's typed one-liners POST application/vnd.kubernetes.protobuf; the sim decodes them.
TEST_F(KubectlTest, ProtobufOneLinersCreateLabelAnnotateAndDelete) {
  KubectlRun r = kubectl("create namespace pb-ns");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("namespace/pb-ns created"), std::string::npos) << r.output;
  r = kubectl("create configmap pb-cm -n pb-ns --from-literal=a=b --from-literal=c=d");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("configmap/pb-cm created"), std::string::npos) << r.output;
  r = kubectl("create secret generic pb-secret -n pb-ns --from-literal=k=v");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("secret/pb-secret created"), std::string::npos) << r.output;
  r = kubectl("create serviceaccount pb-sa -n pb-ns");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("serviceaccount/pb-sa created"), std::string::npos) << r.output;

  r = kubectl("get namespace pb-ns -o jsonpath={.status.phase}");
  EXPECT_EQ(r.output, "Active");
  r = kubectl("get configmap pb-cm -n pb-ns -o json");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  json cm = json::parse(r.output, nullptr, false);
  ASSERT_TRUE(cm.is_object()) << r.output;
  EXPECT_EQ(cm["data"], json({{"a", "b"}, {"c", "d"}}));
  r = kubectl("get secret pb-secret -n pb-ns -o jsonpath={.data.k}");
  EXPECT_EQ(r.output, "dg==");  // base64("v")
  r = kubectl("get serviceaccount pb-sa -n pb-ns -o jsonpath={.metadata.namespace}");
  EXPECT_EQ(r.output, "pb-ns");

  r = kubectl("label namespace pb-ns team=a");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("namespace/pb-ns labeled"), std::string::npos) << r.output;
  r = kubectl("annotate configmap pb-cm -n pb-ns note=hi");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("configmap/pb-cm annotated"), std::string::npos) << r.output;
  EXPECT_EQ(kubectl("get namespace pb-ns -o jsonpath={.metadata.labels.team}").output, "a");
  EXPECT_EQ(kubectl("get configmap pb-cm -n pb-ns -o jsonpath={.metadata.annotations.note}").output, "hi");

  r = kubectl("delete namespace pb-ns");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("namespace \"pb-ns\" deleted"), std::string::npos) << r.output;
  r = kubectl("get configmap pb-cm -n pb-ns");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.output.find("NotFound"), std::string::npos) << r.output;
}

// A kind the sim does not decode from protobuf: 415 naming the kind and the YAML/JSON route.
TEST_F(KubectlTest, ProtobufOfOtherKindsIsRefusedWithTheFix) {
  KubectlRun r = kubectl("create deployment pb-deploy --image=nginx");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.output.find("cannot decode a protobuf Deployment (apps/v1)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kubectl create -f"), std::string::npos) << r.output;
  EXPECT_NE(kubectl("get deployment pb-deploy").exitCode, 0);
}

// --dry-run=server answers as a write would, and changes nothing.
TEST_F(KubectlTest, ServerDryRunChangesNothing) {
  KubectlRun r = kubectl("create namespace dry-ns --dry-run=server");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("namespace/dry-ns created (server dry run)"), std::string::npos) << r.output;
  EXPECT_NE(kubectl("get namespace dry-ns").exitCode, 0);
  ASSERT_EQ(kubectl("create configmap dry-cm --from-literal=a=b").exitCode, 0);
  r = kubectl("delete configmap dry-cm --dry-run=server");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("(server dry run)"), std::string::npos) << r.output;
  EXPECT_EQ(kubectl("get configmap dry-cm -o jsonpath={.data.a}").output, "b");
}

}  // namespace
}  // namespace spr::sim
