// The libcurl Transport against a local HTTP server: URL with the server's path prefix,
// headers (Accept, Content-Type, Authorization from a token or a re-read token file),
// bodies per method, lower-case response headers, config validation, connection errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "adapters/k8s/client.h"
#include "adapters/k8s/curl_transport.h"
#include "tests/k8s/test_api_server.h"

namespace spr::k8s {
namespace {

using nlohmann::json;
using testing::TestApiServer;

TEST(CurlTransport, KeepsThePathPrefixAndSendsHeadersAndBodies) {
  TestApiServer server;
  server.setEcho(201, {{"Retry-After", "7"}, {"X-Kubernetes-Pf-Flowschema-Uid", "abc"}});
  ClusterConfig config;
  config.name = "onboarding";
  config.server = server.url() + "/echo/clusters/onboarding/";
  config.bearerToken = "tok-1";
  auto transport = makeCurlTransport(config);
  ASSERT_TRUE(transport.isOk()) << transport.status().toString();
  EXPECT_EQ((*transport)->clusterName(), "onboarding");
  auto r = (*transport)
               ->roundTrip({"PATCH", "/api/v1/namespaces/a/pods/p?fieldManager=spr", R"({"x":1})",
                            "application/merge-patch+json"});
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->headers["retry-after"], "7");
  EXPECT_EQ(r->headers["x-kubernetes-pf-flowschema-uid"], "abc");
  EXPECT_EQ(r->headers["content-type"], "application/json");
  json echo = json::parse(r->body);
  EXPECT_EQ(echo["method"], "PATCH");
  EXPECT_EQ(echo["path"], "/echo/clusters/onboarding/api/v1/namespaces/a/pods/p");
  EXPECT_EQ(echo["params"]["fieldManager"], "spr");
  EXPECT_EQ(echo["body"], R"({"x":1})");
  EXPECT_EQ(echo["headers"]["Authorization"], "Bearer tok-1");
  EXPECT_EQ(echo["headers"]["Content-Type"], "application/merge-patch+json");
  EXPECT_EQ(echo["headers"]["Accept"], "application/json");
  // Default content type, and a DELETE with a body; the pooled handle is reused.
  server.setEcho(200, {});
  auto del = (*transport)->roundTrip({"DELETE", "/x", R"({"kind":"DeleteOptions"})", ""});
  ASSERT_TRUE(del.isOk());
  json delEcho = json::parse(del->body);
  EXPECT_EQ(delEcho["method"], "DELETE");
  EXPECT_EQ(delEcho["body"], R"({"kind":"DeleteOptions"})");
  EXPECT_EQ(delEcho["headers"]["Content-Type"], "application/json");
  EXPECT_FALSE(del->headers.count("retry-after"));  // headers are per response
}

TEST(CurlTransport, TokenFileIsReReadWhenItChanges) {
  TestApiServer server;
  char path[] = "/tmp/spr-k8s-tokenXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "first-token\n";
  ClusterConfig config;
  config.name = "in-cluster";
  config.server = server.url();
  config.tokenFile = path;
  auto transport = makeCurlTransport(config);
  ASSERT_TRUE(transport.isOk()) << transport.status().toString();
  auto first = (*transport)->roundTrip({"GET", "/echo/a", "", ""});
  ASSERT_TRUE(first.isOk());
  EXPECT_EQ(json::parse(first->body)["headers"]["Authorization"], "Bearer first-token");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a new mtime
  std::ofstream(path) << "rotated-token\n";
  auto second = (*transport)->roundTrip({"GET", "/echo/b", "", ""});
  ASSERT_TRUE(second.isOk());
  EXPECT_EQ(json::parse(second->body)["headers"]["Authorization"], "Bearer rotated-token");
  std::remove(path);
}

TEST(CurlTransport, RejectsUnusableConfigNamingTheField) {
  ClusterConfig noServer;
  noServer.name = "x";
  auto a = makeCurlTransport(noServer);
  EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
  EXPECT_NE(a.status().message().find("server"), std::string::npos);
  ClusterConfig badCa;
  badCa.name = "x";
  badCa.server = "https://h:1";
  badCa.caFile = "/nonexistent/ca.crt";
  auto b = makeCurlTransport(badCa);
  EXPECT_EQ(b.status().code(), Code::kInvalidArgument);
  EXPECT_NE(b.status().message().find("certificate-authority file /nonexistent/ca.crt"), std::string::npos)
      << b.status().message();
}

TEST(CurlTransport, ConnectionFailureIsUnavailableAndClientRetries) {
  ClusterConfig down;
  down.name = "down";
  down.server = "http://127.0.0.1:1";
  auto transport = makeCurlTransport(down);
  ASSERT_TRUE(transport.isOk());
  auto r = (*transport)->roundTrip({"GET", "/api", "", ""});
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("cluster down"), std::string::npos);
  int sleeps = 0;
  Client client(**transport, RetryPolicy{3, 1, 1, [&sleeps](long) { ++sleeps; }});
  EXPECT_EQ(client.get({"", "v1", "pods", true}, "a", "p").status().code(), Code::kUnavailable);
  EXPECT_EQ(sleeps, 2);
}

TEST(CurlTransport, TlsWithCaDataFailsClearlyAgainstAPlainServer) {
  TestApiServer server;  // speaks plain http: the TLS handshake must fail, not hang
  ClusterConfig tls;
  tls.name = "tls";
  tls.server = "https://127.0.0.1:" + server.url().substr(server.url().rfind(':') + 1);
  tls.caData = "-----BEGIN CERTIFICATE-----\nnot a real certificate\n-----END CERTIFICATE-----\n";
  auto transport = makeCurlTransport(tls);
  ASSERT_TRUE(transport.isOk());
  auto r = (*transport)->roundTrip({"GET", "/api", "", ""});
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("cluster tls"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace spr::k8s
