// Custom CA bundles on the provider side: both built-in ProviderConfig CRDs accept
// caBundleRef; the kit's copy and mount; the template provider copies the bundle into its
// namespace on the MCP, mounts it into its Deployment, repairs drift, follows a changed or
// removed bundle, and reports a missing one as a user error.
#include <gtest/gtest.h>

#include <algorithm>

#include "providers/kit.h"
#include "providers/provider.h"
#include "tests/providers/fake_scope.h"

namespace spr::providers {
namespace {

using testing::FakeScope;

const char* kPem1 = "-----BEGIN CERTIFICATE-----\nMIIB1\n-----END CERTIFICATE-----\n";
const char* kPem2 = "-----BEGIN CERTIFICATE-----\nMIIB2\n-----END CERTIFICATE-----\n";

CaBundle bundle(const char* pem, const std::string& digest) { return {"corp-ca", "ca-bundle.crt", pem, digest}; }

json templateConfig() {
  return {{"apiVersion", "template.services.open-control-plane.io/v1alpha1"},
          {"kind", "ProviderConfig"},
          {"metadata", {{"name", "template"}}},
          {"spec", {{"image", "registry.example/hello:1.0"}, {"caBundleRef", {{"name", "corp-ca"}, {"key", "x"}}}}}};
}

json templateRequest() {
  return {{"apiVersion", "template.services.open-control-plane.io/v1alpha1"},
          {"kind", "Template"},
          {"metadata", {{"name", "mcp-1"}, {"namespace", "project-a--ws-1"}}},
          {"spec", {{"message", "hello"}}}};
}

json podSpecOf(FakeScope& s) {
  return s.cluster.object("apps", "deployments", "template-system", "template")["spec"]["template"]["spec"];
}

TEST(CaBundleCrds, EveryProviderConfigCrdAcceptsCaBundleRef) {
  for (const auto& name : providerNames()) {
    for (const auto& crd : makeProvider(name)->configCrds()) {
      const json& spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
      ASSERT_TRUE(spec["properties"].contains("caBundleRef")) << name;
      const json& ref = spec["properties"]["caBundleRef"];
      // crossplane follows openMCP's shape (a ConfigMapKeySelector: only `key` required, an
      // empty name is refused at use, naming the field); spr's own CRDs require both.
      const json& required = ref["required"];
      EXPECT_NE(std::find(required.begin(), required.end(), "key"), required.end()) << name;
      if (name != "crossplane") EXPECT_EQ(required, json::array({"name", "key"})) << name;
      EXPECT_EQ(ref["properties"]["name"]["type"], "string") << name;
    }
    for (const auto& crd : makeProvider(name)->apiCrds())  // only the ProviderConfig offers it
      EXPECT_FALSE(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
                       .value("spec", json::object())
                       .value("properties", json::object())
                       .contains("caBundleRef"))
          << name;
  }
}

TEST(CaBundleKit, MountAddsVolumeMountAndExtendsSslCertDir) {
  json podSpec = {
      {"containers",
       json::array({{{"name", "a"}},
                    {{"name", "b"}, {"env", json::array({{{"name", "SSL_CERT_DIR"}, {"value", "/certs"}}})}}})}};
  kit::mountCaBundle(podSpec, bundle(kPem1, "d1"));
  EXPECT_EQ(podSpec["volumes"], json::parse(R"([{"name":"ca-bundle","configMap":{"name":"ca-bundle"}}])"));
  for (const auto& c : podSpec["containers"])
    EXPECT_EQ(c["volumeMounts"],
              json::parse(R"([{"name":"ca-bundle","mountPath":"/etc/open-control-plane/custom-ca","readOnly":true}])"));
  EXPECT_EQ(podSpec["containers"][0]["env"][0]["value"],
            "/etc/ssl/certs:/etc/pki/tls/certs:/etc/open-control-plane/custom-ca");
  EXPECT_EQ(podSpec["containers"][1]["env"][0]["value"], "/certs:/etc/open-control-plane/custom-ca");
}

TEST(CaBundleTemplate, CopiedMountedAndFollowedWhenChangedOrRemoved) {
  auto p = makeProvider("template");
  FakeScope s(templateConfig());
  s.bundle = bundle(kPem1, "d1");
  json req = templateRequest();
  ASSERT_TRUE(p->create(req, s).ok());
  json copy = s.cluster.object("", "configmaps", "template-system", "ca-bundle");
  EXPECT_EQ(copy["data"], json({{"ca-bundle.crt", kPem1}}));
  EXPECT_EQ(copy["metadata"]["annotations"][kit::kCaBundleDigestAnnotation], "d1");
  json pod = podSpecOf(s);
  EXPECT_EQ(pod["volumes"][0]["configMap"]["name"], "ca-bundle");
  EXPECT_EQ(pod["containers"][0]["volumeMounts"][0]["mountPath"], kit::kCaBundleMountPath);
  EXPECT_EQ(pod["containers"][0]["env"][0]["value"], kit::kCaBundleCertDirs);
  ObserveResult o = p->observe(req, s);
  EXPECT_TRUE(o.observation.exists && !o.observation.drift) << o.observation.message;

  // A hand-removed mount is drift, repaired by Update.
  ASSERT_TRUE(s.mcpClient
                  .mergePatch(kit::kDeployments, "template-system", "template",
                              {{"spec", {{"template", {{"spec", {{"volumes", nullptr}}}}}}}})
                  .isOk());
  o = p->observe(req, s);
  EXPECT_TRUE(o.observation.drift);
  EXPECT_NE(o.observation.message.find("volumes"), std::string::npos) << o.observation.message;
  ASSERT_TRUE(p->update(req, s).ok());
  EXPECT_FALSE(p->observe(req, s).observation.drift);

  // The operator changes the bundle: drift, and Update replaces the copy.
  s.bundle = CaBundle{"corp-ca", "other.crt", kPem2, "d2"};
  o = p->observe(req, s);
  EXPECT_TRUE(o.observation.drift);
  EXPECT_NE(o.observation.message.find("ConfigMap template-system/ca-bundle holds another CA bundle"),
            std::string::npos)
      << o.observation.message;
  ASSERT_TRUE(p->update(req, s).ok());
  copy = s.cluster.object("", "configmaps", "template-system", "ca-bundle");
  EXPECT_EQ(copy["data"], json({{"other.crt", kPem2}}));  // exactly the new key
  EXPECT_FALSE(p->observe(req, s).observation.drift);

  // caBundleRef removed: the copy, the volume, the mount and SSL_CERT_DIR go.
  s.bundle.reset();
  o = p->observe(req, s);
  EXPECT_TRUE(o.observation.drift);
  EXPECT_NE(o.observation.message.find("is left over: the ProviderConfig names no caBundleRef"), std::string::npos)
      << o.observation.message;
  ASSERT_TRUE(p->update(req, s).ok());
  EXPECT_TRUE(s.cluster.object("", "configmaps", "template-system", "ca-bundle").is_null());
  pod = podSpecOf(s);
  EXPECT_TRUE(pod.value("volumes", json()).is_null()) << pod.dump();
  EXPECT_TRUE(pod["containers"][0].value("volumeMounts", json()).is_null()) << pod.dump();
  EXPECT_TRUE(pod["containers"][0].value("env", json()).is_null()) << pod.dump();
  EXPECT_FALSE(p->observe(req, s).observation.drift) << p->observe(req, s).observation.message;
}

TEST(CaBundleTemplate, DeleteRemovesTheCopyToo) {
  auto p = makeProvider("template");
  FakeScope s(templateConfig());
  s.bundle = bundle(kPem1, "d1");
  json req = templateRequest();
  ASSERT_TRUE(p->create(req, s).ok());
  req["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z";
  ASSERT_TRUE(p->remove(req, s).ok());
  EXPECT_EQ(s.cluster.objectCount(), 0u);
}

TEST(CaBundleTemplate, MissingBundleIsAUserErrorAndNothingIsDeployed) {
  auto p = makeProvider("template");
  FakeScope s(templateConfig());
  s.bundleError = Status(Code::kInvalidArgument,
                         "ConfigMap openmcp-system/corp-ca named by ProviderConfig "
                         "\"template\" spec.caBundleRef does not exist; create it ...");
  OpResult r = p->create(templateRequest(), s);
  EXPECT_EQ(r.kind, ErrorKind::kUser);
  EXPECT_EQ(r.reason, "CABundleNotFound");
  EXPECT_EQ(r.message, s.bundleError.message());
  EXPECT_EQ(p->observe(templateRequest(), s).result.reason, "CABundleNotFound");
  EXPECT_EQ(s.cluster.objectCount(), 0u);
  s.bundleError = Status(Code::kUnavailable, "platform cluster unreachable");
  EXPECT_EQ(p->create(templateRequest(), s).kind, ErrorKind::kTransient);
}

}  // namespace
}  // namespace spr::providers
