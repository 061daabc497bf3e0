#include <gtest/gtest.h>

#include "adapters/k8s/encoding.h"
#include "adapters/k8s/openmcp.h"
#include "adapters/k8s/redact.h"

namespace spr::k8s {
namespace {

using nlohmann::json;

TEST(OpenMcp, NamespaceMatchesOpenMcpTestVector) {
  EXPECT_EQ(mcpNamespace("project-acme--ws-dev", "mcp-1"), "mcp--d5327100-d228-8cd9-be48-61ec3c9314a7");
  EXPECT_EQ(openmcpUuid("project-acme--ws-dev", "mcp-1"), "d5327100-d228-8cd9-be48-61ec3c9314a7");
}

TEST(OpenMcp, UuidIsVersion8AndDiffersPerObject) {
  std::string a = openmcpUuid("ns", "a"), b = openmcpUuid("ns", "b");
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '8');                                          // version nibble
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);  // variant 10xx
  EXPECT_NE(a, b);
}

TEST(Redact, DigestIsStableAndHidesTheValue) {
  std::string d = redactedDigest("hunter2");
  EXPECT_EQ(d, redactedDigest("hunter2"));
  EXPECT_NE(d, redactedDigest("hunter3"));
  EXPECT_EQ(d.rfind("<redacted sha256:", 0), 0u);
  EXPECT_EQ(d.size(), std::string("<redacted sha256:>").size() + 12);
  EXPECT_EQ(d.find("hunter2"), std::string::npos);
}

TEST(Redact, SecretDataNeverSurvives) {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", "s"},
                   {"annotations",
                    {{"kubectl.kubernetes.io/last-applied-configuration", R"({"data":{"password":"c2VjcmV0"}})"}}}}},
                 {"data", {{"password", base64Encode("secret-value")}}},
                 {"stringData", {{"kubeconfig", "plain-secret"}}}};
  std::string out = redactObject(secret).dump();
  EXPECT_EQ(out.find(base64Encode("secret-value")), std::string::npos) << out;
  EXPECT_EQ(out.find("plain-secret"), std::string::npos) << out;
  EXPECT_EQ(out.find("c2VjcmV0"), std::string::npos) << out;
  EXPECT_NE(out.find("\"name\":\"s\""), std::string::npos) << out;  // metadata is kept
  // The same through a SecretList (items carry no kind) and a watch event, as text.
  json list = {{"kind", "SecretList"}, {"apiVersion", "v1"}, {"items", {secret}}};
  list["items"][0].erase("kind");
  std::string text = redactText(list.dump());
  EXPECT_EQ(text.find(base64Encode("secret-value")), std::string::npos) << text;
  std::string stream = json{{"type", "ADDED"}, {"object", secret}}.dump() + "\n" +
                       json{{"type", "MODIFIED"}, {"object", secret}}.dump() + "\n";
  std::string redactedStream = redactText(stream);
  EXPECT_EQ(redactedStream.find("plain-secret"), std::string::npos) << redactedStream;
  EXPECT_NE(redactedStream.find("MODIFIED"), std::string::npos);
}

TEST(Redact, KubeconfigCredentialsNeverSurvive) {
  const std::string kubeconfig =
      "apiVersion: v1\nclusters:\n- name: c\n  cluster:\n    server: https://h:6443\n"
      "    certificate-authority-data: Q0EtREFUQQ==\nusers:\n- name: u\n  user:\n    token: tok-abc123\n"
      "    client-certificate-data: Q0VSVC1EQVRB\n    client-key-data: S0VZLURBVEE=\n";
  std::string out = redactText(kubeconfig);
  for (const char* secret : {"tok-abc123", "Q0VSVC1EQVRB", "S0VZLURBVEE="})
    EXPECT_EQ(out.find(secret), std::string::npos) << secret << " in " << out;
  EXPECT_NE(out.find("https://h:6443"), std::string::npos) << out;
  EXPECT_NE(out.find("Q0EtREFUQQ=="), std::string::npos);  // a CA is public
  // A kubeconfig in JSON form, and one embedded in a string field of an object.
  json asJson = {{"users", {{{"name", "u"}, {"user", {{"token", "tok-abc123"}, {"client-key-data", "S0VZ"}}}}}}};
  std::string jsonOut = redactObject(asJson).dump();
  EXPECT_EQ(jsonOut.find("tok-abc123"), std::string::npos) << jsonOut;
  EXPECT_EQ(jsonOut.find("S0VZ\""), std::string::npos) << jsonOut;
  json embedded = {{"kind", "ConfigMap"}, {"data", {{"kubeconfig", kubeconfig}}}};
  EXPECT_EQ(redactObject(embedded).dump().find("tok-abc123"), std::string::npos);
}

TEST(Redact, AuthorizationHeaderNeverSurvives) {
  std::string out = redactText("GET /api/v1/pods\nAuthorization: Bearer x\nAccept: application/json\n");
  EXPECT_EQ(out.find("Bearer x\n"), std::string::npos) << out;
  EXPECT_NE(out.find("<redacted sha256:"), std::string::npos) << out;
  EXPECT_NE(out.find("Accept: application/json"), std::string::npos);
  EXPECT_EQ(redactText("Authorization: Bearer eyJhbGciOi.abc.def").find("eyJhbGciOi"), std::string::npos);
}

TEST(Redact, OrdinaryObjectsAreUnchanged) {
  json pod = {{"kind", "Pod"}, {"metadata", {{"name", "p"}}}, {"spec", {{"containers", json::array()}}}};
  EXPECT_EQ(redactObject(pod), pod);
  EXPECT_EQ(redactText("plain text"), "plain text");
}

// A CRD whose schema declares `kind` as a property holds an object under "kind"; redacting
// it (the runtime redacts every tape body) must neither throw nor change it.
TEST(Redact, CrdSchemaWithObjectValuedKindIsLeftAlone) {
  json crd = {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", "things.example.io"}}},
      {"spec",
       {{"versions",
         json::array(
             {{{"name", "v1"},
               {"schema",
                {{"openAPIV3Schema",
                  {{"type", "object"},
                   {"properties", {{"kind", {{"type", "string"}}}, {"apiVersion", {{"type", "string"}}}}}}}}}}})}}}};
  EXPECT_EQ(redactObject(crd), crd);
  EXPECT_EQ(json::parse(redactText(crd.dump())), crd);
}

}  // namespace
}  // namespace spr::k8s
