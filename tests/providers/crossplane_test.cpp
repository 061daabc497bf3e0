// The crossplane provider against an in-memory API server: what an operator would see on
// the MCP cluster after Create / Update / Delete, and what Observe reports.
#include <gtest/gtest.h>

#include "providers/kit.h"
#include "providers/provider.h"
#include "tests/providers/fake_scope.h"

namespace spr::providers {
namespace {

using testing::FakeCluster;
using testing::FakeScope;

json config() {
  return json::parse(R"({"apiVersion":"crossplane.services.open-control-plane.io/v1alpha1","kind":"ProviderConfig",
   "metadata":{"name":"crossplane"},
   "spec":{"pollInterval":"10s",
     "versions":[{"version":"1.20.0","image":"xpkg.upbound.io/crossplane/crossplane:v1.20.0"},
                 {"version":"1.19.1","image":"xpkg.upbound.io/crossplane/crossplane:v1.19.1"}],
     "providers":{"availableProviders":[{"name":"provider-kubernetes",
          "package":"xpkg.upbound.io/crossplane-contrib/provider-kubernetes","versions":["v0.15.0"]}]}}})");
}

json request(const std::string& version = "1.20.0",
             json providers = json::array({{{"name", "provider-kubernetes"}, {"version", "v0.15.0"}}})) {
  json r = {{"apiVersion", "crossplane.services.open-control-plane.io/v1alpha1"},
            {"kind", "Crossplane"},
            {"metadata", {{"name", "mcp-1"}, {"namespace", "project-acme--ws-dev"}, {"generation", 1}}},
            {"spec", {{"version", version}}}};
  if (!providers.is_null()) r["spec"]["providers"] = providers;
  return r;
}

class CrossplaneTest : public ::testing::Test {
 protected:
  std::unique_ptr<Provider> p = makeProvider("crossplane");
  FakeScope scope{config()};

  json deployment() { return scope.cluster.object("apps", "deployments", "crossplane-system", "crossplane"); }
  json providerObject(const std::string& name) {
    return scope.cluster.object("pkg.crossplane.io", "providers", "", name);
  }
  Observation observeOk(const json& req) {
    ObserveResult o = p->observe(req, scope);
    EXPECT_TRUE(o.result.ok()) << o.result.reason << ": " << o.result.message;
    return o.observation;
  }
  void createOk(const json& req) {
    OpResult r = p->create(req, scope);
    ASSERT_TRUE(r.ok()) << r.reason << ": " << r.message;
  }
  void handPatch(const k8s::GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                 const json& patch) {
    auto r = scope.mcpClient.mergePatch(gvr, ns, name, patch);
    ASSERT_TRUE(r.isOk()) << r.status().toString();
  }
};

TEST_F(CrossplaneTest, NothingDeployedYetIsNotExisting) {
  Observation o = observeOk(request());
  EXPECT_FALSE(o.exists);
  EXPECT_NE(o.message.find("crossplane-system"), std::string::npos) << o.message;
}

TEST_F(CrossplaneTest, CreateDeploysEverythingAsDesired) {
  createOk(request());
  auto& c = scope.cluster;
  EXPECT_TRUE(c.object("", "namespaces", "", "crossplane-system").is_object());
  EXPECT_TRUE(c.object("", "serviceaccounts", "crossplane-system", "crossplane").is_object());
  json role = c.object("rbac.authorization.k8s.io", "clusterroles", "", "crossplane");
  ASSERT_TRUE(role.is_object());
  EXPECT_FALSE(role["rules"].empty());
  json binding = c.object("rbac.authorization.k8s.io", "clusterrolebindings", "", "crossplane");
  ASSERT_TRUE(binding.is_object());
  EXPECT_EQ(binding["subjects"][0]["name"], "crossplane");
  EXPECT_EQ(binding["subjects"][0]["namespace"], "crossplane-system");
  for (const char* crd : {"providers.pkg.crossplane.io", "objects.kubernetes.crossplane.io"})
    EXPECT_TRUE(c.object("apiextensions.k8s.io", "customresourcedefinitions", "", crd).is_object()) << crd;
  json objectCrd =
      c.object("apiextensions.k8s.io", "customresourcedefinitions", "", "objects.kubernetes.crossplane.io");
  EXPECT_EQ(objectCrd["spec"]["scope"], "Cluster");
  EXPECT_EQ(objectCrd["spec"]["versions"][0]["name"], "v1alpha2");
  EXPECT_EQ(objectCrd["spec"]["names"]["kind"], "Object");

  json d = deployment();
  ASSERT_TRUE(d.is_object());
  EXPECT_EQ(d["spec"]["replicas"], 1);
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"][0]["image"], "xpkg.upbound.io/crossplane/crossplane:v1.20.0");
  EXPECT_EQ(d["spec"]["template"]["spec"]["serviceAccountName"], "crossplane");
  EXPECT_EQ(d["metadata"]["labels"]["app.kubernetes.io/version"], "1.20.0");

  json prov = providerObject("provider-kubernetes");
  ASSERT_TRUE(prov.is_object());
  EXPECT_EQ(prov["apiVersion"], "pkg.crossplane.io/v1");
  EXPECT_EQ(prov["spec"]["package"], "xpkg.upbound.io/crossplane-contrib/provider-kubernetes:v0.15.0");
  EXPECT_EQ(prov["metadata"]["labels"]["crossplane.services.open-control-plane.io/owner-name"], "mcp-1");

  Observation o = observeOk(request());
  EXPECT_TRUE(o.exists);
  EXPECT_FALSE(o.drift) << o.message;
  EXPECT_TRUE(o.ready) << o.message;
}

TEST_F(CrossplaneTest, OlderVersionGetsItsImage) {
  createOk(request("1.19.1", json()));
  EXPECT_EQ(deployment()["spec"]["template"]["spec"]["containers"][0]["image"],
            "xpkg.upbound.io/crossplane/crossplane:v1.19.1");
  EXPECT_TRUE(providerObject("provider-kubernetes").is_null());
}

TEST_F(CrossplaneTest, CreateTwiceWritesNothingTheSecondTime) {
  createOk(request());
  scope.cluster.clearRequests();
  createOk(request());
  for (const auto& r : scope.cluster.requests()) EXPECT_EQ(r.rfind("GET ", 0), 0u) << r;
}

TEST_F(CrossplaneTest, HandScaledDeploymentIsDriftAndUpdateRepairsIt) {
  createOk(request());
  handPatch(kit::kDeployments, "crossplane-system", "crossplane", {{"spec", {{"replicas", 3}}}});
  Observation o = observeOk(request());
  EXPECT_TRUE(o.exists);
  EXPECT_TRUE(o.drift);
  EXPECT_NE(o.message.find("spec.replicas is 3, want 1"), std::string::npos) << o.message;
  OpResult r = p->update(request(), scope);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(deployment()["spec"]["replicas"], 1);
  EXPECT_FALSE(observeOk(request()).drift);
}

TEST_F(CrossplaneTest, HandChangedImageIsDriftAndUpdateRepairsIt) {
  createOk(request());
  json d = deployment();
  d["spec"]["template"]["spec"]["containers"][0]["image"] = "evil.example/crossplane:latest";
  ASSERT_TRUE(scope.mcpClient.update(kit::kDeployments, "crossplane-system", d).isOk());
  Observation o = observeOk(request());
  EXPECT_TRUE(o.drift);
  EXPECT_NE(o.message.find("evil.example/crossplane:latest"), std::string::npos) << o.message;
  ASSERT_TRUE(p->update(request(), scope).ok());
  EXPECT_EQ(deployment()["spec"]["template"]["spec"]["containers"][0]["image"],
            "xpkg.upbound.io/crossplane/crossplane:v1.20.0");
  EXPECT_FALSE(observeOk(request()).drift);
}

TEST_F(CrossplaneTest, MissingPiecesAreDriftAndUpdateRecreatesThem) {
  createOk(request());
  ASSERT_TRUE(scope.mcpClient.remove(kit::kServiceAccounts, "crossplane-system", "crossplane").isOk());
  ASSERT_TRUE(scope.mcpClient.remove(kit::kClusterRoleBindings, "", "crossplane").isOk());
  ASSERT_TRUE(
      scope.mcpClient.remove({"pkg.crossplane.io", "v1", "providers", false}, "", "provider-kubernetes").isOk());
  Observation o = observeOk(request());
  EXPECT_TRUE(o.drift);
  EXPECT_NE(o.message.find("ServiceAccount crossplane-system/crossplane is missing"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("ClusterRoleBinding crossplane is missing"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("Provider provider-kubernetes is missing"), std::string::npos) << o.message;
  ASSERT_TRUE(p->update(request(), scope).ok());
  EXPECT_TRUE(scope.cluster.object("", "serviceaccounts", "crossplane-system", "crossplane").is_object());
  EXPECT_TRUE(providerObject("provider-kubernetes").is_object());
  EXPECT_FALSE(observeOk(request()).drift);
}

TEST_F(CrossplaneTest, ProviderPackageChangedByHandIsDrift) {
  createOk(request());
  handPatch({"pkg.crossplane.io", "v1", "providers", false}, "", "provider-kubernetes",
            {{"spec", {{"package", "xpkg.upbound.io/crossplane-contrib/provider-kubernetes:v0.9.0"}}}});
  Observation o = observeOk(request());
  EXPECT_TRUE(o.drift);
  EXPECT_NE(o.message.find("spec.package"), std::string::npos) << o.message;
  ASSERT_TRUE(p->update(request(), scope).ok());
  EXPECT_EQ(providerObject("provider-kubernetes")["spec"]["package"],
            "xpkg.upbound.io/crossplane-contrib/provider-kubernetes:v0.15.0");
}

TEST_F(CrossplaneTest, ProviderNoLongerRequestedIsRemovedButForeignOnesStay) {
  createOk(request());
  json foreign = {{"apiVersion", "pkg.crossplane.io/v1"},
                  {"kind", "Provider"},
                  {"metadata", {{"name", "provider-helm"}}},
                  {"spec", {{"package", "example/provider-helm:v1"}}}};
  ASSERT_TRUE(scope.mcpClient.create({"pkg.crossplane.io", "v1", "providers", false}, "", foreign).isOk());
  json without = request("1.20.0", json::array());
  Observation o = observeOk(without);
  EXPECT_TRUE(o.drift);
  EXPECT_NE(o.message.find("Provider provider-kubernetes is no longer requested"), std::string::npos) << o.message;
  EXPECT_EQ(o.message.find("provider-helm"), std::string::npos) << o.message;
  ASSERT_TRUE(p->update(without, scope).ok());
  EXPECT_TRUE(providerObject("provider-kubernetes").is_null());
  EXPECT_TRUE(providerObject("provider-helm").is_object());
  EXPECT_FALSE(observeOk(without).drift);
}

TEST_F(CrossplaneTest, VersionChangeIsDriftAndUpdateRollsTheImage) {
  createOk(request());
  Observation o = observeOk(request("1.19.1"));
  EXPECT_TRUE(o.drift);
  ASSERT_TRUE(p->update(request("1.19.1"), scope).ok());
  EXPECT_EQ(deployment()["spec"]["template"]["spec"]["containers"][0]["image"],
            "xpkg.upbound.io/crossplane/crossplane:v1.19.1");
}

TEST_F(CrossplaneTest, VersionNotAllowedIsAUserErrorListingTheOffer) {
  for (int op = 0; op < 3; ++op) {
    OpResult r = op == 0   ? p->observe(request("1.18"), scope).result
                 : op == 1 ? p->create(request("1.18"), scope)
                           : p->update(request("1.18"), scope);
    EXPECT_EQ(r.kind, ErrorKind::kUser);
    EXPECT_EQ(r.reason, "VersionNotAllowed");
    EXPECT_EQ(r.message, "spec.version \"1.18\" is not offered; allowed: 1.20.0, 1.19.1");
  }
  EXPECT_TRUE(scope.cluster.requests().empty()) << "a rejected request must not touch the MCP cluster";
}

TEST_F(CrossplaneTest, ProviderNotAllowedIsAUserErrorListingTheOffer) {
  json aws = json::array({{{"name", "provider-aws"}, {"version", "v1.0.0"}}});
  json oldKubernetes = json::array({{{"name", "provider-kubernetes"}, {"version", "v0.1.0"}}});
  for (const json& providers : {aws, oldKubernetes}) {
    OpResult r = p->observe(request("1.20.0", providers), scope).result;
    EXPECT_EQ(r.kind, ErrorKind::kUser);
    EXPECT_EQ(r.reason, "ProviderNotAllowed");
    EXPECT_NE(r.message.find(providers[0]["name"].get<std::string>()), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("allowed: provider-kubernetes (v0.15.0)"), std::string::npos) << r.message;
    EXPECT_EQ(p->create(request("1.20.0", providers), scope).reason, "ProviderNotAllowed");
  }
  EXPECT_EQ(scope.cluster.objectCount(), 0u);
}

TEST_F(CrossplaneTest, MissingVersionAndBrokenConfigAreUserErrors) {
  json noVersion = request();
  noVersion["spec"].erase("version");
  OpResult r = p->observe(noVersion, scope).result;
  EXPECT_EQ(r.reason, "InvalidSpec");
  EXPECT_NE(r.message.find("allowed: 1.20.0, 1.19.1"), std::string::npos) << r.message;
  scope.config["spec"]["versions"] = json::array();
  r = p->create(request(), scope);
  EXPECT_EQ(r.kind, ErrorKind::kUser);
  EXPECT_EQ(r.reason, "InvalidProviderConfig");
}

TEST_F(CrossplaneTest, RemoveDeletesEverythingAndObserveSaysGone) {
  createOk(request());
  json deleting = request();
  deleting["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z";
  OpResult r = p->remove(deleting, scope);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(scope.cluster.objectCount(), 0u) << "namespace, RBAC, CRDs and Providers must all be gone";
  Observation o = observeOk(deleting);
  EXPECT_FALSE(o.exists) << o.message;
  EXPECT_TRUE(p->remove(deleting, scope).ok()) << "a repeated Delete tolerates NotFound";
}

TEST_F(CrossplaneTest, DeletingRequestWithDisallowedSpecCanStillBeObservedGone) {
  createOk(request());
  json deleting = request("0.0.1");
  deleting["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z";
  ObserveResult before = p->observe(deleting, scope);
  ASSERT_TRUE(before.result.ok()) << before.result.message;
  EXPECT_TRUE(before.observation.exists);
  ASSERT_TRUE(p->remove(deleting, scope).ok());
  EXPECT_FALSE(observeOk(deleting).exists);
}

TEST_F(CrossplaneTest, CrdNotEstablishedIsTransientAndUpdateFinishesLater) {
  scope.cluster.establishCrds = false;
  OpResult r = p->create(request(), scope);
  EXPECT_EQ(r.kind, ErrorKind::kTransient);
  EXPECT_EQ(r.reason, "CrdNotEstablished");
  EXPECT_NE(r.message.find("providers.pkg.crossplane.io"), std::string::npos) << r.message;
  EXPECT_TRUE(providerObject("provider-kubernetes").is_null());
  Observation o = observeOk(request());
  EXPECT_TRUE(o.exists);
  EXPECT_TRUE(o.drift);
  for (const char* crd :
       {"providers.pkg.crossplane.io", "configurations.pkg.crossplane.io", "objects.kubernetes.crossplane.io"})
    scope.cluster.establish(crd);
  ASSERT_TRUE(p->update(request(), scope).ok());
  EXPECT_TRUE(providerObject("provider-kubernetes").is_object());
  EXPECT_FALSE(observeOk(request()).drift);
}

TEST_F(CrossplaneTest, DeploymentNotAvailableIsNotReady) {
  scope.cluster.deploymentsAvailable = false;
  createOk(request());
  Observation o = observeOk(request());
  EXPECT_TRUE(o.exists);
  EXPECT_FALSE(o.drift) << o.message;
  EXPECT_FALSE(o.ready);
  EXPECT_NE(o.message.find("not Available"), std::string::npos) << o.message;
}

TEST_F(CrossplaneTest, ClusterErrorsAreTransientAndInvalidIsUser) {
  scope.mcpError = Status(Code::kUnavailable, "AccessRequest not granted yet");
  OpResult r = p->create(request(), scope);
  EXPECT_EQ(r.kind, ErrorKind::kTransient);
  EXPECT_NE(r.message.find("MCP cluster"), std::string::npos) << r.message;
  scope.mcpError = Status();
  scope.cluster.fail({"POST", "/deployments", 503, "ServiceUnavailable", 1});
  r = p->create(request(), scope);
  EXPECT_EQ(r.kind, ErrorKind::kTransient);
  EXPECT_NE(r.message.find("creating Deployment crossplane-system/crossplane"), std::string::npos) << r.message;
  scope.cluster.fail({"POST", "/deployments", 422, "Invalid", 1});
  r = p->create(request(), scope);
  EXPECT_EQ(r.kind, ErrorKind::kUser);
  EXPECT_EQ(r.reason, "Invalid");
  createOk(request());
}

TEST(OpResultTest, FromStatusClassifies) {
  OpResult invalid = OpResult::fromStatus(Status(Code::kInvalid, "spec.replicas: must be >= 0"), "updating X");
  EXPECT_EQ(invalid.kind, ErrorKind::kUser);
  EXPECT_EQ(invalid.message, "updating X: spec.replicas: must be >= 0");
  for (Code c : {Code::kUnavailable, Code::kConflict, Code::kNotFound, Code::kUnauthorized, Code::kInternal}) {
    OpResult r = OpResult::fromStatus(Status(c, "boom"), "reading Y");
    EXPECT_EQ(r.kind, ErrorKind::kTransient) << codeName(c);
    EXPECT_EQ(r.message, "reading Y: boom");
  }
}

TEST(RegistryTest, NamesAndKinds) {
  EXPECT_EQ(providerNames(), (std::vector<std::string>{"crossplane", "template"}));
  for (const auto& name : providerNames()) {
    auto p = makeProvider(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->name(), name);
  }
  EXPECT_EQ(makeProvider("nope"), nullptr);
  auto k = makeProvider("crossplane")->kinds();
  EXPECT_EQ(k.api.apiVersion(), "crossplane.services.open-control-plane.io/v1alpha1");
  EXPECT_EQ(k.api.resource, "crossplanes");
  EXPECT_TRUE(k.api.namespaced);
  EXPECT_EQ(k.config.resource, "providerconfigs");
  EXPECT_FALSE(k.config.namespaced);
}

// Replay re-runs an op against its tape: the same answers must produce the same requests.
std::vector<std::string> scenario(bool establish) {
  auto p = makeProvider("crossplane");
  FakeScope s(config());
  s.cluster.establishCrds = establish;
  (void)p->observe(request(), s);
  (void)p->create(request(), s);
  (void)s.mcpClient.mergePatch(kit::kDeployments, "crossplane-system", "crossplane", {{"spec", {{"replicas", 2}}}});
  (void)p->observe(request(), s);
  (void)p->update(request("1.19.1", json::array()), s);
  (void)p->remove(request(), s);
  (void)p->observe(request(), s);
  return s.cluster.requests();
}

TEST(CrossplaneDeterminism, SameAnswersSameRequests) {
  for (bool establish : {true, false}) {
    auto first = scenario(establish), second = scenario(establish);
    EXPECT_GT(first.size(), 20u);
    EXPECT_EQ(first, second);
  }
}

}  // namespace
}  // namespace spr::providers
