// The ProviderConfig side of the Reconciler with a real journal: a CA bundle named by
// caBundleRef is resolved once spr's ConfigMaps are listed, and each change of it journals
// the config again with a new stamp (a new hash: every request re-reconciles); `ignore`
// holds the config in force, also across a restart; `reconcile` grows the stamp's epoch once.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/fold/fold_input.h"
#include "runtime/ca_bundle.h"
#include "tests/runtime/reconciler_loop.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
using testing::ReconcilerLoop;

class NoEffects : public EffectRunner {
 public:
  EffectOutput run(const EffectInput&) override { return {}; }
};

std::string tempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("spr-rc-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

json configWithRef(const std::string& operation = "") {
  json c = testing::thingConfig();
  c["spec"]["caBundleRef"] = {{"name", "corp-ca"}, {"key", "ca.crt"}};
  if (!operation.empty()) c["metadata"]["annotations"]["openmcp.cloud/operation"] = operation;
  return c;
}

json configMap(const std::string& pem) {
  return {{"metadata", {{"name", "corp-ca"}, {"namespace", "default"}}}, {"data", {{"ca.crt", pem}}}};
}

// The journaled ProviderConfig records, oldest first.
std::vector<json> configRecords(journal::Journal& j) {
  std::vector<json> out;
  EXPECT_TRUE(j.scan(1, [&](const journal::Record& r) {
                 if (const auto* o = std::get_if<journal::Observed>(&r.payload))
                   if (r.object.cluster == "platform") out.push_back(json::parse(o->objectJson));
                 return true;
               }).isOk());
  return out;
}

TEST(ReconcilerConfig, BundleChangesJournalTheConfigAgainWithANewHash) {
  const std::string dir = tempDir("bundle");
  NoEffects runner;
  ReconcilerLoop loop(dir, &runner);
  ASSERT_TRUE(loop.reconciler->observeConfigMap(journal::WatchType::kAdded, configMap("PEM-1")).isOk());
  ASSERT_TRUE(loop.reconciler->configMapsListed().isOk());
  ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configWithRef(), "5").isOk());
  // An unrelated ConfigMap changes nothing; the bundle's own change and its removal do.
  json other = configMap("x");
  other["metadata"]["name"] = "other";
  ASSERT_TRUE(loop.reconciler->observeConfigMap(journal::WatchType::kAdded, other).isOk());
  ASSERT_TRUE(loop.reconciler->observeConfigMap(journal::WatchType::kModified, configMap("PEM-2")).isOk());
  ASSERT_TRUE(loop.reconciler->observeConfigMap(journal::WatchType::kDeleted, configMap("PEM-2")).isOk());
  auto records = configRecords(*loop.journal);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(caStampOf(records[0]), "sha256:" + sha256Hex("PEM-1"));
  EXPECT_EQ(caStampOf(records[1]), "sha256:" + sha256Hex("PEM-2"));
  EXPECT_EQ(caStampOf(records[2]), "missing");
  EXPECT_EQ(records[0]["metadata"]["annotations"][kStampCaNamespace], "default");
  std::set<std::string> hashes;
  for (const auto& r : records) hashes.insert(fold::configSeenOf(journal::WatchType::kModified, r).configHash);
  EXPECT_EQ(hashes.size(), 3u);
  std::filesystem::remove_all(dir);
}

TEST(ReconcilerConfig, IgnoreHoldsTheConfigAcrossARestartAndReconcileCountsOnce) {
  const std::string dir = tempDir("ignore");
  NoEffects runner;
  {
    ReconcilerLoop loop(dir, &runner);
    ASSERT_TRUE(loop.reconciler->restore().isOk());
    ASSERT_TRUE(loop.reconciler->observeConfigMap(journal::WatchType::kAdded, configMap("PEM-1")).isOk());
    ASSERT_TRUE(loop.reconciler->configMapsListed().isOk());
    ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kAdded, configWithRef(), "5").isOk());
    ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kModified, configWithRef("ignore"), "6").isOk());
    ASSERT_TRUE(loop.reconciler->observeConfigMap(journal::WatchType::kModified, configMap("PEM-2")).isOk());
    EXPECT_EQ(configRecords(*loop.journal).size(), 1u) << "ignored: neither the config nor its bundle acted on";
  }
  {
    ReconcilerLoop loop(dir, &runner);  // a restart: the ignore still holds
    ASSERT_TRUE(loop.reconciler->restore().isOk());
    ASSERT_TRUE(loop.reconciler->observeConfigMap(journal::WatchType::kAdded, configMap("PEM-3")).isOk());
    ASSERT_TRUE(loop.reconciler->configMapsListed().isOk());
    EXPECT_EQ(configRecords(*loop.journal).size(), 1u);
    // `reconcile` (which also ends the ignore): the epoch grows once, not again for the
    // event after the annotation's removal.
    ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kModified, configWithRef("reconcile"), "7").isOk());
    ASSERT_TRUE(loop.reconciler->observeConfig(journal::WatchType::kModified, configWithRef(), "8").isOk());
    auto records = configRecords(*loop.journal);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(reconcileEpochOf(records[1]), 1u);
    EXPECT_EQ(reconcileEpochOf(records[2]), 1u);
    EXPECT_EQ(caStampOf(records[2]), "sha256:" + sha256Hex("PEM-3"));
    EXPECT_EQ(fold::configSeenOf(journal::WatchType::kModified, records[1]).configHash,
              fold::configSeenOf(journal::WatchType::kModified, records[2]).configHash);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace spr::runtime
