// Protobuf request bodies (application/vnd.kubernetes.protobuf) over HTTPS: hand-encoded
// envelopes of ConfigMap, Secret, Namespace, ServiceAccount and DeleteOptions become the
// JSON objects a user reads back; malformed bodies get 400 and other kinds 415, never a crash.
#include <gtest/gtest.h>

#include "tests/sim/core_test_support.h"

namespace spr::sim {
namespace {

using nlohmann::json;
using testing::SimFixture;

// A minimal protobuf writer for the test bodies.
std::string varint(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<char>(v ? b | 0x80 : b));
  } while (v);
  return out;
}
std::string bytesField(uint32_t n, const std::string& v) { return varint(n << 3 | 2) + varint(v.size()) + v; }
std::string varintField(uint32_t n, uint64_t v) { return varint(n << 3) + varint(v); }
std::string mapEntry(uint32_t n, const std::string& k, const std::string& v) {
  return bytesField(n, bytesField(1, k) + bytesField(2, v));
}
std::string envelope(const std::string& apiVersion, const std::string& kind, const std::string& raw) {
  std::string typeMeta = bytesField(1, apiVersion) + bytesField(2, kind);
  return std::string("k8s\0", 4) + bytesField(1, typeMeta) + bytesField(2, raw) + bytesField(3, "") + bytesField(4, "");
}
// ObjectMeta with empty strings where Go's encoder writes them (generateName, namespace).
std::string objectMeta(const std::string& name) {
  return bytesField(1, name) + bytesField(2, "") + bytesField(3, "") + bytesField(8, "") + mapEntry(11, "app", "web") +
         mapEntry(12, "note", "hi") + bytesField(14, "example.com/keep");
}

constexpr const char* kProtobuf = "application/vnd.kubernetes.protobuf";

TEST(SimProtobuf, ConfigMapAndSecretDecodeToTheirJsonForm) {
  SimFixture sim;
  std::string cm = bytesField(1, objectMeta("pb")) + mapEntry(2, "a", "b") +
                   mapEntry(3, "bin", std::string("\0\1", 2)) + varintField(4, 1) + varintField(99, 7) +
                   varint(98 << 3 | 5) + std::string(4, 'x');  // unknown fields
  auto r = sim.call("onboarding", "POST", testing::kConfigMaps, envelope("v1", "ConfigMap", cm), kProtobuf);
  ASSERT_EQ(r.code, 201) << r.body.dump();
  auto got = sim.get("onboarding", std::string(testing::kConfigMaps) + "/pb");
  EXPECT_EQ(got.body["data"], json({{"a", "b"}}));
  EXPECT_EQ(got.body["binaryData"], json({{"bin", "AAE="}}));
  EXPECT_EQ(got.body["immutable"], true);
  EXPECT_EQ(got.body["metadata"]["labels"], json({{"app", "web"}}));
  EXPECT_EQ(got.body["metadata"]["annotations"], json({{"note", "hi"}}));
  EXPECT_EQ(got.body["metadata"]["finalizers"], json({"example.com/keep"}));
  EXPECT_FALSE(got.body["metadata"].contains("generateName"));

  std::string secret = bytesField(1, bytesField(1, "pb-secret")) + mapEntry(2, "k", "v") + bytesField(3, "Opaque") +
                       mapEntry(4, "plain", "text");
  r = sim.call("onboarding", "POST", "/api/v1/namespaces/default/secrets", envelope("v1", "Secret", secret), kProtobuf);
  ASSERT_EQ(r.code, 201) << r.body.dump();
  EXPECT_EQ(r.body["data"], json({{"k", "dg=="}, {"plain", "dGV4dA=="}}));  // stringData merged into data
  EXPECT_FALSE(r.body.contains("stringData"));
  EXPECT_EQ(r.body["type"], "Opaque");
}

TEST(SimProtobuf, NamespaceServiceAccountAndDeleteOptions) {
  SimFixture sim;
  std::string ns = bytesField(1, bytesField(1, "pb-ns")) + bytesField(2, bytesField(1, "kubernetes"));
  auto r = sim.call("onboarding", "POST", "/api/v1/namespaces", envelope("v1", "Namespace", ns), kProtobuf);
  ASSERT_EQ(r.code, 201) << r.body.dump();
  EXPECT_EQ(r.body["status"]["phase"], "Active");
  std::string sa = bytesField(1, bytesField(1, "robot")) + bytesField(3, bytesField(1, "pull")) + varintField(4, 0);
  r = sim.call("onboarding", "POST", "/api/v1/namespaces/pb-ns/serviceaccounts", envelope("v1", "ServiceAccount", sa),
               kProtobuf);
  ASSERT_EQ(r.code, 201) << r.body.dump();
  EXPECT_EQ(r.body["imagePullSecrets"], json::array({{{"name", "pull"}}}));
  EXPECT_EQ(r.body["automountServiceAccountToken"], false);
  // DeleteOptions with a uid precondition that does not match: 409, the object stays.
  std::string opts = bytesField(2, bytesField(1, "not-the-uid"));
  r = sim.call("onboarding", "DELETE", "/api/v1/namespaces/pb-ns/serviceaccounts/robot",
               envelope("meta.k8s.io/v1", "DeleteOptions", opts), kProtobuf);
  EXPECT_EQ(r.code, 409) << r.body.dump();
  EXPECT_EQ(sim.get("onboarding", "/api/v1/namespaces/pb-ns/serviceaccounts/robot").code, 200);
}

TEST(SimProtobuf, MalformedBodiesAre400AndOtherKinds415) {
  SimFixture sim;
  auto post = [&](const std::string& body) {
    return sim.call("onboarding", "POST", testing::kConfigMaps, body, kProtobuf);
  };
  std::string good = envelope("v1", "ConfigMap", bytesField(1, bytesField(1, "x")));
  auto r = post("not protobuf at all");
  EXPECT_EQ(r.code, 400);
  EXPECT_NE(r.body["message"].get<std::string>().find("must start with the 4 bytes"), std::string::npos);
  r = post(good.substr(0, good.size() - 3));  // truncated
  EXPECT_EQ(r.code, 400);
  EXPECT_NE(r.body["message"].get<std::string>().find("truncated or malformed"), std::string::npos) << r.body.dump();
  r = post(envelope("v1", "ConfigMap", bytesField(1, bytesField(1, "x")) + mapEntry(2, "k", "\xff\xfe")));
  EXPECT_EQ(r.code, 400);
  EXPECT_NE(r.body["message"].get<std::string>().find("data[k]: not valid UTF-8"), std::string::npos) << r.body.dump();
  r = post(envelope("v1", "ConfigMap", varintField(1, 5)));  // metadata as a varint
  EXPECT_EQ(r.code, 400);
  EXPECT_NE(r.body["message"].get<std::string>().find("metadata: protobuf wire type 0"), std::string::npos)
      << r.body.dump();
  r = sim.call("onboarding", "POST", "/apis/apps/v1/namespaces/default/deployments",
               envelope("apps/v1", "Deployment", bytesField(1, bytesField(1, "d"))), kProtobuf);
  EXPECT_EQ(r.code, 415);
  EXPECT_NE(r.body["message"].get<std::string>().find("protobuf Deployment (apps/v1)"), std::string::npos);
  EXPECT_NE(r.body["message"].get<std::string>().find("kubectl create -f deployment.yaml"), std::string::npos);
  EXPECT_EQ(post(good).code, 201);  // the server still serves after all that
}

}  // namespace
}  // namespace spr::sim
