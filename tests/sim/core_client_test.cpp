// spr's own Kubernetes client (adapters/k8s, libcurl) against the sim: the kubeconfig the
// sim writes works as is, and the AccessRequest Secret's kubeconfig reaches the new cluster
// over verified TLS — the path `spr run` and `spr demo` take.
#include <gtest/gtest.h>

#include <thread>

#include "adapters/k8s/client.h"
#include "adapters/k8s/config.h"
#include "adapters/k8s/curl_transport.h"
#include "sim/tls.h"
#include "tests/sim/core_test_support.h"

namespace spr::sim::testing {
namespace {

const k8s::GroupVersionResource kNamespaces{"", "v1", "namespaces", false};
const k8s::GroupVersionResource kSecrets{"", "v1", "secrets", true};
const k8s::GroupVersionResource kClusterRequests{"clusters.openmcp.cloud", "v1alpha1", "clusterrequests", true};
const k8s::GroupVersionResource kAccessRequests{"clusters.openmcp.cloud", "v1alpha1", "accessrequests", true};
const k8s::GroupVersionResource kCms{"", "v1", "configmaps", true};

std::string decode(const std::string& in) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    auto pos = kAlphabet.find(c);
    if (pos == std::string::npos) continue;
    buffer = (buffer << 6) | static_cast<uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

TEST(SimWithSprClient, KubeconfigAndAccessRequestSecretWorkWithTheCurlClient) {
  SimFixture sim;
  auto cfg = k8s::parseKubeconfig(sim.server->kubeconfigYaml(), "platform", "sim kubeconfig");
  ASSERT_TRUE(cfg) << cfg.status().toString();
  auto transport = k8s::makeCurlTransport(*cfg);
  ASSERT_TRUE(transport) << transport.status().toString();
  k8s::Client platform(**transport);
  ASSERT_TRUE(platform.create(kNamespaces, "",
                              {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "mcp-x"}}}}));
  ASSERT_TRUE(platform.create(kClusterRequests, "mcp-x",
                              {{"apiVersion", "clusters.openmcp.cloud/v1alpha1"},
                               {"kind", "ClusterRequest"},
                               {"metadata", {{"name", "mcp"}}},
                               {"spec", {{"purpose", "mcp"}}}}));
  ASSERT_TRUE(platform.create(
      kAccessRequests, "mcp-x",
      {{"apiVersion", "clusters.openmcp.cloud/v1alpha1"},
       {"kind", "AccessRequest"},
       {"metadata", {{"name", "ar"}}},
       {"spec",
        {{"requestRef", {{"name", "mcp"}, {"namespace", "mcp-x"}}},
         {"permissions",
          json::array({{{"rules", json::array({{{"apiGroups", json::array({""})},
                                                {"resources", json::array({"configmaps"})},
                                                {"verbs", json::array({"get", "list", "create"})}}})}}})}}}}));
  std::string secretName;
  for (int i = 0; i < 100 && secretName.empty(); ++i) {
    auto ar = platform.get(kAccessRequests, "mcp-x", "ar");
    ASSERT_TRUE(ar);
    if (ar->contains("status") && (*ar)["status"].value("phase", "") == "Granted")
      secretName = (*ar)["status"]["secretRef"]["name"];
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(secretName.empty());
  auto secret = platform.get(kSecrets, "mcp-x", secretName);
  ASSERT_TRUE(secret);
  auto mcpCfg = k8s::parseKubeconfig(decode((*secret)["data"]["kubeconfig"]), "", "Secret mcp-x/" + secretName);
  ASSERT_TRUE(mcpCfg) << mcpCfg.status().toString();
  auto mcpTransport = k8s::makeCurlTransport(*mcpCfg);
  ASSERT_TRUE(mcpTransport);
  k8s::Client mcp(**mcpTransport);
  ASSERT_TRUE(mcp.create(kCms, "default", configMap("on-the-mcp")));
  auto list = mcp.list(kCms, "default");
  ASSERT_TRUE(list);
  EXPECT_EQ((*list)["items"].size(), 1u);
  auto conflict = mcp.create(kCms, "default", configMap("on-the-mcp"));
  EXPECT_EQ(conflict.status().code(), Code::kAlreadyExists);
  auto missing = mcp.get(kCms, "default", "nope");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace spr::sim::testing
