// End-to-end: the Operator against the in-process local API server, with the real
// crossplane provider. What a user would see: Ready conditions, messages, finalizers,
// services on the MCP, effects in the journal.
#include "runtime/operator.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <openssl/pem.h>

#include <cstdio>
#include <fstream>

#include "common/tls.h"
#include "core/journal/journal.h"
#include "tests/runtime/e2e_env.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
using testing::E2E;
using testing::eventually;
namespace lc = lifecycle;

std::string testName() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

using testing::startOperator;

TEST(OperatorE2E, RequestsBecomeReadyWithFinalizerStatusAndOneCreateEach) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env);
  for (int i = 0; i < 3; ++i) env.createRequest("project-a--ws-" + std::to_string(i), "mcp-" + std::to_string(i));
  for (int i = 0; i < 3; ++i) {
    std::string ns = "project-a--ws-" + std::to_string(i), name = "mcp-" + std::to_string(i);
    ASSERT_TRUE(eventually([&] { return env.isReady(ns, name); })) << env.get(ns, name).dump();
    json obj = env.get(ns, name);
    EXPECT_NE(obj["metadata"]["finalizers"].dump().find("services.openmcp.cloud/spr"), std::string::npos);
    EXPECT_FALSE(E2E::readyCondition(obj).value("lastTransitionTime", "").empty());
  }
  EXPECT_EQ(op->effectsRun(lc::Op::kCreate), 3u);
  int ready = 0;
  for (const auto& v : op->objects()) ready += v.ready;
  EXPECT_EQ(ready, 3);
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, MissingConfigIsReportedAndAddingItResumes) {
  E2E env(testName());
  auto op = startOperator(env);
  env.createRequest("project-b--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] {
    return E2E::readyCondition(env.get("project-b--ws-1", "mcp-1")).value("reason", "") == "ProviderConfigNotFound";
  })) << env.get("project-b--ws-1", "mcp-1").dump();
  json c = E2E::readyCondition(env.get("project-b--ws-1", "mcp-1"));
  EXPECT_EQ(c.value("status", ""), "False");
  EXPECT_NE(c.value("message", "").find("ProviderConfig \"crossplane\""), std::string::npos) << c.dump();
  EXPECT_EQ(op->effectsRun(lc::Op::kCreate), 0u);
  env.createConfig();
  ASSERT_TRUE(eventually([&] { return env.isReady("project-b--ws-1", "mcp-1"); }))
      << env.get("project-b--ws-1", "mcp-1").dump();
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, DisallowedVersionGetsReadyFalseWithMessageAndNothingDeployed) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env);
  env.createRequest("project-c--ws-1", "mcp-1", "9.9.9");
  ASSERT_TRUE(eventually([&] {
    json c = E2E::readyCondition(env.get("project-c--ws-1", "mcp-1"));
    return c.value("status", "") == "False" && c.value("message", "").find("v2.0.8") != std::string::npos;
  })) << env.get("project-c--ws-1", "mcp-1").dump();
  EXPECT_EQ(op->effectsRun(lc::Op::kCreate), 0u);
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, SpecChangeRunsUpdateAndDeleteRemovesFinalizerAndObject) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env);
  env.createRequest("project-d--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-d--ws-1", "mcp-1"); }));
  json obj = env.get("project-d--ws-1", "mcp-1");
  obj["spec"]["version"] = "1.20.5";
  ASSERT_TRUE(env.onboarding->update(env.api, "project-d--ws-1", obj).isOk());
  ASSERT_TRUE(eventually([&] {
    json o = env.get("project-d--ws-1", "mcp-1");
    return o["metadata"].value("generation", 0) == 2 && env.isReady("project-d--ws-1", "mcp-1");
  })) << env.get("project-d--ws-1", "mcp-1").dump();
  EXPECT_GE(op->effectsRun(lc::Op::kUpdate), 1u);
  EXPECT_EQ(op->effectsRun(lc::Op::kCreate), 1u);
  ASSERT_TRUE(env.onboarding->remove(env.api, "project-d--ws-1", "mcp-1").isOk());
  ASSERT_TRUE(eventually([&] { return env.get("project-d--ws-1", "mcp-1").is_null(); }))
      << env.get("project-d--ws-1", "mcp-1").dump();
  EXPECT_GE(op->effectsRun(lc::Op::kDelete), 1u);
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, ConvergesWithTenPercentApiFaultsAndConcurrentWriters) {
  E2E env(testName());
  env.createConfig();
  sim::FaultOptions faults;
  faults.errorRate = 0.1;
  faults.watchDropRate = 0.1;
  faults.expireResourceVersions = true;
  env.simServer->setFaults(faults);
  auto op = startOperator(env);
  const int n = 8;
  for (int i = 0; i < n; ++i) env.createRequest("project-f--ws-" + std::to_string(i), "mcp-" + std::to_string(i));
  // A second writer labels the objects while spr writes status: 409s on the status write.
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < n; ++i) {
      json o = env.get("project-f--ws-" + std::to_string(i), "mcp-" + std::to_string(i));
      if (!o.is_object()) continue;
      o["metadata"]["labels"]["touched"] = std::to_string(round);
      (void)env.onboarding->update(env.api, o["metadata"].value("namespace", ""), o);
    }
  for (int i = 0; i < n; ++i) {
    std::string ns = "project-f--ws-" + std::to_string(i), name = "mcp-" + std::to_string(i);
    ASSERT_TRUE(eventually([&] { return env.isReady(ns, name); }, 120)) << env.get(ns, name).dump();
  }
  env.simServer->setFaults(sim::FaultOptions{});
  EXPECT_EQ(op->effectsRun(lc::Op::kCreate), static_cast<uint64_t>(n));
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, IgnoreAnnotationSkipsAndReconcileAnnotationIsCleared) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env);
  env.createRequest("project-g--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-g--ws-1", "mcp-1"); }));
  json obj = env.get("project-g--ws-1", "mcp-1");
  obj["metadata"]["annotations"]["openmcp.cloud/operation"] = "reconcile";
  ASSERT_TRUE(env.onboarding->update(env.api, "project-g--ws-1", obj).isOk());
  ASSERT_TRUE(eventually([&] {
    json o = env.get("project-g--ws-1", "mcp-1");
    return !o["metadata"].value("annotations", json::object()).contains("openmcp.cloud/operation");
  })) << env.get("project-g--ws-1", "mcp-1").dump();
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

TEST(OperatorE2E, MetricsAndHealthEndpoints) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env, [](OperatorOptions& o) {
    o.metricsBindAddress = "127.0.0.1:0";
    o.healthProbeBindAddress = "127.0.0.1:0";
  });
  env.createRequest("project-h--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-h--ws-1", "mcp-1"); }));
  httplib::Client health("127.0.0.1", op->healthPort());
  auto healthz = health.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  ASSERT_TRUE(eventually([&] {
    auto r = health.Get("/readyz");
    return r && r->status == 200;
  }));
  httplib::Client metrics("127.0.0.1", op->metricsPort());
  auto m = metrics.Get("/metrics");
  ASSERT_TRUE(m);
  for (const char* name :
       {"controller_runtime_reconcile_total", "controller_runtime_reconcile_time_seconds_bucket", "workqueue_depth",
        "workqueue_adds_total", "spr_journal_records_total", "spr_journal_fsync_seconds_bucket",
        "spr_effects_total{op=\"Create\",outcome=\"Succeeded\"} 1", "spr_journal_memory_bytes{part=\"memtables\"}",
        "spr_journal_memory_bytes{part=\"block_cache\"}", "spr_journal_known_bodies "})
    EXPECT_NE(m->body.find(name), std::string::npos) << name;
  // The resident size, as the Prometheus process collector names it: this test process's.
  const std::string rss = "\nprocess_resident_memory_bytes ";
  size_t at = m->body.find(rss);
  ASSERT_NE(at, std::string::npos);
  double bytes = std::stod(m->body.substr(at + rss.size()));
  EXPECT_GT(bytes, 1e6);
  EXPECT_LT(bytes, 64e9);
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
}

// --metrics-secure: HTTPS only; self-signed without files, else the given certificate.
TEST(OperatorE2E, SecureMetricsAreServedOverHttpsOnly) {
  E2E env(testName());
  env.createConfig();
  // A CA and a server certificate it signed, as files (what --metrics-cert-path holds).
  tls::KeyPtr caKey = tls::newKey(), key = tls::newKey();
  tls::CertPtr ca = tls::newCert("test-ca", caKey.get(), nullptr, caKey.get(), 1, tls::CertKind::kCa);
  tls::CertPtr cert = tls::newCert("127.0.0.1", key.get(), ca.get(), caKey.get(), 2, tls::CertKind::kServer);
  ASSERT_TRUE(ca && cert);
  std::ofstream(env.dir + "/ca.crt") << tls::pem(ca.get());
  std::ofstream(env.dir + "/tls.crt") << tls::pem(cert.get());
  FILE* keyFile = std::fopen((env.dir + "/tls.key").c_str(), "w");
  ASSERT_NE(keyFile, nullptr);
  ASSERT_EQ(PEM_write_PrivateKey(keyFile, key.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  std::fclose(keyFile);

  auto withFiles = startOperator(env, [&](OperatorOptions& o) {
    o.metricsBindAddress = "127.0.0.1:0";
    o.metricsSecure = true;
    o.metricsCertFile = env.dir + "/tls.crt";
    o.metricsKeyFile = env.dir + "/tls.key";
  });
  ASSERT_NE(withFiles, nullptr);
  httplib::SSLClient verified("127.0.0.1", withFiles->metricsPort());
  verified.set_ca_cert_path((env.dir + "/ca.crt").c_str());
  verified.enable_server_certificate_verification(true);
  // The platform cluster's admin token (system:masters): authenticated and allowed.
  verified.set_bearer_token_auth(env.platformConfig.bearerToken);
  auto m = verified.Get("/metrics");
  ASSERT_TRUE(m) << "HTTPS with the given certificate: " << httplib::to_string(m.error());
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("controller_runtime_reconcile_total"), std::string::npos);
  httplib::Client plain("127.0.0.1", withFiles->metricsPort());
  auto p = plain.Get("/metrics");
  EXPECT_FALSE(p && p->status == 200) << "plain HTTP must not be served";
  withFiles->requestStop();
  EXPECT_TRUE(withFiles->wait().isOk());
  withFiles.reset();

  auto selfSigned = startOperator(
      env,
      [](OperatorOptions& o) {
        o.metricsBindAddress = "127.0.0.1:0";
        o.metricsSecure = true;
      },
      "journal-2");
  ASSERT_NE(selfSigned, nullptr);
  httplib::SSLClient unverified("127.0.0.1", selfSigned->metricsPort());
  unverified.enable_server_certificate_verification(false);
  unverified.set_bearer_token_auth(env.platformConfig.bearerToken);
  auto s = unverified.Get("/metrics");
  ASSERT_TRUE(s) << httplib::to_string(s.error());
  EXPECT_EQ(s->status, 200);
  selfSigned->requestStop();
  EXPECT_TRUE(selfSigned->wait().isOk());
}

TEST(OperatorE2E, SecureMetricsWithAMissingKeyFileNamesIt) {
  E2E env(testName());
  OperatorOptions o;
  o.providerName = "crossplane";
  o.journalDir = env.dir + "/journal";
  o.onboarding = env.onboardingConfig;
  o.platform = env.platformConfig;
  o.metricsBindAddress = "127.0.0.1:0";
  o.metricsSecure = true;
  o.metricsCertFile = env.dir + "/certs/tls.crt";
  o.metricsKeyFile = env.dir + "/certs/tls.key";
  auto op = Operator::create(std::move(o), providers::makeProvider("crossplane"));
  ASSERT_TRUE(op.isOk()) << op.status().toString();
  Status started = (*op)->start();
  ASSERT_FALSE(started.isOk());
  EXPECT_NE(started.message().find(env.dir + "/certs/tls.crt"), std::string::npos) << started.toString();
  EXPECT_NE(started.message().find("--metrics-cert-path"), std::string::npos) << started.toString();
}

TEST(OperatorE2E, JournalHoldsNoTokensFromAccessSecrets) {
  E2E env(testName());
  env.createConfig();
  auto op = startOperator(env);
  env.createRequest("project-i--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-i--ws-1", "mcp-1"); }));
  op->requestStop();
  ASSERT_TRUE(op->wait().isOk());
  op.reset();
  // The kubeconfig Secrets the sim's cluster provider wrote for spr's AccessRequests.
  std::vector<std::string> secrets;
  auto list = env.platform->list({"", "v1", "secrets", true}, k8s::mcpNamespace("project-i--ws-1", "mcp-1"));
  ASSERT_TRUE(list.isOk()) << list.status().toString();
  for (const auto& s : (*list)["items"]) {
    const json data = s.value("data", json::object());  // items() must not outlive it
    for (const auto& [k, v] : data.items())
      if (v.is_string() && v.get<std::string>().size() > 16) secrets.push_back(v.get<std::string>());
  }
  ASSERT_FALSE(secrets.empty());
  journal::Options ro;
  ro.readOnly = true;
  auto j = journal::Journal::open(env.dir + "/journal", ro);
  ASSERT_TRUE(j.isOk()) << j.status().toString();
  bool sawSecretRead = false, leaked = false;
  ASSERT_TRUE((*j)->scan(1,
                         [&](const journal::Record& r) {
                           std::string text;
                           if (auto* c = std::get_if<journal::EffectCompleted>(&r.payload))
                             for (const auto& t : c->tape) {
                               sawSecretRead |= t.path.find("/secrets/") != std::string::npos;
                               text += t.requestBody + t.responseBody;
                             }
                           if (auto* o = std::get_if<journal::Observed>(&r.payload)) text += o->objectJson;
                           for (const auto& secret : secrets) leaked |= text.find(secret) != std::string::npos;
                           return true;
                         })
                  .isOk());
  EXPECT_TRUE(sawSecretRead) << "the MCP access Secret read should be on the tape (redacted)";
  EXPECT_FALSE(leaked);
}

}  // namespace
}  // namespace spr::runtime

namespace spr::runtime {
namespace {

// The crossplane provider, except that its first Observe throws (a provider bug).
class ThrowsOnceProvider : public providers::Provider {
 public:
  explicit ThrowsOnceProvider(std::unique_ptr<providers::Provider> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return inner_->name(); }
  providers::ProviderKinds kinds() const override { return inner_->kinds(); }
  std::vector<json> apiCrds() const override { return inner_->apiCrds(); }
  std::vector<json> configCrds() const override { return inner_->configCrds(); }
  providers::ObserveResult observe(const json& o, providers::ReconcileScope& s) override {
    if (!thrown_.exchange(true)) throw std::runtime_error("index out of range in the provider");
    return inner_->observe(o, s);
  }
  providers::OpResult create(const json& o, providers::ReconcileScope& s) override { return inner_->create(o, s); }
  providers::OpResult update(const json& o, providers::ReconcileScope& s) override { return inner_->update(o, s); }
  providers::OpResult remove(const json& o, providers::ReconcileScope& s) override { return inner_->remove(o, s); }

 private:
  std::unique_ptr<providers::Provider> inner_;
  std::atomic<bool> thrown_{false};
};

TEST(OperatorE2E, ProviderThatThrowsIsATransientErrorAndTheOperatorCarriesOn) {
  E2E env(testName());
  env.createConfig();
  OperatorOptions o;
  o.providerName = "crossplane";
  o.journalDir = env.dir + "/journal";
  o.onboarding = env.onboardingConfig;
  o.platform = env.platformConfig;
  o.workers = 2;
  o.delayScale = 0.05;
  auto made = Operator::create(o, std::make_unique<ThrowsOnceProvider>(providers::makeProvider("crossplane")));
  ASSERT_TRUE(made.isOk()) << made.status().toString();
  auto op = std::move(*made);
  ASSERT_TRUE(op->start().isOk());
  env.createRequest("project-t--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-t--ws-1", "mcp-1"); }))
      << env.get("project-t--ws-1", "mcp-1").dump();
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
  auto j = journal::Journal::openForReading(env.dir + "/journal");
  ASSERT_TRUE(j.isOk()) << j.status().toString();
  bool sawThrow = false;
  ASSERT_TRUE((*j)->scan(1,
                         [&](const journal::Record& r) {
                           const auto* c = std::get_if<journal::EffectCompleted>(&r.payload);
                           if (c && c->errorClass == "ProviderException") {
                             sawThrow = true;
                             EXPECT_EQ(c->outcome, journal::Outcome::kTransientError);
                             EXPECT_NE(c->message.find("index out of range in the provider"), std::string::npos);
                           }
                           return true;
                         })
                  .isOk());
  EXPECT_TRUE(sawThrow);
}

}  // namespace
}  // namespace spr::runtime
