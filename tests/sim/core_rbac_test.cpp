// The sim's RBAC for AccessRequest grants (sim/access_rbac.h): request attributes derived from the
// path as kube-apiserver's RequestInfoFactory does, and PolicyRule matching as its RBAC
// authorizer does (subresources, "*/status", resourceNames, namespaced permissions).
#include <gtest/gtest.h>

#include "sim/access_rbac.h"

namespace spr::sim {
namespace {

using nlohmann::json;

ApiRequest request(const std::string& method, const std::string& path, const std::string& watch = "") {
  ApiRequest r;
  r.method = method;
  r.path = path;
  if (!watch.empty()) r.query["watch"] = watch;
  return r;
}

TEST(SimRbacAttributes, FollowKubeApiserversRequestInfo) {
  RequestAttributes a = attributesOf(request("GET", "/apis/apps/v1/namespaces/ns1/deployments/web"));
  EXPECT_TRUE(a.resourceRequest);
  EXPECT_EQ(a.verb, "get");
  EXPECT_EQ(a.group, "apps");
  EXPECT_EQ(a.resource, "deployments");
  EXPECT_EQ(a.ns, "ns1");
  EXPECT_EQ(a.name, "web");
  EXPECT_EQ(attributesOf(request("GET", "/api/v1/namespaces/ns1/pods")).verb, "list");
  EXPECT_EQ(attributesOf(request("GET", "/api/v1/namespaces/ns1/pods", "True")).verb, "watch");
  EXPECT_EQ(attributesOf(request("DELETE", "/api/v1/namespaces/ns1/pods")).verb, "deletecollection");
  EXPECT_EQ(attributesOf(request("PATCH", "/api/v1/namespaces/ns1/pods/p")).verb, "patch");
  RequestAttributes status = attributesOf(request("PUT", "/apis/x.io/v1/namespaces/ns1/things/t/status"));
  EXPECT_EQ(status.verb, "update");
  EXPECT_EQ(status.subresource, "status");
  // A Namespace's own subresource, and the Namespace itself.
  RequestAttributes nsStatus = attributesOf(request("PUT", "/api/v1/namespaces/ns1/status"));
  EXPECT_EQ(nsStatus.resource, "namespaces");
  EXPECT_EQ(nsStatus.name, "ns1");
  EXPECT_EQ(nsStatus.subresource, "status");
  EXPECT_EQ(attributesOf(request("GET", "/api/v1/namespaces/ns1")).resource, "namespaces");
  EXPECT_FALSE(attributesOf(request("GET", "/apis/apps/v1")).resourceRequest);  // discovery
  EXPECT_FALSE(attributesOf(request("GET", "/openapi/v2")).resourceRequest);
}

TEST(SimRbacRules, MatchVerbsGroupsResourcesSubresourcesNamesAndNamespaces) {
  json permissions = json::array(
      {{{"rules", json::array({{{"apiGroups", {"x.io"}}, {"resources", {"things"}}, {"verbs", {"get", "update"}}},
                               {{"apiGroups", {"x.io"}}, {"resources", {"*/status"}}, {"verbs", {"update"}}},
                               {{"apiGroups", {"apiextensions.k8s.io"}},
                                {"resources", {"customresourcedefinitions"}},
                                {"resourceNames", {"things.x.io"}},
                                {"verbs", {"get"}}}})}},
       {{"namespace", "only-here"},
        {"rules", json::array({{{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"list"}}}})}}});
  auto allows = [&](const std::string& method, const std::string& path, const std::string& watch = "") {
    return rbacAllows(permissions, attributesOf(request(method, path, watch)));
  };
  EXPECT_TRUE(allows("GET", "/apis/x.io/v1/namespaces/a/things/t"));
  EXPECT_TRUE(allows("PUT", "/apis/x.io/v1/namespaces/a/things/t"));
  EXPECT_FALSE(allows("DELETE", "/apis/x.io/v1/namespaces/a/things/t"));
  EXPECT_FALSE(allows("GET", "/apis/x.io/v1/namespaces/a/things", "true")) << "watch is not get";
  EXPECT_TRUE(allows("PUT", "/apis/x.io/v1/namespaces/a/things/t/status"));
  EXPECT_FALSE(allows("PUT", "/apis/x.io/v1/namespaces/a/things/t/finalizers"));
  EXPECT_FALSE(allows("GET", "/apis/y.io/v1/namespaces/a/things/t")) << "another API group";
  EXPECT_TRUE(allows("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/things.x.io"));
  EXPECT_FALSE(allows("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/other.x.io"));
  EXPECT_FALSE(allows("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")) << "resourceNames: no list";
  EXPECT_TRUE(allows("GET", "/api/v1/namespaces/only-here/configmaps"));
  EXPECT_FALSE(allows("GET", "/api/v1/namespaces/elsewhere/configmaps")) << "a Role grants in its namespace only";
  EXPECT_FALSE(allows("GET", "/api/v1/configmaps")) << "nor across namespaces";
  EXPECT_TRUE(allows("GET", "/apis")) << "discovery is open to every authenticated user";
  EXPECT_FALSE(allows("POST", "/apis"));
}

TEST(SimRbacRules, ForbiddenSaysWhoCannotDoWhatWhere) {
  ApiResponse r =
      forbidden(attributesOf(request("GET", "/api/v1/namespaces/ns1/secrets/s")), "system:serviceaccount:a:b");
  EXPECT_EQ(r.code, 403);
  EXPECT_EQ(r.body.value("reason", ""), "Forbidden");
  EXPECT_EQ(r.body.value("message", ""),
            "secrets \"s\" is forbidden: User \"system:serviceaccount:a:b\" cannot get resource \"secrets\" in API "
            "group \"\" in the namespace \"ns1\"");
}

}  // namespace
}  // namespace spr::sim
