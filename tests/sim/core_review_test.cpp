// The local API server's review APIs, checked against kube-apiserver's behaviour
// (pkg/registry/authentication/tokenreview, pkg/registry/authorization/subjectaccessreview,
// plugin/pkg/auth/authorizer/rbac): TokenReview of the kubeconfig token and of issued
// ServiceAccount tokens (TokenRequest), SubjectAccessReview decided by the cluster's RBAC
// objects, validation (400/422), create-only resources (405), and discovery.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "tests/sim/core_test_support.h"
#include "tests/support/run_command.h"

namespace spr::sim {
namespace {

using nlohmann::json;
using testing::Reply;
using testing::SimFixture;

const char* kTokenReviews = "/apis/authentication.k8s.io/v1/tokenreviews";
const char* kAccessReviews = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
const char* kRbac = "/apis/rbac.authorization.k8s.io/v1";

json tokenReview(const std::string& token, const json& audiences = nullptr) {
  json r = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenReview"}, {"spec", {{"token", token}}}};
  if (!audiences.is_null()) r["spec"]["audiences"] = audiences;
  return r;
}

json metricsReview(const std::string& user, const json& groups, const std::string& verb = "get",
                   const std::string& path = "/metrics") {
  return {{"apiVersion", "authorization.k8s.io/v1"},
          {"kind", "SubjectAccessReview"},
          {"spec", {{"user", user}, {"groups", groups}, {"nonResourceAttributes", {{"path", path}, {"verb", verb}}}}}};
}

// A ServiceAccount `name` in default and a token for it (kubectl create token).
std::string serviceAccountToken(const SimFixture& sim, const std::string& name, const json& spec = json::object()) {
  sim.post("platform", "/api/v1/namespaces/default/serviceaccounts",
           {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", name}}}});
  Reply r = sim.post("platform", "/api/v1/namespaces/default/serviceaccounts/" + name + "/token",
                     {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", spec}});
  EXPECT_EQ(r.code, 201) << r.body.dump();
  return r.body["status"].value("token", "");
}

bool allowed(const Reply& r) { return r.body["status"].value("allowed", false); }
bool allowed(const json& status) { return status.value("allowed", false); }
bool authenticated(const Reply& r) { return r.body["status"].value("authenticated", false); }

void bindMetricsReader(const SimFixture& sim, const json& subject) {
  sim.post("platform", std::string(kRbac) + "/clusterroles",
           {{"apiVersion", "rbac.authorization.k8s.io/v1"},
            {"kind", "ClusterRole"},
            {"metadata", {{"name", "metrics-reader"}}},
            {"rules", json::array({{{"nonResourceURLs", {"/metrics"}}, {"verbs", {"get"}}}})}});
  Reply r = sim.post(
      "platform", std::string(kRbac) + "/clusterrolebindings",
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "ClusterRoleBinding"},
       {"metadata", {{"name", "scrapers"}}},
       {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "metrics-reader"}}},
       {"subjects", json::array({subject})}});
  ASSERT_EQ(r.code, 201) << r.body.dump();
}

TEST(SimReview, TheKubeconfigTokenIsTheClusterAdmin) {
  SimFixture sim;
  Reply r = sim.post("platform", kTokenReviews, tokenReview(sim.token("platform")));
  ASSERT_EQ(r.code, 201) << r.body.dump();
  EXPECT_EQ(r.body["kind"], "TokenReview");
  EXPECT_EQ(r.body["apiVersion"], "authentication.k8s.io/v1");
  EXPECT_TRUE(r.body["metadata"]["creationTimestamp"].is_null());
  EXPECT_EQ(r.body["status"]["authenticated"], true);
  EXPECT_EQ(r.body["status"]["user"]["username"], "kubernetes-admin");
  EXPECT_EQ(r.body["status"]["user"]["groups"], json({"system:masters", "system:authenticated"}));
  EXPECT_EQ(r.body["status"]["audiences"], json({"https://kubernetes.default.svc.cluster.local"}));
  // Another cluster's token is no one here.
  r = sim.post("platform", kTokenReviews, tokenReview(sim.token("onboarding")));
  EXPECT_FALSE(authenticated(r));
}

TEST(SimReview, AnUnknownTokenIsNotAuthenticatedAndAnEmptyOneIsABadRequest) {
  SimFixture sim;
  Reply r = sim.post("platform", kTokenReviews, tokenReview("garbage"));
  ASSERT_EQ(r.code, 201) << r.body.dump();
  EXPECT_FALSE(authenticated(r));
  EXPECT_EQ(r.body["status"]["user"], json::object());
  EXPECT_FALSE(r.body["status"].value("error", "").empty());
  r = sim.post("platform", kTokenReviews, tokenReview(""));
  EXPECT_EQ(r.code, 400);
  EXPECT_EQ(r.body["message"], "token is required for TokenReview in authentication");
}

TEST(SimReview, ReviewsAreCreateOnlyAndListedSoInDiscovery) {
  SimFixture sim;
  EXPECT_EQ(sim.get("platform", kTokenReviews).code, 405);
  EXPECT_EQ(sim.get("platform", kAccessReviews).code, 405);
  Reply d = sim.get("platform", "/apis/authentication.k8s.io/v1");
  ASSERT_EQ(d.code, 200);
  auto resource = [](const Reply& list, const std::string& name) {
    for (const auto& r : list.body["resources"])
      if (r["name"] == name) return r;
    return json();
  };
  json tokenReviews = resource(d, "tokenreviews");
  EXPECT_EQ(tokenReviews["verbs"], json({"create"})) << d.body.dump();
  EXPECT_EQ(tokenReviews["namespaced"], false);
  EXPECT_EQ(resource(d, "selfsubjectreviews")["verbs"], json({"create"}));
  d = sim.get("platform", "/apis/authorization.k8s.io/v1");
  EXPECT_EQ(resource(d, "subjectaccessreviews")["verbs"], json({"create"})) << d.body.dump();
  EXPECT_EQ(resource(d, "selfsubjectaccessreviews")["verbs"], json({"create"}));
}

TEST(SimReview, IssuedServiceAccountTokensAuthenticateWhileTheServiceAccountLives) {
  SimFixture sim;
  std::string token = serviceAccountToken(sim, "prom");
  ASSERT_EQ(std::count(token.begin(), token.end(), '.'), 2) << "JWT-shaped, as kube-apiserver's";
  Reply r = sim.post("platform", kTokenReviews, tokenReview(token));
  ASSERT_EQ(r.body["status"].value("authenticated", false), true) << r.body.dump();
  const json user = r.body["status"]["user"];
  EXPECT_EQ(user["username"], "system:serviceaccount:default:prom");
  EXPECT_EQ(user["groups"], json({"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"}));
  Reply sa = sim.get("platform", "/api/v1/namespaces/default/serviceaccounts/prom");
  EXPECT_EQ(user["uid"], sa.body["metadata"]["uid"]);
  // A token is only for its audiences; another cluster does not know it.
  r = sim.post("platform", kTokenReviews, tokenReview(token, {"vault"}));
  EXPECT_FALSE(authenticated(r));
  EXPECT_FALSE(authenticated(sim.post("onboarding", kTokenReviews, tokenReview(token))));
  // Deleting the ServiceAccount revokes its tokens.
  ASSERT_EQ(sim.call("platform", "DELETE", "/api/v1/namespaces/default/serviceaccounts/prom").code, 200);
  r = sim.post("platform", kTokenReviews, tokenReview(token));
  EXPECT_FALSE(authenticated(r));
}

TEST(SimReview, TokenRequestsAreValidatedAsKubeApiserverDoes) {
  SimFixture sim;
  Reply r = sim.post("platform", "/api/v1/namespaces/default/serviceaccounts/nosuch/token",
                     {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", json::object()}});
  EXPECT_EQ(r.code, 404);
  EXPECT_EQ(r.body["message"], "serviceaccounts \"nosuch\" not found");
  serviceAccountToken(sim, "short");
  r = sim.post(
      "platform", "/api/v1/namespaces/default/serviceaccounts/short/token",
      {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", {{"expirationSeconds", 60}}}});
  EXPECT_EQ(r.code, 422);
  EXPECT_NE(r.body.value("message", "").find("may not specify a duration less than 10 minutes"), std::string::npos)
      << r.body.dump();
  r = sim.post("platform", "/api/v1/namespaces/default/serviceaccounts/short/token",
               {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", json::object()}});
  EXPECT_EQ(r.body["spec"]["expirationSeconds"], 3600);
  EXPECT_FALSE(r.body["status"].value("expirationTimestamp", "").empty());
}

TEST(SimReview, SubjectAccessReviewFollowsTheClusterRbac) {
  SimFixture sim;
  const std::string prom = "system:serviceaccount:default:prom";
  const json saGroups = {"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"};
  Reply r = sim.post("platform", kAccessReviews, metricsReview(prom, saGroups));
  ASSERT_EQ(r.code, 201) << r.body.dump();
  EXPECT_EQ(r.body["status"], json({{"allowed", false}})) << "no binding: no opinion, no reason";
  bindMetricsReader(sim, {{"kind", "ServiceAccount"}, {"name", "prom"}, {"namespace", "default"}});
  r = sim.post("platform", kAccessReviews, metricsReview(prom, saGroups));
  EXPECT_EQ(r.body["status"]["allowed"], true);
  EXPECT_EQ(r.body["status"]["reason"],
            "RBAC: allowed by ClusterRoleBinding \"scrapers\" of ClusterRole \"metrics-reader\" to ServiceAccount "
            "\"default/prom\"");
  EXPECT_EQ(r.body["spec"]["user"], prom) << "the review is echoed";
  EXPECT_FALSE(allowed(sim.post("platform", kAccessReviews, metricsReview(prom, saGroups, "post"))));
  EXPECT_FALSE(allowed(sim.post("platform", kAccessReviews, metricsReview(prom, saGroups, "get", "/debug"))));
  EXPECT_FALSE(
      allowed(sim.post("platform", kAccessReviews, metricsReview("system:serviceaccount:other:prom", saGroups))));
  // system:masters is allowed everything, before RBAC.
  EXPECT_TRUE(allowed(sim.post("platform", kAccessReviews, metricsReview("admin", {"system:masters"}))));
}

TEST(SimReview, GroupsUrlPrefixesAndMissingRolesAreEvaluatedAsRbacDoes) {
  SimFixture sim;
  bindMetricsReader(sim, {{"kind", "Group"}, {"name", "monitoring"}, {"apiGroup", "rbac.authorization.k8s.io"}});
  EXPECT_TRUE(allowed(sim.post("platform", kAccessReviews, metricsReview("alice", {"monitoring"}))));
  EXPECT_FALSE(allowed(sim.post("platform", kAccessReviews, metricsReview("alice", {"dev"}))));
  sim.post("platform", std::string(kRbac) + "/clusterrolebindings",
           {{"apiVersion", "rbac.authorization.k8s.io/v1"},
            {"kind", "ClusterRoleBinding"},
            {"metadata", {{"name", "dangling"}}},
            {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "gone"}}},
            {"subjects", json::array({{{"kind", "User"}, {"name", "bob"}}})}});
  Reply r = sim.post("platform", kAccessReviews, metricsReview("bob", json::array()));
  EXPECT_EQ(r.body["status"]["allowed"], false);
  EXPECT_EQ(r.body["status"]["reason"], "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found");
  sim.post("platform", std::string(kRbac) + "/clusterroles",
           {{"apiVersion", "rbac.authorization.k8s.io/v1"},
            {"kind", "ClusterRole"},
            {"metadata", {{"name", "gone"}}},
            {"rules", json::array({{{"nonResourceURLs", {"/metrics/*"}}, {"verbs", {"*"}}}})}});
  EXPECT_TRUE(
      allowed(sim.post("platform", kAccessReviews, metricsReview("bob", json::array(), "get", "/metrics/extra"))));
  EXPECT_FALSE(allowed(sim.post("platform", kAccessReviews, metricsReview("bob", json::array()))));
}

TEST(SimReview, ResourceAttributesFollowRolesInTheirNamespace) {
  SimFixture sim;
  sim.post("platform", std::string(kRbac) + "/namespaces/default/roles",
           {{"apiVersion", "rbac.authorization.k8s.io/v1"},
            {"kind", "Role"},
            {"metadata", {{"name", "cm-reader"}, {"namespace", "default"}}},
            {"rules", json::array({{{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get"}}}})}});
  sim.post("platform", std::string(kRbac) + "/namespaces/default/rolebindings",
           {{"apiVersion", "rbac.authorization.k8s.io/v1"},
            {"kind", "RoleBinding"},
            {"metadata", {{"name", "carol-reads"}, {"namespace", "default"}}},
            {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "cm-reader"}}},
            {"subjects", json::array({{{"kind", "User"}, {"name", "carol"}}})}});
  auto review = [&](const std::string& ns, const std::string& resource) {
    json sar = {
        {"apiVersion", "authorization.k8s.io/v1"},
        {"kind", "SubjectAccessReview"},
        {"spec",
         {{"user", "carol"}, {"resourceAttributes", {{"namespace", ns}, {"verb", "get"}, {"resource", resource}}}}}};
    return sim.post("platform", kAccessReviews, sar).body["status"];
  };
  EXPECT_EQ(review("default", "configmaps")["reason"],
            "RBAC: allowed by RoleBinding \"carol-reads/default\" of Role \"cm-reader\" to User \"carol\"");
  EXPECT_FALSE(allowed(review("kube-system", "configmaps")));
  EXPECT_FALSE(allowed(review("default", "secrets")));
}

TEST(SimReview, InvalidSubjectAccessReviewsAreRefusedWith422) {
  SimFixture sim;
  json noSubject = metricsReview("", json::array());
  Reply r = sim.post("platform", kAccessReviews, noSubject);
  EXPECT_EQ(r.code, 422);
  EXPECT_NE(r.body.value("message", "").find("at least one of user or group must be specified"), std::string::npos)
      << r.body.dump();
  json both = metricsReview("alice", json::array());
  both["spec"]["resourceAttributes"] = {{"verb", "get"}, {"resource", "pods"}};
  EXPECT_EQ(sim.post("platform", kAccessReviews, both).code, 422);
  json named = metricsReview("alice", json::array());
  named["metadata"] = {{"name", "x"}};
  r = sim.post("platform", kAccessReviews, named);
  EXPECT_EQ(r.code, 422);
  EXPECT_NE(r.body.value("message", "").find("must be empty"), std::string::npos) << r.body.dump();
}

TEST(SimReview, PathsWithoutTheClusterPrefixGoToTheTokensCluster) {
  // `kubectl get --raw /api/...` and `kubectl create --raw` drop the server URL's path.
  SimFixture sim;
  auto c = sim.client();
  auto r = c->Post(kTokenReviews, {{"Authorization", "Bearer " + sim.token("platform")}},
                   tokenReview(sim.token("platform")).dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  r = c->Get("/api/v1/namespaces/default", {{"Authorization", "Bearer garbage"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST(SimReview, SelfReviewsAnswerForTheCallerOrWhomItImpersonates) {
  SimFixture sim;
  bindMetricsReader(sim, {{"kind", "ServiceAccount"}, {"name", "prom"}, {"namespace", "default"}});
  auto c = sim.client();
  httplib::Headers admin{{"Authorization", "Bearer " + sim.token("platform")}};
  json whoami = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}};
  auto r = c->Post("/clusters/platform/apis/authentication.k8s.io/v1/selfsubjectreviews", admin, whoami.dump(),
                   "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["status"]["userInfo"]["username"], "kubernetes-admin") << r->body;
  json canI = {{"apiVersion", "authorization.k8s.io/v1"},
               {"kind", "SelfSubjectAccessReview"},
               {"spec", {{"nonResourceAttributes", {{"path", "/metrics"}, {"verb", "get"}}}}}};
  httplib::Headers asProm = admin;
  asProm.emplace("Impersonate-User", "system:serviceaccount:default:prom");
  r = c->Post("/clusters/platform/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", asProm, canI.dump(),
              "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["status"]["allowed"], true) << r->body;
  httplib::Headers asOther = admin;
  asOther.emplace("Impersonate-User", "system:serviceaccount:default:other");
  r = c->Post("/clusters/platform/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", asOther, canI.dump(),
              "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["status"]["allowed"], false) << r->body;
}

// Real kubectl's one-liners send protobuf (create token, clusterrole, clusterrolebinding,
// auth can-i, auth whoami); `create -f` of a TokenReview and `create --raw` send JSON.
TEST(SimReview, KubectlWorksWithTheReviewApisAsWithARealCluster) {
  if (access("/usr/bin/kubectl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/kubectl";
  SimFixture sim;
  char dirTemplate[] = "/tmp/spr-review-XXXXXX";
  ASSERT_NE(mkdtemp(dirTemplate), nullptr);
  const std::string dir = dirTemplate;
  std::ofstream(dir + "/kubeconfig") << sim.server->kubeconfigYaml();
  const std::string k = "/usr/bin/kubectl --kubeconfig " + dir + "/kubeconfig --context platform --cache-dir " + dir +
                        "/cache --request-timeout=20s ";
  auto run = [&](const std::string& args) {
    int status = 0;
    std::string out = spr::testing::runCommand(k + args, &status);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << args << "\n" << out;
    return out;
  };
  run("create serviceaccount prometheus");
  run("create clusterrole spr-metrics-reader --verb=get --non-resource-url=/metrics");
  run("create clusterrolebinding prometheus-spr --clusterrole=spr-metrics-reader --serviceaccount=default:prometheus");
  EXPECT_EQ(run("auth can-i get /metrics --as=system:serviceaccount:default:prometheus"), "yes\n");
  EXPECT_NE(run("auth whoami -o json").find("kubernetes-admin"), std::string::npos);
  std::string token = run("create token prometheus");
  while (!token.empty() && token.back() == '\n') token.pop_back();
  std::ofstream(dir + "/review.yaml") << "apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: " +
                                             token + "\n";
  json created = json::parse(run("create -f " + dir + "/review.yaml -o json"), nullptr, false);
  EXPECT_EQ(created["status"]["user"]["username"], "system:serviceaccount:default:prometheus") << created.dump();
  // --raw sends the file's bytes as they are: JSON, as kube-apiserver needs.
  std::ofstream(dir + "/review.json") << json({{"apiVersion", "authentication.k8s.io/v1"},
                                               {"kind", "TokenReview"},
                                               {"spec", {{"token", token}}}})
                                             .dump();
  json raw = json::parse(run("create --raw /apis/authentication.k8s.io/v1/tokenreviews -f " + dir + "/review.json"),
                         nullptr, false);
  EXPECT_EQ(raw["status"]["authenticated"], true) << raw.dump();
  int status = 0;
  spr::testing::runCommand("rm -rf " + dir, &status);
}

}  // namespace
}  // namespace spr::sim
