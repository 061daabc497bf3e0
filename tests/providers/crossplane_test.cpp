// The crossplane provider against FakeClusters: openMCP's ProviderConfig and discovery
// ConfigMaps on the platform cluster, Flux's OCIRepository/HelmRelease written there, the
// Provider objects on the MCP once Flux reports the release Ready. Flux itself is played by
// the test (fluxReleases()); tests/sim/flux_test.cpp runs the same against the local API server.
#include <gtest/gtest.h>

#include "adapters/k8s/openmcp.h"
#include "providers/crossplane/crossplane.h"
#include "tests/providers/fake_scope.h"

namespace spr::providers::crossplane {
namespace {

using spr::testing::FakeScope;

const std::string kNs = "project-a--ws-1";
const std::string kTenant = k8s::mcpNamespace(kNs, "mcp-1");

json crd(const std::string& group, const std::string& version, const std::string& kind, const std::string& plural,
         bool namespaced) {
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", plural + "." + group}}},
          {"spec",
           {{"group", group},
            {"names", {{"kind", kind}, {"plural", plural}}},
            {"scope", namespaced ? "Namespaced" : "Cluster"},
            {"versions", json::array({{{"name", version}, {"served", true}, {"storage", true}}})}}}};
}

json request(const std::string& version = "v2.0.8",
             json providers = json::array({{{"name", "provider-kubernetes"}, {"version", "v1.2.1"}}})) {
  json spec = {{"version", version}};
  if (!providers.is_null()) spec["providers"] = providers;
  return {{"apiVersion", std::string(kGroup) + "/v1alpha1"},
          {"kind", "Crossplane"},
          {"metadata", {{"name", "mcp-1"}, {"namespace", kNs}, {"generation", 1}}},
          {"spec", spec}};
}

// A scope whose caBundle() the test sets.
class Scope : public FakeScope {
 public:
  using FakeScope::FakeScope;
  Result<std::optional<CaBundle>> caBundle() override { return ca; }
  std::optional<CaBundle> ca;
};

class CrossplaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& pf = scope.platformClient;
    for (const auto& c : {crd("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases", true),
                          crd("source.toolkit.fluxcd.io", "v1", "OCIRepository", "ocirepositories", true),
                          crd("clusters.openmcp.cloud", "v1alpha1", "AccessRequest", "accessrequests", true)})
      ASSERT_TRUE(pf.create(kit::kCrds, "", c).isOk());
    for (const auto& ns : {std::string("default"), kTenant})
      ASSERT_TRUE(pf.create(kit::kNamespaces, "", {{"metadata", {{"name", ns}}}}).isOk());
    for (const auto& cm : exampleDiscovery()) ASSERT_TRUE(pf.create(kit::kConfigMaps, "default", cm).isOk());
    ASSERT_TRUE(pf.create(kSecrets, kTenant,
                          {{"metadata", {{"name", "crossplane-mcp-1-kubeconfig"}}},
                           {"type", "Opaque"},
                           {"data", {{"kubeconfig", "a3ViZWNvbmZpZw=="}}}})
                    .isOk());
    ASSERT_TRUE(
        pf.create(kAccessRequests, kTenant,
                  {{"metadata", {{"name", "crossplane-mcp-1"}}},
                   {"status", {{"phase", "Granted"}, {"secretRef", {{"name", "crossplane-mcp-1-kubeconfig"}}}}}})
            .isOk());
  }

  json platformObject(const k8s::GroupVersionResource& gvr, const std::string& name = kName) {
    return scope.platformCluster.object(gvr.group, gvr.resource, kTenant, name);
  }
  // Flux's part: the HelmRelease Ready with `chartVersion` deployed, and the chart's CRDs
  // on the MCP (what `core init` installs).
  void fluxReleases(const std::string& chartVersion) {
    json hr = platformObject(kHelmReleases);
    ASSERT_FALSE(hr.is_null());
    json status = {
        {"observedGeneration", hr["metadata"]["generation"]},
        {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}, {"reason", "InstallSucceeded"}}})},
        {"history", json::array({{{"chartVersion", chartVersion}, {"status", "deployed"}}})}};
    ASSERT_TRUE(scope.platformClient.mergePatch(kHelmReleases, kTenant, kName, {{"status", status}}).isOk());
    (void)scope.mcpClient.create(kit::kCrds, "", crd("pkg.crossplane.io", "v1", "Provider", "providers", false));
  }
  void providersHealthy() {
    auto list = scope.mcpClient.list(kProviders, "");
    ASSERT_TRUE(list.isOk());
    for (const auto& p : (*list)["items"]) {
      json status = {{"conditions", json::array({{{"type", "Installed"}, {"status", "True"}},
                                                 {{"type", "Healthy"}, {"status", "True"}}})}};
      ASSERT_TRUE(scope.mcpClient.mergePatch(kProviders, "", p["metadata"]["name"], {{"status", status}}).isOk());
    }
  }
  Observation observe(const json& req = request()) {
    auto r = provider->observe(req, scope);
    EXPECT_TRUE(r.result.ok()) << r.result.reason << ": " << r.result.message;
    return r.observation;
  }

  Scope scope{exampleProviderConfig("10s")};
  std::unique_ptr<Provider> provider = makeCrossplaneProvider();
};

TEST_F(CrossplaneTest, NothingWrittenYetIsNotExisting) {
  Observation o = observe();
  EXPECT_FALSE(o.exists);
  EXPECT_NE(o.message.find("HelmRelease " + kTenant + "/crossplane does not exist"), std::string::npos) << o.message;
}

TEST_F(CrossplaneTest, CreateWritesFluxObjectsFromTheDiscoveryAndTheKubeconfigCopy) {
  OpResult r = provider->create(request(), scope);
  ASSERT_TRUE(r.ok()) << r.message;
  json repo = platformObject(kOciRepositories);
  EXPECT_EQ(repo["spec"]["url"], "oci://ghcr.io/openmcp-project/openmcp/charts/crossplane");
  EXPECT_EQ(repo["spec"]["ref"]["tag"], "2.0.8");
  EXPECT_EQ(repo["spec"]["ref"]["digest"], "sha256:5fd4b4a82463c3433ccdd4d3e7ea54e1621f0cb7b928559ce62b52e2b4706b2b");
  json hr = platformObject(kHelmReleases);
  EXPECT_EQ(hr["apiVersion"], "helm.toolkit.fluxcd.io/v2");
  EXPECT_EQ(hr["spec"]["chartRef"], (json{{"kind", "OCIRepository"}, {"name", "crossplane"}}));
  EXPECT_EQ(hr["spec"]["kubeConfig"]["secretRef"], (json{{"name", kKubeconfigSecret}, {"key", "kubeconfig"}}));
  EXPECT_EQ(hr["spec"]["targetNamespace"], "crossplane-system");
  EXPECT_EQ(hr["spec"]["values"]["image"]["repository"], "ghcr.io/openmcp-project/openmcp/images/crossplane");
  EXPECT_EQ(hr["spec"]["values"]["image"]["tag"],
            "v2.0.8@sha256:9ada05a4a8a6e0886ca5c4aa758a972ff3bae55a07d3ec54ccbe79067f56c214");
  json copy = platformObject(kSecrets, kKubeconfigSecret);
  EXPECT_EQ(copy["data"]["kubeconfig"], "a3ViZWNvbmZpZw==") << "the AccessRequest's kubeconfig, copied";
  EXPECT_FALSE(scope.cluster.object("", "namespaces", "", "crossplane-system").is_null());
  EXPECT_TRUE(scope.cluster.object("pkg.crossplane.io", "providers", "", "provider-kubernetes").is_null())
      << "no Provider before Flux has Crossplane running";
  Observation o = observe();
  EXPECT_TRUE(o.exists);
  EXPECT_FALSE(o.drift) << o.message;
  EXPECT_FALSE(o.ready);
  EXPECT_NE(o.message.find("not reconciled by Flux yet"), std::string::npos) << o.message;
}

TEST_F(CrossplaneTest, ProvidersFollowTheReleaseAndReadyNeedsThemHealthy) {
  ASSERT_TRUE(provider->create(request(), scope).ok());
  fluxReleases("2.0.8");
  Observation o = observe();
  EXPECT_TRUE(o.drift);
  EXPECT_NE(o.message.find("Provider provider-kubernetes is missing"), std::string::npos) << o.message;
  ASSERT_TRUE(provider->update(request(), scope).ok());
  json p = scope.cluster.object("pkg.crossplane.io", "providers", "", "provider-kubernetes");
  EXPECT_EQ(p["spec"]["package"], "xpkg.upbound.io/upbound/provider-kubernetes:v1.2.1");
  o = observe();
  EXPECT_FALSE(o.drift) << o.message;
  EXPECT_FALSE(o.ready);
  EXPECT_NE(o.message.find("Provider provider-kubernetes has no Installed condition yet"), std::string::npos)
      << o.message;
  providersHealthy();
  o = observe();
  EXPECT_TRUE(o.ready) << o.message;
  EXPECT_FALSE(o.drift) << o.message;
  scope.cluster.clearRequests();
  ASSERT_TRUE(provider->update(request(), scope).ok());
  for (const auto& line : scope.cluster.requests()) EXPECT_EQ(line.rfind("GET", 0), 0u) << "nothing to write: " << line;
}

TEST_F(CrossplaneTest, VersionChangeUpgradesThroughTheHelmRelease) {
  ASSERT_TRUE(provider->create(request(), scope).ok());
  fluxReleases("2.0.8");
  ASSERT_TRUE(provider->update(request(), scope).ok());
  providersHealthy();
  ASSERT_TRUE(observe().ready);
  Observation o = observe(request("1.20.5"));
  EXPECT_TRUE(o.drift);
  EXPECT_NE(o.message.find("spec.ref.tag is \"2.0.8\", want \"1.20.5\""), std::string::npos) << o.message;
  ASSERT_TRUE(provider->update(request("1.20.5"), scope).ok());
  EXPECT_EQ(platformObject(kOciRepositories)["spec"]["ref"]["tag"], "1.20.5");
  o = observe(request("1.20.5"));
  EXPECT_FALSE(o.ready);
  EXPECT_NE(o.message.find("not reconciled by Flux yet"), std::string::npos) << o.message;
  fluxReleases("1.20.5");
  o = observe(request("1.20.5"));
  EXPECT_TRUE(o.ready) << o.message;
}

TEST_F(CrossplaneTest, HandEditedHelmReleaseOrProviderIsDrift) {
  ASSERT_TRUE(provider->create(request(), scope).ok());
  fluxReleases("2.0.8");
  ASSERT_TRUE(provider->update(request(), scope).ok());
  ASSERT_TRUE(scope.platformClient
                  .mergePatch(kHelmReleases, kTenant, kName, {{"spec", {{"values", {{"image", {{"tag", "x"}}}}}}}})
                  .isOk());
  Observation o = observe();
  EXPECT_TRUE(o.drift);
  EXPECT_NE(o.message.find("spec.values.image.tag"), std::string::npos) << o.message;
  ASSERT_TRUE(provider->update(request(), scope).ok());
  fluxReleases("2.0.8");
  ASSERT_TRUE(
      scope.mcpClient.mergePatch(kProviders, "", "provider-kubernetes", {{"spec", {{"package", "evil:1"}}}}).isOk());
  o = observe();
  EXPECT_TRUE(o.drift);
  EXPECT_NE(o.message.find("spec.package"), std::string::npos) << o.message;
}

TEST_F(CrossplaneTest, ProviderNoLongerRequestedIsRemoved) {
  ASSERT_TRUE(provider->create(request(), scope).ok());
  fluxReleases("2.0.8");
  ASSERT_TRUE(provider->update(request(), scope).ok());
  Observation o = observe(request("v2.0.8", json::array()));
  EXPECT_TRUE(o.drift);
  EXPECT_NE(o.message.find("Provider provider-kubernetes is no longer requested"), std::string::npos) << o.message;
  ASSERT_TRUE(provider->update(request("v2.0.8", json::array()), scope).ok());
  EXPECT_TRUE(scope.cluster.object("pkg.crossplane.io", "providers", "", "provider-kubernetes").is_null());
}

TEST_F(CrossplaneTest, VersionAndProviderNotOfferedListWhatTheDiscoveryPublishes) {
  auto r = provider->observe(request("9.9.9"), scope).result;
  EXPECT_EQ(r.kind, ErrorKind::kUser);
  EXPECT_EQ(r.reason, "VersionNotAllowed");
  EXPECT_EQ(r.message, "spec.version \"9.9.9\" is not offered; allowed: v2.0.8, 1.20.5");
  r = provider->create(request("v2.0.8", json::array({{{"name", "provider-aws"}, {"version", "v1.0.0"}}})), scope);
  EXPECT_EQ(r.reason, "ProviderNotAllowed");
  EXPECT_EQ(r.message,
            "spec.providers: \"provider-aws\" version \"v1.0.0\" is not offered; allowed: provider-kubernetes v1.2.1");
  EXPECT_TRUE(platformObject(kHelmReleases).is_null()) << "nothing is written for a refused request";
}

TEST_F(CrossplaneTest, EarlierConfigShapeIsRefusedNamingTheNewFields) {
  scope.config = {{"metadata", {{"name", "crossplane"}}},
                  {"spec",
                   {{"versions", json::array({{{"version", "1.20.0"}, {"image", "x"}}})},
                    {"providers", {{"availableProviders", json::array()}}}}}};
  auto r = provider->create(request(), scope);
  EXPECT_EQ(r.kind, ErrorKind::kUser);
  EXPECT_EQ(r.reason, "InvalidProviderConfig");
  for (const char* field : {"spec.versions", "spec.crossplaneDiscoveryName", "spec.providerDiscoverySelector",
                            "spec.providers.imagePullSecretRefs"})
    EXPECT_NE(r.message.find(field), std::string::npos) << field << " in: " << r.message;
}

TEST_F(CrossplaneTest, MissingOrBrokenDiscoveryIsAUserErrorNamingTheConfigMap) {
  ASSERT_TRUE(scope.platformClient.remove(kit::kConfigMaps, "default", "crossplane-discovery").isOk());
  auto r = provider->create(request(), scope);
  EXPECT_EQ(r.reason, "DiscoveryNotFound");
  EXPECT_NE(r.message.find("default/crossplane-discovery"), std::string::npos) << r.message;
  ASSERT_TRUE(scope.platformClient
                  .create(kit::kConfigMaps, "default",
                          {{"metadata", {{"name", "crossplane-discovery"}}}, {"data", {{"components", "a: [b"}}}})
                  .isOk());
  r = provider->create(request(), scope);
  EXPECT_EQ(r.reason, "InvalidProviderConfig");
  EXPECT_NE(r.message.find("discovery ConfigMap default/crossplane-discovery: data.components is not YAML"),
            std::string::npos)
      << r.message;
}

TEST_F(CrossplaneTest, CaBundleIsCopiedToTheMcpAndGivenToTheChart) {
  scope.ca = CaBundle{"corp-ca", "ca.crt", "-----BEGIN CERTIFICATE-----\n...", "abc123"};
  ASSERT_TRUE(provider->create(request(), scope).ok());
  json cm = scope.cluster.object("", "configmaps", "crossplane-system", kCaBundleConfigMap);
  EXPECT_EQ(cm["data"]["ca.crt"], "-----BEGIN CERTIFICATE-----\n...");
  EXPECT_EQ(cm["metadata"]["annotations"][kSourceDigestAnnotation], "abc123");
  EXPECT_EQ(platformObject(kHelmReleases)["spec"]["values"]["registryCaBundleConfig"],
            (json{{"name", kCaBundleConfigMap}, {"key", "ca.crt"}}));
  scope.ca->pem = "changed";
  scope.ca->digest = "def456";
  EXPECT_TRUE(observe().drift);
}

TEST_F(CrossplaneTest, PullSecretsAreCopiedToTheMcpAndNamedOnEveryProvider) {
  scope.config["spec"]["providers"] = {{"imagePullSecretRefs", json::array({{{"name", "regcred"}}})}};
  auto r = provider->create(request(), scope);
  EXPECT_EQ(r.reason, "PullSecretNotFound");
  EXPECT_EQ(r.kind, ErrorKind::kTransient) << "retried: creating the Secret changes nothing spr watches";
  EXPECT_NE(r.message.find("default/regcred"), std::string::npos) << r.message;
  ASSERT_TRUE(scope.platformClient
                  .create(kSecrets, "default",
                          {{"metadata", {{"name", "regcred"}}},
                           {"type", "kubernetes.io/dockerconfigjson"},
                           {"data", {{".dockerconfigjson", "e30="}}}})
                  .isOk());
  ASSERT_TRUE(provider->create(request(), scope).ok());
  fluxReleases("2.0.8");
  ASSERT_TRUE(provider->update(request(), scope).ok());
  json copy = scope.cluster.object("", "secrets", "crossplane-system", "regcred");
  EXPECT_EQ(copy["type"], "kubernetes.io/dockerconfigjson");
  EXPECT_EQ(copy["data"][".dockerconfigjson"], "e30=");
  json p = scope.cluster.object("pkg.crossplane.io", "providers", "", "provider-kubernetes");
  EXPECT_EQ(p["spec"]["packagePullSecrets"], json::array({{{"name", "regcred"}}}));
  EXPECT_FALSE(observe().drift);
}

// What the offer stops naming goes from both clusters: a pull Secret replaced by another (on
// the MCP; the chart's beside the OCIRepository), the CA bundle's copies once caBundleRef is
// removed. Copies the operator made by hand, without spr's owner labels, stay.
TEST_F(CrossplaneTest, CopiesTheOfferNoLongerNamesAreRemovedFromBothClusters) {
  auto& pf = scope.platformClient;
  auto pullSecret = [&](const std::string& name) {
    ASSERT_TRUE(pf.create(kSecrets, "default",
                          {{"metadata", {{"name", name}}},
                           {"type", "kubernetes.io/dockerconfigjson"},
                           {"data", {{".dockerconfigjson", "e30="}}}})
                    .isOk());
  };
  // The chart's pull Secret comes from the discovery ConfigMap (its component's pullSecret).
  auto chartPullSecret = [&](const std::string& name) {
    json cm = scope.platformCluster.object("", "configmaps", "default", "crossplane-discovery");
    json components = json::parse(cm["data"]["components"].get<std::string>());
    components[0]["pullSecret"] = name;
    ASSERT_TRUE(pf.mergePatch(kit::kConfigMaps, "default", "crossplane-discovery",
                              {{"data", {{"components", components.dump()}}}})
                    .isOk());
  };
  for (const auto& name : {"regcred", "regcred-2", "chart-cred", "chart-cred-2"}) pullSecret(name);
  ASSERT_TRUE(scope.mcpClient.create(kit::kNamespaces, "", {{"metadata", {{"name", kNamespace}}}}).isOk());
  ASSERT_TRUE(
      scope.mcpClient
          .create(kit::kConfigMaps, kNamespace, {{"metadata", {{"name", "operators-own"}}}, {"data", json::object()}})
          .isOk());
  scope.config["spec"]["providers"] = {{"imagePullSecretRefs", json::array({{{"name", "regcred"}}})}};
  chartPullSecret("chart-cred");
  scope.ca = CaBundle{"corp-ca", "ca.crt", "-----BEGIN CERTIFICATE-----\n...", "abc123"};
  ASSERT_TRUE(provider->create(request(), scope).ok());
  fluxReleases("2.0.8");
  ASSERT_TRUE(provider->update(request(), scope).ok());
  EXPECT_FALSE(scope.cluster.object("", "secrets", kNamespace, "regcred").is_null());
  EXPECT_FALSE(scope.cluster.object("", "configmaps", kNamespace, kCaBundleConfigMap).is_null());
  EXPECT_FALSE(platformObject(kSecrets, "chart-cred").is_null());
  EXPECT_FALSE(platformObject(kSecrets, kCaBundleConfigMap).is_null());
  EXPECT_FALSE(observe().drift);

  scope.config["spec"]["providers"] = {{"imagePullSecretRefs", json::array({{{"name", "regcred-2"}}})}};
  chartPullSecret("chart-cred-2");
  scope.ca.reset();
  EXPECT_TRUE(observe().drift);
  ASSERT_TRUE(provider->update(request(), scope).ok());
  fluxReleases("2.0.8");
  ASSERT_TRUE(provider->update(request(), scope).ok());
  EXPECT_TRUE(scope.cluster.object("", "secrets", kNamespace, "regcred").is_null()) << "the MCP copy of the old one";
  EXPECT_FALSE(scope.cluster.object("", "secrets", kNamespace, "regcred-2").is_null());
  EXPECT_TRUE(scope.cluster.object("", "configmaps", kNamespace, kCaBundleConfigMap).is_null());
  EXPECT_FALSE(scope.cluster.object("", "configmaps", kNamespace, "operators-own").is_null()) << "not spr's";
  EXPECT_TRUE(platformObject(kSecrets, "chart-cred").is_null()) << "beside the OCIRepository";
  EXPECT_FALSE(platformObject(kSecrets, "chart-cred-2").is_null());
  EXPECT_TRUE(platformObject(kSecrets, kCaBundleConfigMap).is_null()) << "the certSecretRef's ca.crt";
  EXPECT_FALSE(platformObject(kOciRepositories)["spec"].contains("certSecretRef"));
  EXPECT_FALSE(scope.platformCluster.object("", "secrets", "default", "chart-cred").is_null()) << "the operator's own";
  EXPECT_FALSE(observe().drift);
}

TEST_F(CrossplaneTest, DeleteRemovesProvidersThenWaitsForFluxThenTheRest) {
  ASSERT_TRUE(provider->create(request(), scope).ok());
  fluxReleases("2.0.8");
  ASSERT_TRUE(provider->update(request(), scope).ok());
  json deleting = request();
  deleting["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z";
  OpResult r = provider->remove(deleting, scope);
  EXPECT_EQ(r.kind, ErrorKind::kTransient);
  EXPECT_EQ(r.reason, "UninstallInProgress");
  EXPECT_TRUE(scope.cluster.object("pkg.crossplane.io", "providers", "", "provider-kubernetes").is_null());
  EXPECT_TRUE(platformObject(kHelmReleases).is_null()) << "the fake deletes at once; Flux would uninstall first";
  EXPECT_TRUE(provider->observe(deleting, scope).observation.exists) << "OCIRepository and Secret still there";
  r = provider->remove(deleting, scope);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_TRUE(platformObject(kOciRepositories).is_null());
  EXPECT_TRUE(platformObject(kSecrets, kKubeconfigSecret).is_null());
  EXPECT_TRUE(scope.cluster.object("", "namespaces", "", "crossplane-system").is_null());
  EXPECT_TRUE(
      scope.cluster.object("apiextensions.k8s.io", "customresourcedefinitions", "", "providers.pkg.crossplane.io")
          .is_null())
      << "Crossplane's CRDs, which Helm keeps, are removed too";
  EXPECT_FALSE(provider->observe(deleting, scope).observation.exists);
}

TEST_F(CrossplaneTest, McpGoneFirstSuspendsTheReleaseAndRemovesThePlatformObjects) {
  ASSERT_TRUE(provider->create(request(), scope).ok());
  scope.mcpError = Status(Code::kNotFound, "the MCP cluster is gone");
  json deleting = request();
  deleting["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z";
  ASSERT_TRUE(provider->remove(deleting, scope).ok());
  bool suspended = false;
  for (const auto& line : scope.platformCluster.requests())
    suspended = suspended || (line.rfind("PATCH", 0) == 0 && line.find("\"suspend\":true") != std::string::npos);
  EXPECT_TRUE(suspended) << "Flux cannot uninstall from a cluster that is gone";
  EXPECT_TRUE(platformObject(kHelmReleases).is_null());
  EXPECT_TRUE(platformObject(kOciRepositories).is_null());
  EXPECT_TRUE(platformObject(kSecrets, kKubeconfigSecret).is_null());
}

// openMCP's getMCPPermissions (service-provider-crossplane, commit in docs/API.md), rule
// for rule, then spr's additions; no wildcard anywhere.
TEST(CrossplaneAccessRules, OpenMcpsListFirstThenSprsOwnNeeds) {
  json rules = makeCrossplaneProvider()->mcpAccessRules();
  const json all = {"get", "list", "watch", "create", "update", "patch", "delete"};
  json openmcp = json::array({
      {{"apiGroups", {"apiextensions.k8s.io"}}, {"resources", {"customresourcedefinitions"}}, {"verbs", all}},
      {{"apiGroups", {""}}, {"resources", {"secrets", "configmaps"}}, {"verbs", all}},
      {{"apiGroups", {""}}, {"resources", {"serviceaccounts"}}, {"verbs", all}},
      {{"apiGroups", {""}}, {"resources", {"serviceaccounts/token"}}, {"verbs", {"create"}}},
      {{"apiGroups", {""}}, {"resources", {"namespaces"}}, {"verbs", all}},
      {{"apiGroups", {"rbac.authorization.k8s.io"}},
       {"resources", {"clusterroles", "clusterrolebindings"}},
       {"verbs", all}},
      {{"apiGroups", {""}}, {"resources", {"events"}}, {"verbs", all}},
      {{"apiGroups", {"admissionregistration.k8s.io"}},
       {"resources", {"validatingwebhookconfigurations"}},
       {"verbs", all}},
  });
  ASSERT_GE(rules.size(), openmcp.size());
  for (size_t i = 0; i < openmcp.size(); ++i) EXPECT_EQ(rules[i], openmcp[i]) << i;
  for (const auto& r : rules)
    for (const char* field : {"apiGroups", "resources", "verbs", "resourceNames"})
      for (const auto& v : r.value(field, json::array()))
        EXPECT_EQ(v.get<std::string>().find('*'), std::string::npos) << r.dump();
}

TEST(CrossplaneDiscovery, SelectorsAndReferencesParseAsKubernetesDoes) {
  EXPECT_EQ(selectorString(json::object()), "");
  EXPECT_EQ(
      selectorString({{"matchLabels", {{"a", "b"}}},
                      {"matchExpressions", json::array({{{"key", "x"}, {"operator", "In"}, {"values", {"1", "2"}}},
                                                        {{"key", "y"}, {"operator", "DoesNotExist"}}})}}),
      "a=b,x in (1,2),!y");
  std::string repo, tag, digest;
  splitReference("localhost:5000/a/b:1.2@sha256:ff", repo, tag, digest);
  EXPECT_EQ(repo, "localhost:5000/a/b");
  EXPECT_EQ(tag, "1.2");
  EXPECT_EQ(digest, "sha256:ff");
  splitReference("localhost:5000/a/b", repo, tag, digest);
  EXPECT_EQ(repo, "localhost:5000/a/b");
  EXPECT_EQ(tag, "");
}

}  // namespace
}  // namespace spr::providers::crossplane
