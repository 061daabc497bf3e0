// Where the local API server must answer as kube-apiserver does (issue 11, item 12):
// boolean query parameters as apimachinery converts them (`watch=True` streams), the
// Authorization scheme in any case, authentication before an unknown cluster is revealed,
// the 256 KiB annotations limit, duplicate keys in x-kubernetes-list-type map/set lists,
// and /openapi/v2, which real kubectl needs to apply a `kind: List`.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "tests/sim/core_test_support.h"
#include "tests/support/run_command.h"

namespace spr::sim {
namespace {

using nlohmann::json;
using testing::configMap;
using testing::Reply;
using testing::SimFixture;

const char kConfigMaps[] = "/api/v1/namespaces/default/configmaps";

// The first event of a watch on ConfigMaps with `query`, or null when the answer was no stream.
json firstWatchEvent(const SimFixture& sim, const std::string& query) {
  json first;
  int code = sim.watch("onboarding", std::string(kConfigMaps) + "?" + query, [&](const json& e) {
    first = e;
    return false;
  });
  EXPECT_EQ(code, 200) << query;
  return first;
}

TEST(SimFidelity, BooleanQueryParametersAreReadAsKubeApiserverDoes) {
  SimFixture sim;
  ASSERT_EQ(sim.post("onboarding", kConfigMaps, configMap("a")).code, 201);
  for (const char* yes : {"watch=true", "watch=True", "watch=TRUE", "watch=1", "watch=t", "watch="}) {
    json e = firstWatchEvent(sim, yes);
    EXPECT_EQ(e.value("type", ""), "ADDED") << yes << ": " << e.dump();
  }
  for (const char* no : {"watch=false", "watch=False", "watch=FALSE", "watch=0", "x=1"}) {
    Reply r = sim.get("onboarding", std::string(kConfigMaps) + "?" + no);
    EXPECT_EQ(r.code, 200) << no;
    EXPECT_EQ(r.body.value("kind", ""), "ConfigMapList") << no << ": " << r.body.dump().substr(0, 200);
  }
}

TEST(SimFidelity, BearerSchemeIsCaseInsensitive) {
  SimFixture sim;
  for (const std::string scheme : {"Bearer", "bearer", "BEARER"}) {
    auto c = sim.client();
    auto r = c->Get((std::string("/clusters/onboarding") + kConfigMaps).c_str(),
                    httplib::Headers{{"Authorization", scheme + " " + sim.token("onboarding")}});
    ASSERT_TRUE(r) << scheme;
    EXPECT_EQ(r->status, 200) << scheme;
  }
  auto c = sim.client();
  auto r = c->Get((std::string("/clusters/onboarding") + kConfigMaps).c_str(),
                  httplib::Headers{{"Authorization", "Basic " + sim.token("onboarding")}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST(SimFidelity, UnknownClusterIsUnauthorizedBeforeItIsNotFound) {
  SimFixture sim;
  // No token, or one no cluster accepts: 401 whether the cluster exists or not.
  EXPECT_EQ(sim.call("no-such-cluster", "GET", kConfigMaps, "", "application/json", "-").code, 401);
  EXPECT_EQ(sim.call("no-such-cluster", "GET", kConfigMaps, "", "application/json", "wrong").code, 401);
  EXPECT_EQ(sim.call("onboarding", "GET", kConfigMaps, "", "application/json", "wrong").code, 401);
  // Authenticated: an unknown cluster is then 404.
  EXPECT_EQ(sim.call("no-such-cluster", "GET", kConfigMaps, "", "application/json", sim.token("onboarding")).code, 404);
}

TEST(SimFidelity, AnnotationsOverTwoHundredFiftySixKibAreRefused) {
  SimFixture sim;
  const size_t limit = 256 * 1024;
  json fits = configMap("fits");
  fits["metadata"]["annotations"] = {{"a", std::string(limit - 1, 'x')}};  // key + value = the limit
  EXPECT_EQ(sim.post("onboarding", kConfigMaps, fits).code, 201);
  json big = configMap("big");
  big["metadata"]["annotations"] = {{"a", std::string(limit, 'x')}};
  Reply r = sim.post("onboarding", kConfigMaps, big);
  EXPECT_EQ(r.code, 422) << r.body.dump().substr(0, 300);
  EXPECT_EQ(r.body.value("reason", ""), "Invalid");
  EXPECT_NE(r.body.value("message", "").find("metadata.annotations: Too long: may not be more than 262144 bytes"),
            std::string::npos)
      << r.body.value("message", "");
  // An update that grows them past the limit is refused too.
  Reply stored = sim.get("onboarding", std::string(kConfigMaps) + "/fits");
  json grown = stored.body;
  grown["metadata"]["annotations"]["b"] = "yy";
  EXPECT_EQ(sim.put("onboarding", std::string(kConfigMaps) + "/fits", grown).code, 422);
}

json listCrd() {
  json item = {{"type", "object"},
               {"required", {"name"}},
               {"properties", {{"name", {{"type", "string"}}}, {"port", {{"type", "integer"}}}}}};
  json spec = {{"type", "object"},
               {"properties",
                {{"ports",
                  {{"type", "array"},
                   {"x-kubernetes-list-type", "map"},
                   {"x-kubernetes-list-map-keys", {"name"}},
                   {"items", item}}},
                 {"tags", {{"type", "array"}, {"x-kubernetes-list-type", "set"}, {"items", {{"type", "string"}}}}}}}};
  json version = {{"name", "v1"},
                  {"served", true},
                  {"storage", true},
                  {"schema", {{"openAPIV3Schema", {{"type", "object"}, {"properties", {{"spec", spec}}}}}}}};
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", "gadgets.example.com"}}},
          {"spec",
           {{"group", "example.com"},
            {"names", {{"kind", "Gadget"}, {"plural", "gadgets"}, {"singular", "gadget"}}},
            {"scope", "Namespaced"},
            {"versions", json::array({version})}}}};
}

TEST(SimFidelity, DuplicateKeysInListMapAndSetListsAreRefused) {
  SimFixture sim;
  ASSERT_EQ(sim.post("onboarding", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", listCrd()).code, 201);
  const std::string path = "/apis/example.com/v1/namespaces/default/gadgets";
  auto gadget = [](const std::string& name, const json& spec) {
    return json{{"apiVersion", "example.com/v1"}, {"kind", "Gadget"}, {"metadata", {{"name", name}}}, {"spec", spec}};
  };
  json unique = {{"ports", {{{"name", "a"}, {"port", 1}}, {{"name", "b"}, {"port", 1}}}}, {"tags", {"x", "y"}}};
  Reply ok = sim.post("onboarding", path, gadget("ok", unique));
  ASSERT_EQ(ok.code, 201) << ok.body.dump().substr(0, 300);
  Reply dupMap = sim.post("onboarding", path,
                          gadget("m", {{"ports", {{{"name", "a"}, {"port", 1}}, {{"name", "a"}, {"port", 2}}}}}));
  EXPECT_EQ(dupMap.code, 422) << dupMap.body.dump();
  EXPECT_NE(dupMap.body.value("message", "").find("spec.ports[1]: Duplicate value: {\"name\":\"a\"}"),
            std::string::npos)
      << dupMap.body.value("message", "");
  Reply dupSet = sim.post("onboarding", path, gadget("s", {{"tags", {"x", "x"}}}));
  EXPECT_EQ(dupSet.code, 422) << dupSet.body.dump();
  EXPECT_NE(dupSet.body.value("message", "").find("spec.tags[1]: Duplicate value: \"x\""), std::string::npos)
      << dupSet.body.value("message", "");
}

TEST(SimFidelity, OpenApiV2IsServedAsJsonAndProtobuf) {
  SimFixture sim;
  Reply asJson = sim.get("onboarding", "/openapi/v2");
  EXPECT_EQ(asJson.code, 200);
  EXPECT_EQ(asJson.body.value("swagger", ""), "2.0");
  auto c = sim.client();
  auto r = c->Get("/clusters/onboarding/openapi/v2",
                  httplib::Headers{{"Authorization", "Bearer " + sim.token("onboarding")},
                                   {"Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("protobuf"), std::string::npos);
  EXPECT_EQ(r->body.substr(0, 5), std::string("\x0a\x03"
                                              "2.0",
                                              5));  // field 1 (swagger) = "2.0"
}

TEST(SimFidelity, KubectlAppliesAKindList) {
  if (access("/usr/bin/kubectl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/kubectl";
  SimFixture sim;
  char dir[] = "/tmp/spr-sim-list-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string kubeconfig = std::string(dir) + "/kubeconfig", list = std::string(dir) + "/list.yaml";
  std::ofstream(kubeconfig) << sim.server->kubeconfigYaml();
  std::ofstream(list)
      << "apiVersion: v1\nkind: List\nitems:\n"
         "- {apiVersion: v1, kind: ConfigMap, metadata: {name: one, namespace: default}, data: {k: '1'}}\n"
         "- {apiVersion: v1, kind: ConfigMap, metadata: {name: two, namespace: default}, data: {k: '2'}}\n";
  int status = 0;
  std::string out = spr::testing::runCommand(
      "/usr/bin/kubectl --kubeconfig " + kubeconfig + " --context onboarding apply -f " + list, &status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_EQ(sim.get("onboarding", std::string(kConfigMaps) + "/one").code, 200) << out;
  EXPECT_EQ(sim.get("onboarding", std::string(kConfigMaps) + "/two").code, 200) << out;
  std::remove(kubeconfig.c_str());
  std::remove(list.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace spr::sim
