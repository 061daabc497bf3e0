// The CRDs each provider returns: what `spr init` installs and what kubectl users see.
#include <gtest/gtest.h>

#include "providers/provider.h"

namespace spr::providers {
namespace {

const json& version0(const json& crd) { return crd["spec"]["versions"][0]; }
const json& schemaOf(const json& crd) { return version0(crd)["schema"]["openAPIV3Schema"]; }

TEST(Crds, EveryProviderCrdIsAServedStoredV1CrdWithStatus) {
  for (const auto& name : providerNames()) {
    auto p = makeProvider(name);
    auto kinds = p->kinds();
    auto api = p->apiCrds();
    auto cfg = p->configCrds();
    ASSERT_EQ(api.size(), 1u);
    ASSERT_EQ(cfg.size(), 1u);
    for (const json& crd : {api[0], cfg[0]}) {
      EXPECT_EQ(crd["apiVersion"], "apiextensions.k8s.io/v1");
      EXPECT_EQ(crd["kind"], "CustomResourceDefinition");
      EXPECT_EQ(crd["metadata"]["name"],
                crd["spec"]["names"]["plural"].get<std::string>() + "." + crd["spec"]["group"].get<std::string>());
      EXPECT_TRUE(version0(crd)["served"].get<bool>());
      EXPECT_TRUE(version0(crd)["storage"].get<bool>());
      EXPECT_TRUE(version0(crd)["subresources"].contains("status"));
      EXPECT_EQ(schemaOf(crd)["type"], "object");
    }
    EXPECT_EQ(api[0]["spec"]["names"]["kind"], kinds.apiKind);
    EXPECT_EQ(api[0]["spec"]["names"]["plural"], kinds.api.resource);
    EXPECT_EQ(api[0]["spec"]["scope"], "Namespaced");
    EXPECT_EQ(version0(api[0])["name"], kinds.api.version);
    EXPECT_EQ(cfg[0]["spec"]["names"]["kind"], kinds.configKind);
    EXPECT_EQ(cfg[0]["spec"]["scope"], "Cluster");
    EXPECT_EQ(cfg[0]["spec"]["names"]["plural"], kinds.config.resource);
  }
}

TEST(Crds, CrossplaneSchemasRequireWhatTheProviderNeeds) {
  auto p = makeProvider("crossplane");
  json api = schemaOf(p->apiCrds()[0]);
  EXPECT_EQ(api["properties"]["spec"]["required"], json::array({"version"}));
  json item = api["properties"]["spec"]["properties"]["providers"]["items"];
  EXPECT_EQ(item["required"], json::array({"name", "version"}));
  json condition = api["properties"]["status"]["properties"]["conditions"]["items"];
  EXPECT_EQ(condition["properties"]["status"]["enum"], json::array({"True", "False", "Unknown"}));
  EXPECT_EQ(api["properties"]["status"]["properties"]["observedGeneration"]["type"], "integer");

  json cfg = schemaOf(p->configCrds()[0])["properties"]["spec"];
  // openMCP's shape (service-provider-crossplane's ProviderConfig), plus spr's pollInterval.
  EXPECT_EQ(cfg["required"], json::array({"crossplaneDiscoveryName", "providerDiscoverySelector"}));
  EXPECT_EQ(cfg["properties"]["providers"]["properties"]["imagePullSecretRefs"]["type"], "array");
  EXPECT_EQ(cfg["properties"]["caBundleRef"]["required"], json::array({"key"}));
  EXPECT_FALSE(cfg["properties"].contains("versions")) << "spr's earlier shape is gone";
  EXPECT_EQ(cfg["properties"]["pollInterval"]["type"], "string");
}

}  // namespace
}  // namespace spr::providers
