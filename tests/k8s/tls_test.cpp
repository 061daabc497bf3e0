// The curl Transport over real TLS: a local httplib::SSLServer that requires a client
// certificate, with a CA and certificates made by the openssl CLI for this run. Checks CA
// and client certificate as data (blobs) and as files, insecure-skip-tls-verify, and that an
// untrusted server or a missing client certificate fails with kUnavailable, never a hang.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "adapters/k8s/curl_transport.h"

namespace spr::k8s {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/spr-k8s-tlsXXXXXX";
    dir_ = mkdtemp(tmpl);
    const std::string d = dir_;
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::ofstream(d + "/san.ext") << "subjectAltName=IP:127.0.0.1\n";
    std::string script =
        "cd " + d + " && openssl req -x509 " + ec + " -keyout ca.key -out ca.crt -subj /CN=spr-test-ca -days 1" +
        " && openssl req " + ec + " -keyout server.key -out server.csr -subj /CN=127.0.0.1" +
        " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 "
        "-extfile san.ext" +
        " && openssl req " + ec + " -keyout client.key -out client.csr -subj /CN=spr-client" +
        " && openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 1";
    ready_ = std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0;
  }
  static void TearDownTestSuite() { std::system(("rm -rf " + dir_).c_str()); }

  void SetUp() override {
    ASSERT_TRUE(ready_) << "openssl could not create the test certificates in " << dir_;
    const std::string d = dir_;
    server_ = std::make_unique<httplib::SSLServer>((d + "/server.crt").c_str(), (d + "/server.key").c_str(),
                                                   (d + "/ca.crt").c_str());
    server_->Get("/api", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"kind":"APIVersions"})", "application/json");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    if (!server_) return;
    server_->stop();
    thread_.join();
  }

  ClusterConfig base() const {
    ClusterConfig c;
    c.name = "tls";
    c.server = "https://127.0.0.1:" + std::to_string(port_);
    return c;
  }
  Result<HttpResponse> get(const ClusterConfig& config) {
    auto transport = makeCurlTransport(config, CurlOptions{2000, 3000});
    if (!transport.isOk()) return transport.status();
    return (*transport)->roundTrip({"GET", "/api", "", ""});
  }

  static std::string dir_;
  static bool ready_;
  std::unique_ptr<httplib::SSLServer> server_;
  int port_ = 0;
  std::thread thread_;
};

std::string Tls::dir_;
bool Tls::ready_ = false;

TEST_F(Tls, CaAndClientCertificateAsData) {
  ClusterConfig c = base();
  c.caData = slurp(dir_ + "/ca.crt");
  c.clientCertData = slurp(dir_ + "/client.crt");
  c.clientKeyData = slurp(dir_ + "/client.key");
  auto r = get(c);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"kind":"APIVersions"})");
}

TEST_F(Tls, CaAndClientCertificateAsFiles) {
  ClusterConfig c = base();
  c.caFile = dir_ + "/ca.crt";
  c.clientCertFile = dir_ + "/client.crt";
  c.clientKeyFile = dir_ + "/client.key";
  auto r = get(c);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 200);
}

TEST_F(Tls, InsecureSkipVerifyTrustsAnyServer) {
  ClusterConfig c = base();
  c.insecureSkipTlsVerify = true;
  c.clientCertData = slurp(dir_ + "/client.crt");
  c.clientKeyData = slurp(dir_ + "/client.key");
  auto r = get(c);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 200);
}

TEST_F(Tls, UntrustedServerFailsWithAHint) {
  ClusterConfig c = base();
  c.clientCertData = slurp(dir_ + "/client.crt");
  c.clientKeyData = slurp(dir_ + "/client.key");
  c.caData = slurp(dir_ + "/client.crt");  // a certificate, but not the server's CA
  auto r = get(c);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("certificate-authority"), std::string::npos) << r.status().message();
}

TEST_F(Tls, MissingClientCertificateIsRefused) {
  ClusterConfig c = base();
  c.caData = slurp(dir_ + "/ca.crt");
  auto r = get(c);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace spr::k8s
