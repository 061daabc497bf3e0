// The template provider's full cycle against an in-memory API server: it is the example
// new providers start from, so it must keep working as documented in providers/README.md.
#include <gtest/gtest.h>

#include "providers/kit.h"
#include "providers/provider.h"
#include "tests/providers/fake_scope.h"

namespace spr::providers {
namespace {

using testing::FakeScope;

json templateConfig() {
  return {{"apiVersion", "template.services.open-control-plane.io/v1alpha1"},
          {"kind", "ProviderConfig"},
          {"metadata", {{"name", "template"}}},
          {"spec", {{"pollInterval", "30s"}, {"image", "registry.example/hello:1.0"}, {"maxReplicas", 2}}}};
}

json templateRequest(json spec) {
  return {{"apiVersion", "template.services.open-control-plane.io/v1alpha1"},
          {"kind", "Template"},
          {"metadata", {{"name", "mcp-1"}, {"namespace", "project-a--ws-1"}}},
          {"spec", spec}};
}

TEST(TemplateProvider, FullCycle) {
  auto p = makeProvider("template");
  FakeScope s(templateConfig());
  json req = templateRequest({{"message", "hello"}});
  ObserveResult o = p->observe(req, s);
  ASSERT_TRUE(o.result.ok()) << o.result.message;
  EXPECT_FALSE(o.observation.exists);

  ASSERT_TRUE(p->create(req, s).ok());
  json cm = s.cluster.object("", "configmaps", "template-system", "template");
  EXPECT_EQ(cm["data"]["MESSAGE"], "hello");
  json d = s.cluster.object("apps", "deployments", "template-system", "template");
  EXPECT_EQ(d["spec"]["replicas"], 1);
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"][0]["image"], "registry.example/hello:1.0");
  o = p->observe(req, s);
  EXPECT_TRUE(o.observation.exists && !o.observation.drift && o.observation.ready) << o.observation.message;

  // A hand edit is drift; a new spec is drift too; Update repairs both.
  ASSERT_TRUE(
      s.mcpClient.mergePatch(kit::kConfigMaps, "template-system", "template", {{"data", {{"MESSAGE", "x"}}}}).isOk());
  o = p->observe(req, s);
  EXPECT_TRUE(o.observation.drift);
  EXPECT_NE(o.observation.message.find("data.MESSAGE is \"x\", want \"hello\""), std::string::npos)
      << o.observation.message;
  json scaled = templateRequest({{"message", "hello"}, {"replicas", 2}});
  ASSERT_TRUE(p->update(scaled, s).ok());
  EXPECT_EQ(s.cluster.object("", "configmaps", "template-system", "template")["data"]["MESSAGE"], "hello");
  EXPECT_EQ(s.cluster.object("apps", "deployments", "template-system", "template")["spec"]["replicas"], 2);
  EXPECT_FALSE(p->observe(scaled, s).observation.drift);

  json deleting = scaled;
  deleting["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z";
  ASSERT_TRUE(p->remove(deleting, s).ok());
  EXPECT_EQ(s.cluster.objectCount(), 0u);
  o = p->observe(deleting, s);
  ASSERT_TRUE(o.result.ok());
  EXPECT_FALSE(o.observation.exists);
}

TEST(TemplateProvider, UserErrors) {
  auto p = makeProvider("template");
  FakeScope s(templateConfig());
  OpResult r = p->create(templateRequest({{"message", "hi"}, {"replicas", 5}}), s);
  EXPECT_EQ(r.kind, ErrorKind::kUser);
  EXPECT_EQ(r.reason, "ReplicasNotAllowed");
  EXPECT_EQ(r.message, "spec.replicas must be an integer from 0 to 2");
  r = p->observe(templateRequest(json::object()), s).result;
  EXPECT_EQ(r.reason, "InvalidSpec");
  s.config["spec"].erase("image");
  EXPECT_EQ(p->create(templateRequest({{"message", "hi"}}), s).reason, "InvalidProviderConfig");
  EXPECT_EQ(s.cluster.objectCount(), 0u);
}

TEST(TemplateProvider, DeploymentNotAvailableIsNotReady) {
  auto p = makeProvider("template");
  FakeScope s(templateConfig());
  s.cluster.deploymentsAvailable = false;
  json req = templateRequest({{"message", "hello"}});
  ASSERT_TRUE(p->create(req, s).ok());
  ObserveResult o = p->observe(req, s);
  EXPECT_TRUE(o.observation.exists);
  EXPECT_FALSE(o.observation.ready);
  EXPECT_FALSE(o.observation.drift) << o.observation.message;
}

}  // namespace
}  // namespace spr::providers
