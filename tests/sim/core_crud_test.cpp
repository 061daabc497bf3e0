// Object semantics: CRUD with resourceVersion/uid/generation, 409s, namespaces, CRDs with
// schema validation, the status subresource, finalizers, patches, selectors, pagination.
#include <gtest/gtest.h>

#include "tests/sim/core_test_support.h"

namespace spr::sim::testing {
namespace {

std::string rvOf(const json& obj) { return obj["metadata"]["resourceVersion"]; }

TEST(SimCrud, CreateGetUpdateConflictDeleteLikeKubeApiserver) {
  SimFixture sim;
  auto created = sim.post("onboarding", kConfigMaps, configMap("c1"));
  ASSERT_EQ(created.code, 201);
  EXPECT_FALSE(created.body["metadata"]["uid"].get<std::string>().empty());
  EXPECT_FALSE(created.body["metadata"]["creationTimestamp"].get<std::string>().empty());
  auto again = sim.post("onboarding", kConfigMaps, configMap("c1"));
  EXPECT_EQ(again.code, 409);
  EXPECT_EQ(again.body["reason"], "AlreadyExists");
  EXPECT_EQ(again.body["message"], "configmaps \"c1\" already exists");
  json updated = created.body;
  updated["data"]["k"] = "v2";
  auto put = sim.put("onboarding", std::string(kConfigMaps) + "/c1", updated);
  ASSERT_EQ(put.code, 200);
  EXPECT_GT(std::stoull(rvOf(put.body)), std::stoull(rvOf(created.body)));
  EXPECT_EQ(put.body["metadata"]["uid"], created.body["metadata"]["uid"]);
  auto stale = sim.put("onboarding", std::string(kConfigMaps) + "/c1", updated);  // old resourceVersion
  EXPECT_EQ(stale.code, 409);
  EXPECT_EQ(stale.body["reason"], "Conflict");
  EXPECT_EQ(stale.body["message"],
            "Operation cannot be fulfilled on configmaps \"c1\": the object has been modified; please apply your "
            "changes to the latest version and try again");
  auto del = sim.call("onboarding", "DELETE", std::string(kConfigMaps) + "/c1");
  EXPECT_EQ(del.code, 200);
  EXPECT_EQ(del.body["status"], "Success");
  auto gone = sim.get("onboarding", std::string(kConfigMaps) + "/c1");
  EXPECT_EQ(gone.code, 404);
  EXPECT_EQ(gone.body["message"], "configmaps \"c1\" not found");
  EXPECT_EQ(gone.body["details"]["kind"], "configmaps");
}

TEST(SimCrud, OneResourceVersionCounterPerCluster) {
  SimFixture sim;
  auto a = sim.post("onboarding", kConfigMaps, configMap("a"));
  auto s = sim.post("onboarding", "/api/v1/namespaces/default/secrets",
                    {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "s"}}}});
  auto b = sim.post("onboarding", kConfigMaps, configMap("b"));
  EXPECT_EQ(std::stoull(rvOf(s.body)), std::stoull(rvOf(a.body)) + 1);
  EXPECT_EQ(std::stoull(rvOf(b.body)), std::stoull(rvOf(s.body)) + 1);
  auto list = sim.get("onboarding", kConfigMaps);
  EXPECT_EQ(list.body["kind"], "ConfigMapList");
  EXPECT_EQ(list.body["metadata"]["resourceVersion"], rvOf(b.body));
  EXPECT_EQ(list.body["items"].size(), 2u);
}

TEST(SimCrud, NamespacedObjectsNeedTheirNamespace) {
  SimFixture sim;
  auto missing = sim.post("onboarding", "/api/v1/namespaces/team-a/configmaps", configMap("x"));
  EXPECT_EQ(missing.code, 404);
  EXPECT_EQ(missing.body["message"], "namespaces \"team-a\" not found");
  EXPECT_EQ(sim.post("onboarding", "/api/v1/namespaces/kube-system/configmaps", configMap("x")).code, 201);
  ASSERT_EQ(sim.post("onboarding", "/api/v1/namespaces",
                     {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "team-a"}}}})
                .code,
            201);
  EXPECT_EQ(sim.post("onboarding", "/api/v1/namespaces/team-a/configmaps", configMap("x")).code, 201);
  EXPECT_EQ(sim.call("onboarding", "DELETE", "/api/v1/namespaces/team-a").code, 200);
  EXPECT_EQ(sim.get("onboarding", "/api/v1/namespaces/team-a/configmaps/x").code, 404);
}

TEST(SimCrud, CrdRegistersAValidatedResourceWithGenerationAndStatus) {
  SimFixture sim;
  auto crd = sim.post("onboarding", kCrds, widgetCrd());
  ASSERT_EQ(crd.code, 201);
  std::set<std::string> conditions;
  for (auto& c : crd.body["status"]["conditions"])
    if (c["status"] == "True") conditions.insert(c["type"]);
  EXPECT_TRUE(conditions.count("Established") && conditions.count("NamesAccepted"));
  auto invalid = sim.post("onboarding", kWidgets, widget("w0", {{"color", "red"}}));
  EXPECT_EQ(invalid.code, 422);
  EXPECT_EQ(invalid.body["reason"], "Invalid");
  EXPECT_EQ(invalid.body["details"]["causes"][0]["field"], "spec.size");
  auto strict = sim.call("onboarding", "POST", std::string(kWidgets) + "?fieldValidation=Strict",
                         widget("w0", {{"size", 1}, {"bogus", 1}}).dump());
  EXPECT_EQ(strict.code, 400);
  EXPECT_EQ(
      strict.body["message"],
      "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: unknown field \"spec.bogus\"");
  // Warn (the default): created, the fields pruned, one escaped 299 warning per field.
  auto warned = sim.post("onboarding", kWidgets, widget("w-warn", {{"size", 1}, {"bogus", 1}, {"extra", "x"}}));
  ASSERT_EQ(warned.code, 201);
  EXPECT_FALSE(warned.body["spec"].contains("bogus"));
  EXPECT_EQ(warned.warning, R"(299 - "unknown field \"spec.bogus\"", 299 - "unknown field \"spec.extra\"")");
  json w = widget("w1", {{"size", 1}});
  w["status"] = {{"phase", "ignored on create"}};
  auto created = sim.post("onboarding", kWidgets, w);
  ASSERT_EQ(created.code, 201);
  EXPECT_EQ(created.body["metadata"]["generation"], 1);
  EXPECT_FALSE(created.body.contains("status"));
  // Status via the subresource: generation unchanged, spec untouched.
  json st = created.body;
  st["status"] = {{"phase", "Ready"}};
  st["spec"]["size"] = 99;
  auto status = sim.put("onboarding", std::string(kWidgets) + "/w1/status", st);
  ASSERT_EQ(status.code, 200);
  EXPECT_EQ(status.body["status"]["phase"], "Ready");
  EXPECT_EQ(status.body["spec"]["size"], 1);
  EXPECT_EQ(status.body["metadata"]["generation"], 1);
  // Main PUT: status ignored; labels do not bump generation, spec does.
  json main = status.body;
  main["status"] = {{"phase", "Overwritten?"}};
  main["metadata"]["labels"] = {{"a", "b"}};
  auto labelled = sim.put("onboarding", std::string(kWidgets) + "/w1", main);
  ASSERT_EQ(labelled.code, 200);
  EXPECT_EQ(labelled.body["status"]["phase"], "Ready");
  EXPECT_EQ(labelled.body["metadata"]["generation"], 1);
  json spec = labelled.body;
  spec["spec"]["size"] = 2;
  auto bumped = sim.put("onboarding", std::string(kWidgets) + "/w1", spec);
  EXPECT_EQ(bumped.body["metadata"]["generation"], 2);
  // Deleting the CRD removes the resource.
  EXPECT_EQ(sim.call("onboarding", "DELETE", std::string(kCrds) + "/widgets.example.com").code, 200);
  EXPECT_EQ(sim.get("onboarding", kWidgets).code, 404);
}

TEST(SimCrud, FinalizersHoldDeletionUntilTheLastIsRemoved) {
  SimFixture sim;
  json cm = configMap("held");
  cm["metadata"]["finalizers"] = {"example.com/cleanup"};
  ASSERT_EQ(sim.post("onboarding", kConfigMaps, cm).code, 201);
  auto del = sim.call("onboarding", "DELETE", std::string(kConfigMaps) + "/held");
  ASSERT_EQ(del.code, 200);
  auto held = sim.get("onboarding", std::string(kConfigMaps) + "/held");
  ASSERT_EQ(held.code, 200);
  EXPECT_TRUE(held.body["metadata"].contains("deletionTimestamp"));
  json release = held.body;
  release["metadata"]["finalizers"] = json::array();
  EXPECT_EQ(sim.put("onboarding", std::string(kConfigMaps) + "/held", release).code, 200);
  EXPECT_EQ(sim.get("onboarding", std::string(kConfigMaps) + "/held").code, 404);
}

TEST(SimCrud, MergeJsonAndStrategicPatches) {
  SimFixture sim;
  ASSERT_EQ(sim.post("onboarding", kConfigMaps, configMap("p", {{"a", "1"}, {"b", "2"}})).code, 201);
  std::string path = std::string(kConfigMaps) + "/p";
  auto merged = sim.call("onboarding", "PATCH", path, R"({"data":{"a":null,"c":"3"}})", "application/merge-patch+json");
  ASSERT_EQ(merged.code, 200);
  EXPECT_EQ(merged.body["data"], json({{"b", "2"}, {"c", "3"}}));
  auto jp = sim.call("onboarding", "PATCH", path,
                     R"([{"op":"test","path":"/data/b","value":"2"},{"op":"replace","path":"/data/b","value":"9"}])",
                     "application/json-patch+json");
  ASSERT_EQ(jp.code, 200);
  EXPECT_EQ(jp.body["data"]["b"], "9");
  auto failedTest = sim.call("onboarding", "PATCH", path, R"([{"op":"test","path":"/data/b","value":"nope"}])",
                             "application/json-patch+json");
  EXPECT_EQ(failedTest.code, 422);
  json dep = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
    "spec":{"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},
    "spec":{"containers":[{"name":"main","image":"a:1","args":["x"]},{"name":"side","image":"s:1"}]}}}})");
  ASSERT_EQ(sim.post("onboarding", "/apis/apps/v1/namespaces/default/deployments", dep).code, 201);
  auto smp = sim.call("onboarding", "PATCH", "/apis/apps/v1/namespaces/default/deployments/d",
                      R"({"spec":{"template":{"spec":{"containers":[{"name":"main","image":"a:2"}]}}}})",
                      "application/strategic-merge-patch+json");
  ASSERT_EQ(smp.code, 200);
  auto containers = smp.body["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0]["image"], "a:2");
  EXPECT_EQ(containers[0]["args"], json({"x"}));
  EXPECT_EQ(smp.body["metadata"]["generation"], 2);
}

TEST(SimCrud, LabelSelectorsAndPagination) {
  SimFixture sim;
  json data = {{"k", "v"}};
  ASSERT_EQ(
      sim.post("onboarding", kConfigMaps, configMap("a", data, json::parse(R"({"env":"prod","tier":"web"})"))).code,
      201);
  ASSERT_EQ(sim.post("onboarding", kConfigMaps, configMap("b", data, json::parse(R"({"env":"dev"})"))).code, 201);
  ASSERT_EQ(
      sim.post("onboarding", kConfigMaps, configMap("c", data, json::parse(R"({"env":"test","tier":"db"})"))).code,
      201);
  auto names = [&](const std::string& selector) {
    std::vector<std::string> out;
    json items = sim.get("onboarding", std::string(kConfigMaps) + "?labelSelector=" + selector).body["items"];
    for (auto& i : items) out.push_back(i["metadata"]["name"]);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names("env%3Dprod"), V({"a"}));
  EXPECT_EQ(names("env%3D%3Ddev"), V({"b"}));
  EXPECT_EQ(names("env!%3Dprod"), V({"b", "c"}));
  EXPECT_EQ(names("env%20in%20(prod,test)"), V({"a", "c"}));
  EXPECT_EQ(names("env%20notin%20(prod,test)"), V({"b"}));
  EXPECT_EQ(names("tier"), V({"a", "c"}));
  EXPECT_EQ(names("!tier"), V({"b"}));
  EXPECT_EQ(names("tier,env%3Dtest"), V({"c"}));
  auto page1 = sim.get("onboarding", std::string(kConfigMaps) + "?limit=2");
  ASSERT_EQ(page1.body["items"].size(), 2u);
  std::string cont = page1.body["metadata"]["continue"];
  ASSERT_FALSE(cont.empty());
  EXPECT_EQ(page1.body["metadata"]["remainingItemCount"], 1);
  auto page2 = sim.get("onboarding",
                       std::string(kConfigMaps) + "?limit=2&continue=" + httplib::detail::encode_query_param(cont));
  ASSERT_EQ(page2.body["items"].size(), 1u);
  EXPECT_EQ(page2.body["items"][0]["metadata"]["name"], "c");
  EXPECT_FALSE(page2.body["metadata"].contains("continue"));
  EXPECT_EQ(sim.get("onboarding", std::string(kConfigMaps) + "?labelSelector=a%20in%20x").code, 400);
}

}  // namespace
}  // namespace spr::sim::testing

namespace spr::sim::testing {
namespace {

// Found by the sim_request fuzzer: a name in the URL that is not UTF-8 made the 404's JSON
// body throw while being written (the client saw a 500). kube-apiserver writes U+FFFD.
TEST(SimCrud, NotUtf8NameInTheUrlIsAPlainNotFound) {
  SimFixture sim;
  auto missing = sim.get("onboarding", "/api/v1/namespaces/default/configmaps/x%80");
  EXPECT_EQ(missing.code, 404);
  EXPECT_EQ(missing.body["reason"], "NotFound");
  EXPECT_EQ(missing.body["message"], "configmaps \"x\xef\xbf\xbd\" not found");
}

// Found by the sim_request fuzzer: DELETE of a namespaced collection across all namespaces
// read objects by the wrong key (a crash). kube-apiserver answers 405 and deletes nothing.
TEST(SimCrud, DeleteCollectionAcrossNamespacesIsNotAllowed) {
  SimFixture sim;
  ASSERT_EQ(sim.post("onboarding", "/api/v1/namespaces/default/configmaps", configMap("x")).code, 201);
  auto all = sim.call("onboarding", "DELETE", "/api/v1/configmaps");
  EXPECT_EQ(all.code, 405);
  EXPECT_EQ(all.body["reason"], "MethodNotAllowed");
  EXPECT_EQ(sim.get("onboarding", "/api/v1/namespaces/default/configmaps/x").code, 200);
  EXPECT_EQ(sim.call("onboarding", "DELETE", "/api/v1/namespaces/default/configmaps").code, 200);
  EXPECT_EQ(sim.get("onboarding", "/api/v1/namespaces/default/configmaps/x").code, 404);
}

}  // namespace
}  // namespace spr::sim::testing
