// deploy/openmcp/serviceprovider.yaml against openmcp-operator's ServiceProvider CRD
// (vendored in tests/fixtures/release/), checked the way kube-apiserver checks a custom
// object (the local API server's validator), strictly: no field the CRD does not know.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "sim/schema.h"
#include "tests/providers/yaml_json.h"
#include "tests/support/paths.h"

namespace spr::testing {
namespace {

nlohmann::json loadYaml(const std::string& path) { return yamlToJson(YAML::LoadFile(path)); }

nlohmann::json manifest() { return loadYaml(sourceDir() + "/deploy/openmcp/serviceprovider.yaml"); }

// The CRD's served v1alpha1 schema; fails the test if the fixture is not what it should be.
nlohmann::json serviceProviderSchema() {
  nlohmann::json crd = loadYaml(fixturesDir() + "/release/openmcp.cloud_serviceproviders.yaml");
  EXPECT_EQ(crd["spec"].value("group", ""), "openmcp.cloud");
  EXPECT_EQ(crd["spec"]["names"].value("kind", ""), "ServiceProvider");
  for (const auto& v : crd["spec"]["versions"])
    if (v.value("name", "") == "v1alpha1" && v.value("served", false)) return v["schema"]["openAPIV3Schema"];
  ADD_FAILURE() << "the vendored CRD serves no v1alpha1";
  return nullptr;
}

// Every complaint about `object`: field causes and fields the CRD does not know.
std::vector<std::string> complaints(nlohmann::json object) {
  sim::ValidationResult result = sim::validateCustomObject(object, serviceProviderSchema());
  std::vector<std::string> out;
  for (const auto& c : result.causes) out.push_back(c.reason + " " + c.field + ": " + c.message);
  for (const auto& f : result.unknownFields) out.push_back("unknown field " + f);
  return out;
}

TEST(ServiceProviderManifestTest, MatchesOpenmcpOperatorCrd) {
  nlohmann::json sp = manifest();
  EXPECT_EQ(sp.value("apiVersion", ""), "openmcp.cloud/v1alpha1");
  EXPECT_EQ(sp.value("kind", ""), "ServiceProvider");
  EXPECT_EQ(complaints(sp), std::vector<std::string>{});
}

TEST(ServiceProviderManifestTest, RunsTheCrossplaneProviderWithItsJournalOnThePvc) {
  nlohmann::json sp = manifest();
  nlohmann::json spec = sp["spec"];
  // openmcp-operator passes --provider-name=<metadata.name>: spr must know it.
  EXPECT_EQ(sp["metadata"].value("name", ""), "crossplane");
  EXPECT_NE(spec.value("image", ""), "");
  EXPECT_EQ(spec.value("runReplicas", 0), 1) << "the journal has one writer";
  ASSERT_EQ(spec["extraVolumeMounts"].size(), 1u);
  nlohmann::json mount = spec["extraVolumeMounts"][0];
  EXPECT_EQ(mount.value("mountPath", ""), "/var/lib/spr/journal") << "spr run's journal without --journal";
  nlohmann::json pvc = loadYaml(sourceDir() + "/deploy/openmcp/journal-pvc.yaml");
  EXPECT_EQ(pvc.value("kind", ""), "PersistentVolumeClaim");
  bool mounted = false;
  for (const auto& v : spec["extraVolumes"])
    mounted |= v.value("name", "") == mount.value("name", "") &&
               v["persistentVolumeClaim"].value("claimName", "") == pvc["metadata"].value("name", "");
  EXPECT_TRUE(mounted) << "the journal mount's volume is journal-pvc.yaml's claim";
}

TEST(ServiceProviderManifestTest, CrdCheckRejectsWhatTheOperatorWouldRefuse) {
  nlohmann::json sp = manifest();
  sp["spec"]["runReplicas"] = 0;
  sp["spec"]["verbosity"] = "LOUD";
  sp["spec"]["replicas"] = 2;
  sp["spec"]["extraVolumes"][0]["persistentVolumeClaim"].erase("claimName");
  std::vector<std::string> found = complaints(sp);
  std::string all;
  for (const auto& f : found) all += f + "\n";
  EXPECT_NE(all.find("spec.runReplicas"), std::string::npos) << all;
  EXPECT_NE(all.find("FieldValueNotSupported spec.verbosity"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown field spec.replicas"), std::string::npos) << all;
  EXPECT_NE(all.find("spec.extraVolumes[0].persistentVolumeClaim.claimName"), std::string::npos) << all;
}

}  // namespace
}  // namespace spr::testing
