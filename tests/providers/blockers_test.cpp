// Deletion blockers: the crossplane provider counts users' resources of the kinds Crossplane
// and its packages brought onto the MCP (and nothing else); the template provider declares
// none; the message names kinds, counts, a few names and what to delete.
#include <gtest/gtest.h>

#include "providers/crossplane/crossplane.h"
#include "tests/providers/fake_scope.h"

namespace spr::providers {
namespace {

using testing::FakeScope;

const k8s::GroupVersionResource kObjects{"kubernetes.crossplane.io", "v1alpha2", "objects", false};

json offer() {
  return json::parse(R"({"apiVersion":"crossplane.services.open-control-plane.io/v1alpha1","kind":"ProviderConfig",
   "metadata":{"name":"crossplane"},
   "spec":{"versions":[{"version":"1.20.0","image":"xpkg.upbound.io/crossplane/crossplane:v1.20.0"}],
     "providers":{"availableProviders":[{"name":"provider-kubernetes",
          "package":"xpkg.upbound.io/crossplane-contrib/provider-kubernetes","versions":["v0.15.0"]}]}}})");
}

json request() {
  return {{"apiVersion", "crossplane.services.open-control-plane.io/v1alpha1"},
          {"kind", "Crossplane"},
          {"metadata", {{"name", "mcp-1"}, {"namespace", "project-a--ws-1"}, {"generation", 1}}},
          {"spec",
           {{"version", "1.20.0"},
            {"providers", json::array({{{"name", "provider-kubernetes"}, {"version", "v0.15.0"}}})}}}};
}

json crd(const std::string& group, const std::string& kind, const std::string& plural, bool namespaced,
         json owners = json::array(), const std::string& version = "v1") {
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", plural + "." + group}, {"ownerReferences", owners}}},
          {"spec",
           {{"group", group},
            {"names", {{"kind", kind}, {"plural", plural}}},
            {"scope", namespaced ? "Namespaced" : "Cluster"},
            {"versions",
             json::array(
                 {{{"name", version},
                   {"served", true},
                   {"storage", true},
                   {"schema",
                    {{"openAPIV3Schema", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}})}}}};
}

json object(const std::string& apiVersion, const std::string& kind, const std::string& name,
            const std::string& ns = "") {
  json o = {{"apiVersion", apiVersion}, {"kind", kind}, {"metadata", {{"name", name}}}};
  if (!ns.empty()) o["metadata"]["namespace"] = ns;
  return o;
}

class BlockersTest : public ::testing::Test {
 protected:
  // What the chart (through Flux) and provider-kubernetes bring onto the MCP: Crossplane's
  // package and composition CRDs, provider-kubernetes' Object CRD, and spr's Provider object.
  void SetUp() override {
    const k8s::GroupVersionResource crds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
    json revision = json::array({{{"apiVersion", "pkg.crossplane.io/v1"},
                                  {"kind", "ProviderRevision"},
                                  {"name", "provider-kubernetes-abc"},
                                  {"uid", "r1"}}});
    add(crds, "", crd("pkg.crossplane.io", "Provider", "providers", false));
    add(crds, "", crd("apiextensions.crossplane.io", "Composition", "compositions", false));
    add(crds, "", crd("kubernetes.crossplane.io", "Object", "objects", false, revision, "v1alpha2"));
    add({"pkg.crossplane.io", "v1", "providers", false}, "",
        object("pkg.crossplane.io/v1", "Provider", "provider-kubernetes"));
  }
  void add(const k8s::GroupVersionResource& gvr, const std::string& ns, const json& obj) {
    auto r = scope.mcpClient.create(gvr, ns, obj);
    ASSERT_TRUE(r.isOk()) << r.status().toString();
  }
  DeletionBlockers blockers() {
    auto b = p->deletionBlockers(request(), scope);
    EXPECT_TRUE(b.isOk()) << b.status().toString();
    return b.isOk() ? *b : DeletionBlockers{};
  }
  std::unique_ptr<Provider> p = makeProvider("crossplane");
  FakeScope scope{offer()};
};

TEST_F(BlockersTest, CrossplaneJustInstalledHasNothingBlocking) {
  // spr's own Provider objects are package machinery, not users' resources.
  EXPECT_TRUE(blockers().empty()) << blockers().message();
}

TEST_F(BlockersTest, UsersObjectsAndXrdClaimsBlockForeignKindsDoNot) {
  for (const char* name : {"db", "cache", "queue", "web"})
    add(kObjects, "", object("kubernetes.crossplane.io/v1alpha2", "Object", name));
  // A claim kind an XRD defined (any group), and a kind Crossplane has nothing to do with.
  json xrdOwner = json::array({{{"apiVersion", "apiextensions.crossplane.io/v1"},
                                {"kind", "CompositeResourceDefinition"},
                                {"name", "xpostgres.example.org"},
                                {"uid", "u1"}}});
  add(k8s::GroupVersionResource{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false}, "",
      crd("example.org", "Postgres", "postgres", true, xrdOwner));
  add(k8s::GroupVersionResource{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false}, "",
      crd("example.com", "Widget", "widgets", false));
  add({"", "v1", "namespaces", false}, "", object("v1", "Namespace", "team-a"));
  add({"example.org", "v1", "postgres", true}, "team-a", object("example.org/v1", "Postgres", "orders", "team-a"));
  add({"example.com", "v1", "widgets", false}, "", object("example.com/v1", "Widget", "w1"));

  DeletionBlockers b = blockers();
  ASSERT_EQ(b.kinds.size(), 2u) << b.toJson().dump();
  EXPECT_EQ(b.kinds[0].kind, "Object");
  EXPECT_EQ(b.kinds[0].resource, "objects.kubernetes.crossplane.io");
  EXPECT_EQ(b.kinds[0].count, 4);
  EXPECT_EQ(b.kinds[0].names.size(), kMaxBlockerNames) << "a few names, not all";
  EXPECT_EQ(b.kinds[1].kind, "Postgres");
  EXPECT_EQ(b.kinds[1].names, std::vector<std::string>{"team-a/orders"});
  const std::string m = b.message();
  EXPECT_NE(m.find("4 Object (objects.kubernetes.crossplane.io): "), std::string::npos) << m;
  EXPECT_NE(m.find(" and 1 more"), std::string::npos) << m;
  EXPECT_NE(m.find("1 Postgres (postgres.example.org): team-a/orders"), std::string::npos) << m;
  EXPECT_NE(m.find("kubectl delete objects.kubernetes.crossplane.io"), std::string::npos) << m;
  EXPECT_EQ(m.find("Widget"), std::string::npos) << m;
}

TEST_F(BlockersTest, AKindSprMayNotListFailsTheCheckNamingTheGrantAndNeverStopsTheOperator) {
  add(kObjects, "", object("kubernetes.crossplane.io/v1alpha2", "Object", "db"));
  scope.cluster.fail({"GET", "/objects", 403, "Forbidden"});
  auto b = p->deletionBlockers(request(), scope);
  ASSERT_FALSE(b.isOk()) << "a check that cannot see is never \"nothing blocks\"";
  EXPECT_EQ(b.status().code(), Code::kUnavailable) << b.status().toString();
  EXPECT_NE(b.status().message().find("objects.kubernetes.crossplane.io"), std::string::npos);
  EXPECT_NE(b.status().message().find("grant spr's MCP access `list`"), std::string::npos);
}

TEST_F(BlockersTest, McpAccessRulesCoverTheCheckWithoutWildcards) {
  json rules = p->mcpAccessRules();
  auto grants = [&](const std::string& group, const std::string& resource) {
    for (const auto& r : rules)
      if (r["apiGroups"].dump().find("\"" + group + "\"") != std::string::npos &&
          r["resources"].dump().find("\"" + resource + "\"") != std::string::npos &&
          r["verbs"].dump().find("\"list\"") != std::string::npos)
        return true;
    return false;
  };
  EXPECT_TRUE(grants("apiextensions.k8s.io", "customresourcedefinitions"));
  EXPECT_TRUE(grants("kubernetes.crossplane.io", "objects"));
  EXPECT_TRUE(grants("apiextensions.crossplane.io", "compositions"));
  EXPECT_EQ(rules.dump().find('*'), std::string::npos) << rules.dump();
}

TEST(TemplateBlockers, TheTemplateServiceBringsNoKindsSoNothingBlocks) {
  FakeScope scope{json::object()};
  auto b = makeProvider("template")->deletionBlockers(json::object(), scope);
  ASSERT_TRUE(b.isOk());
  EXPECT_TRUE(b->empty());
  EXPECT_TRUE(scope.cluster.requests().empty()) << "asks no cluster";
}

}  // namespace
}  // namespace spr::providers
