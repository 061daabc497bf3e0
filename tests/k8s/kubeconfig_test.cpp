#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "adapters/k8s/config.h"
#include "adapters/k8s/encoding.h"

namespace spr::k8s {
namespace {

// An Env over an in-memory file system and environment.
struct FakeEnv {
  std::map<std::string, std::string> vars, files;
  Env env() const {
    Env e;
    e.getenv = [this](const std::string& n) -> std::optional<std::string> {
      auto it = vars.find(n);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
    e.readFile = [this](const std::string& p) -> Result<std::string> {
      auto it = files.find(p);
      if (it == files.end()) return Status(Code::kNotFound, "cannot read " + p + ": No such file or directory");
      return it->second;
    };
    e.fileExists = [this](const std::string& p) { return files.count(p) > 0; };
    return e;
  }
};

std::string kubeconfig(const std::string& context, const std::string& server, const std::string& user,
                       const std::string& current = "") {
  return "apiVersion: v1\nkind: Config\n" + (current.empty() ? "" : "current-context: " + current + "\n") +
         "clusters:\n- name: " + context + "-cluster\n  cluster:\n    server: " + server +
         "\n    certificate-authority-data: " + base64Encode("CA-" + context) + "\nusers:\n- name: " + context +
         "-user\n  user:\n" + user + "contexts:\n- name: " + context + "\n  context:\n    cluster: " + context +
         "-cluster\n    user: " + context + "-user\n";
}

TEST(Kubeconfig, CurrentContextWithCertificateDataAndPathPrefix) {
  std::string yaml = kubeconfig(
      "kind", "https://127.0.0.1:6443/clusters/onboarding",
      "    client-certificate-data: " + base64Encode("CERT") + "\n    client-key-data: " + base64Encode("KEY") + "\n",
      "kind");
  auto cfg = parseKubeconfig(yaml, "", "file /k");
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  EXPECT_EQ(cfg->name, "kind");
  EXPECT_EQ(cfg->server, "https://127.0.0.1:6443/clusters/onboarding");
  EXPECT_EQ(cfg->caData, "CA-kind");
  EXPECT_EQ(cfg->clientCertData, "CERT");
  EXPECT_EQ(cfg->clientKeyData, "KEY");
  EXPECT_FALSE(cfg->insecureSkipTlsVerify);
}

TEST(Kubeconfig, FilesResolveRelativeToTheKubeconfigFolder) {
  char dir[] = "/tmp/spr-k8s-kcXXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/config";
  std::ofstream(path) << "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
                         "    certificate-authority: certs/ca.crt\n    insecure-skip-tls-verify: true\n"
                         "users:\n- name: u\n  user:\n    tokenFile: /abs/token\n    client-certificate: c.crt\n"
                         "    client-key: c.key\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n";
  auto cfg = loadKubeconfig(path, "x");
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  EXPECT_EQ(cfg->caFile, std::string(dir) + "/certs/ca.crt");
  EXPECT_EQ(cfg->clientCertFile, std::string(dir) + "/c.crt");
  EXPECT_EQ(cfg->clientKeyFile, std::string(dir) + "/c.key");
  EXPECT_EQ(cfg->tokenFile, "/abs/token");
  EXPECT_TRUE(cfg->insecureSkipTlsVerify);
  EXPECT_NE(cfg->source.find(path), std::string::npos);
  std::remove(path.c_str());
  rmdir(dir);
}

TEST(Kubeconfig, FlagSelectsFileAndContext) {
  FakeEnv fs;
  std::string two = kubeconfig("a", "https://a:1", "    token: ta\n", "a");
  two += "- name: b\n  context:\n    cluster: a-cluster\n    user: a-user\n    namespace: ns-b\n";
  fs.files["/cfg"] = two;
  auto b = resolveConfig("/cfg#b", fs.env());
  ASSERT_TRUE(b.isOk()) << b.status().toString();
  EXPECT_EQ(b->name, "b");
  EXPECT_EQ(b->bearerToken, "ta");
  auto deflt = resolveConfig("/cfg", fs.env());
  ASSERT_TRUE(deflt.isOk());
  EXPECT_EQ(deflt->name, "a");
}

TEST(Kubeconfig, MergedKubeconfigListFirstFileWins) {
  FakeEnv fs;
  fs.files["/one"] = kubeconfig("shared", "https://first:1", "    token: t1\n", "shared");
  fs.files["/two"] = kubeconfig("shared", "https://second:2", "    token: t2\n", "other") +
                     "- name: only-two\n  context: {cluster: shared-cluster, user: shared-user}\n";
  fs.vars["KUBECONFIG"] = "/missing:/one::/two";
  fs.vars["KUBERNETES_SERVICE_HOST"] = "10.0.0.1";  // KUBECONFIG comes before in-cluster
  fs.vars["KUBERNETES_SERVICE_PORT"] = "443";
  auto cfg = resolveConfig("", fs.env());
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  EXPECT_EQ(cfg->name, "shared");  // current-context of the first file
  EXPECT_EQ(cfg->server, "https://first:1");
  EXPECT_EQ(cfg->bearerToken, "t1");
  // A context only the second file defines resolves against the first file's cluster.
  fs.files["/one"] = kubeconfig("shared", "https://first:1", "    token: t1\n", "only-two");
  auto merged = resolveConfig("", fs.env());
  ASSERT_TRUE(merged.isOk()) << merged.status().toString();
  EXPECT_EQ(merged->name, "only-two");
  EXPECT_EQ(merged->server, "https://first:1");
}

TEST(Kubeconfig, InClusterViaEnv) {
  FakeEnv fs;
  fs.vars["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
  fs.vars["KUBERNETES_SERVICE_PORT"] = "443";
  fs.vars["HOME"] = "/home/u";
  fs.files["/home/u/.kube/config"] = kubeconfig("home", "https://home:1", "    token: t\n", "home");
  EXPECT_EQ(inClusterConfig(fs.env()).status().code(), Code::kInvalidArgument);  // no token mounted
  fs.files["/var/run/secrets/kubernetes.io/serviceaccount/token"] = "sa-token";
  fs.files["/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"] = "CA";
  auto cfg = resolveConfig("", fs.env());
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  EXPECT_EQ(cfg->server, "https://10.96.0.1:443");
  EXPECT_EQ(cfg->tokenFile, "/var/run/secrets/kubernetes.io/serviceaccount/token");
  EXPECT_EQ(cfg->caFile, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
  EXPECT_EQ(cfg->source, "in-cluster");
  fs.vars["KUBERNETES_SERVICE_HOST"] = "fd00::1";
  EXPECT_EQ(inClusterConfig(fs.env())->server, "https://[fd00::1]:443");
  // Not in a pod: ~/.kube/config.
  fs.vars.erase("KUBERNETES_SERVICE_HOST");
  auto home = resolveConfig("", fs.env());
  ASSERT_TRUE(home.isOk()) << home.status().toString();
  EXPECT_EQ(home->server, "https://home:1");
  fs.files.clear();
  auto none = resolveConfig("", fs.env());
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_NE(none.status().message().find("kubeconfig flag"), std::string::npos);
}

void expectError(const Result<ClusterConfig>& r, std::initializer_list<const char*> parts) {
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  for (const char* part : parts)
    EXPECT_NE(r.status().message().find(part), std::string::npos)
        << "missing \"" << part << "\" in: " << r.status().message();
}

TEST(Kubeconfig, ErrorsNameFileContextAndField) {
  FakeEnv fs;
  fs.files["/bad.yaml"] = "clusters: [\n  - name: x\n  cluster: {server: \n";
  expectError(resolveConfig("/bad.yaml#ctx", fs.env()), {"/bad.yaml", "malformed YAML", "line"});
  fs.files["/ok"] = kubeconfig("kind", "https://h:1", "    token: t\n", "kind");
  expectError(resolveConfig("/ok#nope", fs.env()), {"/ok", "context \"nope\" not found", "kind"});
  expectError(resolveConfig("/unreadable#kind", fs.env()), {"/unreadable", "kind", "cannot read"});
  fs.files["/noserver"] =
      "clusters:\n- name: c\n  cluster: {}\nusers: []\ncontexts:\n- name: k\n  context: {cluster: c}\n";
  expectError(resolveConfig("/noserver#k", fs.env()), {"/noserver", "context \"k\"", "`server`"});
  fs.files["/badb64"] =
      kubeconfig("k", "https://h:1", "    client-certificate-data: '!!notbase64'\n    client-key-data: a2V5\n");
  expectError(resolveConfig("/badb64#k", fs.env()), {"/badb64", "context \"k\"", "client-certificate-data", "base64"});
  fs.files["/nouser"] =
      "clusters:\n- name: c\n  cluster: {server: 'https://h:1'}\ncontexts:\n- name: k\n"
      "  context: {cluster: c, user: ghost}\n";
  expectError(resolveConfig("/nouser#k", fs.env()), {"/nouser", "context \"k\"", "`user`", "ghost"});
  fs.files["/nocurrent"] = kubeconfig("k", "https://h:1", "    token: t\n");
  expectError(resolveConfig("/nocurrent", fs.env()), {"/nocurrent", "current-context"});
  fs.files["/badbool"] = "clusters:\n- name: c\n  cluster: {server: 'https://h:1', insecure-skip-tls-verify: maybe}\n";
  expectError(resolveConfig("/badbool#k", fs.env()), {"/badbool", "clusters[0].cluster"});
  fs.files["/exec"] = kubeconfig("k", "https://h:1", "    exec: {command: aws}\n");
  expectError(resolveConfig("/exec#k", fs.env()), {"/exec", "context \"k\"", "`exec`"});
  fs.vars["KUBECONFIG"] = "/gone1:/gone2";
  expectError(resolveConfig("", fs.env()), {"KUBECONFIG", "/gone1:/gone2"});
}

TEST(Kubeconfig, ParseFromSecretNamesTheSecret) {
  auto r = parseKubeconfig("current-context: x\n", "", "Secret mcp--1/access");
  expectError(r, {"Secret mcp--1/access", "context \"x\" not found"});
}

}  // namespace
}  // namespace spr::k8s
