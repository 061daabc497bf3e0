#include <gtest/gtest.h>

#include "adapters/k8s/client.h"
#include "adapters/k8s/status_error.h"
#include "tests/k8s/fake_transport.h"

namespace spr::k8s {
namespace {

using nlohmann::json;
using testing::FakeTransport;

const GroupVersionResource kCrossplanes{"crossplane.services.open-control-plane.io", "v1alpha1", "crossplanes", true};
const GroupVersionResource kNamespaces{"", "v1", "namespaces", false};

struct ClientTest : ::testing::Test {
  FakeTransport fake;
  std::vector<long> sleeps;
  Client client{fake, RetryPolicy{4, 100, 1000, [this](long ms) { sleeps.push_back(ms); }}};
};

std::string status(int code, const std::string& reason, const std::string& message) {
  return json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"reason", reason}, {"message", message}, {"code", code}}
      .dump();
}

TEST(GroupVersionResource, Paths) {
  GroupVersionResource pods{"", "v1", "pods", true};
  EXPECT_EQ(pods.collectionPath("kube-system"), "/api/v1/namespaces/kube-system/pods");
  EXPECT_EQ(pods.collectionPath(""), "/api/v1/pods");
  EXPECT_EQ(pods.objectPath("a", "p"), "/api/v1/namespaces/a/pods/p");
  EXPECT_EQ(kCrossplanes.apiVersion(), "crossplane.services.open-control-plane.io/v1alpha1");
  EXPECT_EQ(kNamespaces.objectPath("ignored", "ns1"), "/api/v1/namespaces/ns1");
}

TEST_F(ClientTest, VerbsSendTheRightRequests) {
  for (int i = 0; i < 7; ++i) fake.push(200, R"({"kind":"Crossplane","metadata":{"name":"c"}})");
  json obj = {{"apiVersion", kCrossplanes.apiVersion()}, {"kind", "Crossplane"}, {"metadata", {{"name", "c"}}}};
  ASSERT_TRUE(client.get(kCrossplanes, "t1", "c").isOk());
  ASSERT_TRUE(client.create(kCrossplanes, "t1", obj).isOk());
  obj["metadata"]["resourceVersion"] = "7";
  ASSERT_TRUE(client.update(kCrossplanes, "t1", obj).isOk());
  ASSERT_TRUE(client.updateStatus(kCrossplanes, "t1", obj).isOk());
  ASSERT_TRUE(client.mergePatch(kCrossplanes, "t1", "c", {{"metadata", {{"finalizers", {"f"}}}}}).isOk());
  ASSERT_TRUE(client.jsonPatch(kCrossplanes, "t1", "c", json::array({{{"op", "remove"}, {"path", "/x"}}})).isOk());
  ASSERT_TRUE(client.remove(kCrossplanes, "t1", "c", {"Foreground", "uid-1", "9"}).isOk());
  auto r = fake.requests();
  ASSERT_EQ(r.size(), 7u);
  const std::string base = "/apis/crossplane.services.open-control-plane.io/v1alpha1/namespaces/t1/crossplanes";
  EXPECT_EQ(r[0].method + " " + r[0].path, "GET " + base + "/c");
  EXPECT_EQ(r[1].method + " " + r[1].path, "POST " + base);
  EXPECT_EQ(json::parse(r[1].body)["metadata"]["namespace"], "t1");  // filled in from ns
  EXPECT_EQ(r[2].method + " " + r[2].path, "PUT " + base + "/c");
  EXPECT_EQ(json::parse(r[2].body)["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(r[3].method + " " + r[3].path, "PUT " + base + "/c/status");
  EXPECT_EQ(r[4].method + " " + r[4].contentType, "PATCH application/merge-patch+json");
  EXPECT_EQ(r[5].contentType, "application/json-patch+json");
  EXPECT_EQ(r[5].body, R"([{"op":"remove","path":"/x"}])");
  EXPECT_EQ(r[6].method + " " + r[6].path, "DELETE " + base + "/c");
  json del = json::parse(r[6].body);
  EXPECT_EQ(del["propagationPolicy"], "Foreground");
  EXPECT_EQ(del["preconditions"]["uid"], "uid-1");
  EXPECT_EQ(del["preconditions"]["resourceVersion"], "9");
}

TEST_F(ClientTest, ListFollowsContinueAndMergesPages) {
  fake.push(
      200,
      R"({"kind":"CrossplaneList","apiVersion":"x/v1","metadata":{"resourceVersion":"10","continue":"tok+1"},"items":[{"metadata":{"name":"a"}}]})");
  fake.push(
      200,
      R"({"kind":"CrossplaneList","apiVersion":"x/v1","metadata":{"resourceVersion":"10"},"items":[{"metadata":{"name":"b"}}]})");
  auto list = client.list(kCrossplanes, "", {"app=x,tier in (a,b)", "", 1});
  ASSERT_TRUE(list.isOk()) << list.status().toString();
  EXPECT_EQ((*list)["kind"], "CrossplaneList");
  EXPECT_EQ((*list)["metadata"]["resourceVersion"], "10");
  ASSERT_EQ((*list)["items"].size(), 2u);
  EXPECT_EQ((*list)["items"][1]["metadata"]["name"], "b");
  auto r = fake.requests();
  EXPECT_EQ(r[0].path,
            "/apis/crossplane.services.open-control-plane.io/v1alpha1/crossplanes"
            "?labelSelector=app%3Dx%2Ctier%20in%20%28a%2Cb%29&limit=1");
  EXPECT_NE(r[1].path.find("&continue=tok%2B1"), std::string::npos) << r[1].path;
}

TEST_F(ClientTest, ExpiredContinueTokenFallsBackToOneList) {
  fake.push(200, R"({"kind":"L","metadata":{"continue":"c1"},"items":[{"metadata":{"name":"a"}}]})");
  fake.push(410, status(410, "Expired", "The provided continue parameter is too old"));
  fake.push(
      200,
      R"({"kind":"L","metadata":{"resourceVersion":"20"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  auto list = client.list(kCrossplanes, "t1", {"", "", 1});
  ASSERT_TRUE(list.isOk()) << list.status().toString();
  EXPECT_EQ((*list)["items"].size(), 2u);
  EXPECT_EQ(fake.requests()[2].path.find("limit"), std::string::npos);
}

TEST_F(ClientTest, ErrorsMapToWhatTheCallerDoes) {
  struct Case {
    int http;
    std::string reason;
    std::string method;
    Code code;
  };
  std::vector<Case> cases = {
      {404, "NotFound", "GET", Code::kNotFound},         {409, "AlreadyExists", "POST", Code::kAlreadyExists},
      {409, "Conflict", "PUT", Code::kConflict},         {410, "Gone", "GET", Code::kGone},
      {422, "Invalid", "POST", Code::kInvalid},          {400, "BadRequest", "PATCH", Code::kInvalid},
      {401, "Unauthorized", "GET", Code::kUnauthorized}, {403, "Forbidden", "GET", Code::kUnauthorized}};
  for (const Case& c : cases) {
    HttpResponse response{c.http, status(c.http, c.reason, "msg"), {}};
    Status s = statusFromResponse(response, {c.method, "/api/v1/x?limit=1", "", ""}, "onboarding");
    EXPECT_EQ(s.code(), c.code) << c.http << " " << c.reason << ": " << s.toString();
    EXPECT_NE(s.message().find("cluster onboarding: " + c.method + " /api/v1/x: msg"), std::string::npos)
        << s.message();
  }
  Status unauthorized = statusFromResponse({401, "", {}}, {"GET", "/api", "", ""}, "p");
  EXPECT_NE(unauthorized.message().find("check the token"), std::string::npos) << unauthorized.message();
  Status forbidden = statusFromResponse({403, status(403, "Forbidden", "no"), {}}, {"GET", "/api", "", ""}, "p");
  EXPECT_NE(forbidden.message().find("RBAC"), std::string::npos) << forbidden.message();
  // kube-apiserver's answer to a create in a terminating namespace: the namespace is going
  // away, which is no reason to stop the operator as for missing permissions.
  json terminating = json::parse(status(403, "Forbidden",
                                        "events \"x.1\" is forbidden: unable to create new content in namespace t1 "
                                        "because it is being terminated"));
  terminating["details"] = {
      {"causes", {{{"reason", "NamespaceTerminating"}, {"message", "namespace t1 is terminating"}}}}};
  Status gone =
      statusFromResponse({403, terminating.dump(), {}}, {"POST", "/api/v1/namespaces/t1/events", "", ""}, "p");
  EXPECT_EQ(gone.code(), Code::kUnavailable) << gone.toString();
  EXPECT_NE(gone.message().find("not an RBAC problem"), std::string::npos) << gone.message();
}

TEST_F(ClientTest, InvalidMessageListsEveryCause) {
  json body = json::parse(
      status(422, "Invalid", "Crossplane \"c\" is invalid: [spec.version: Unsupported value, spec.x: Required value]"));
  body["details"] = {
      {"name", "c"},
      {"kind", "Crossplane"},
      {"causes",
       {{{"reason", "FieldValueNotSupported"}, {"message", "Unsupported value: \"9\""}, {"field", "spec.version"}},
        {{"reason", "FieldValueRequired"}, {"message", "Required value"}, {"field", "spec.x"}}}}};
  fake.push(422, body.dump());
  auto r = client.create(kCrossplanes, "t1", {{"metadata", {{"name", "c"}}}});
  ASSERT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_NE(r.status().message().find(
                "Crossplane \"c\" is invalid: spec.version: Unsupported value: \"9\"; spec.x: Required value"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(fake.requests().size(), 1u);  // never retried
}

TEST_F(ClientTest, RetriesUnavailableWithBackoffAndRetryAfter) {
  fake.push(429, status(429, "TooManyRequests", "slow down"), {{"retry-after", "3"}});
  fake.push(503, "service unavailable");
  fake.pushError(Status(Code::kUnavailable, "connection refused"));
  fake.push(200, R"({"metadata":{"name":"c"}})");
  auto r = client.get(kCrossplanes, "t1", "c");
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(sleeps, (std::vector<long>{1000, 200, 400}));  // Retry-After 3 s capped at maxBackoffMs
  EXPECT_EQ(fake.requests().size(), 4u);
}

TEST_F(ClientTest, GivesUpAfterMaxAttemptsAndNeverRetries4xx) {
  for (int i = 0; i < 4; ++i) fake.push(500, status(500, "InternalError", "etcd down"));
  auto r = client.get(kCrossplanes, "t1", "c");
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("etcd down"), std::string::npos);
  EXPECT_EQ(fake.requests().size(), 4u);
  fake.push(409, status(409, "Conflict", "the object has been modified"));
  EXPECT_EQ(client.update(kCrossplanes, "t1", {{"metadata", {{"name", "c"}}}}).status().code(), Code::kConflict);
  fake.push(404, status(404, "NotFound", "crossplanes \"c\" not found"));
  EXPECT_EQ(client.remove(kCrossplanes, "t1", "c").code(), Code::kNotFound);
  fake.push(408, "");
  EXPECT_EQ(client.get(kCrossplanes, "t1", "c").status().code(), Code::kUnavailable);  // caller may retry later
  EXPECT_EQ(fake.requests().size(), 7u);
  EXPECT_EQ(sleeps.size(), 3u);  // only the three 500s waited
}

TEST_F(ClientTest, UpdateWithoutNameIsRejectedLocally) {
  auto r = client.update(kCrossplanes, "t1", {{"spec", json::object()}});
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("metadata.name"), std::string::npos);
  EXPECT_TRUE(fake.requests().empty());
}

}  // namespace
}  // namespace spr::k8s
