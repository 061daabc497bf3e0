// The OCM component descriptor scripts/image.sh writes (and its committed copy in
// deploy/ocm/): valid against OCM's published v2 JSON schema (vendored in
// tests/fixtures/release/), referencing the image by its manifest digest and every CRD in
// deploy/crds/ as a blob of the component archive.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "tests/providers/yaml_json.h"
#include "tests/release/built_image.h"

namespace spr::testing {
namespace {

namespace fs = std::filesystem;

const char* kPython = "/usr/bin/python3";  // Debian's, where python3-jsonschema is installed

std::string ocmSchema() { return fixturesDir() + "/release/ocm-component-descriptor-v2-schema.yaml"; }

// Runs the schema check; returns its output, `status` its exit code.
std::string validate(const std::string& schema, const std::string& document, int* status) {
  if (!fs::exists(kPython)) {
    *status = -1;
    return "no /usr/bin/python3: run scripts/setup.sh (python3-jsonschema)";
  }
  std::string out =
      runCommand(std::string(kPython) + " " + shellQuote(sourceDir() + "/tests/release/validate_json_schema.py") + " " +
                     shellQuote(schema) + " " + shellQuote(document),
                 status);
  *status = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  return out;
}

nlohmann::json loadYaml(const fs::path& path) { return yamlToJson(YAML::LoadFile(path.string())); }

TEST(OcmDescriptorTest, GeneratedAndCommittedDescriptorsAreValidAgainstOcmSchema) {
  const BuiltImage& image = sharedImage();
  ASSERT_EQ(image.status, 0) << image.scriptOutput;
  int status = 0;
  std::string out = validate(ocmSchema(), (image.ocm() / "component-descriptor.yaml").string(), &status);
  EXPECT_EQ(status, 0) << out;
  out = validate(ocmSchema(), sourceDir() + "/deploy/ocm/component-descriptor.yaml", &status);
  EXPECT_EQ(status, 0) << out;
}

TEST(OcmDescriptorTest, SchemaCheckRejectsABrokenDescriptor) {
  const BuiltImage& image = sharedImage();
  ASSERT_EQ(image.status, 0) << image.scriptOutput;
  // Edited as text: re-emitting through yaml-cpp would unquote creationTime, which YAML
  // then reads as a timestamp, not the string the schema asks for.
  std::string text = readFile(image.ocm() / "component-descriptor.yaml");
  auto replace = [&text](const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  };
  replace("  name: github.com/openmcp-project/spr\n", "  name: Not A Component Name\n");
  replace("  provider: openmcp-project\n", "");
  replace("      relation: local\n", "      relation: somewhere\n");
  fs::path broken = image.out / "broken-descriptor.yaml";
  std::ofstream(broken) << text;
  int status = 0;
  std::string out = validate(ocmSchema(), broken.string(), &status);
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("component.name"), std::string::npos) << out;
  EXPECT_NE(out.find("'provider' is a required property"), std::string::npos) << out;
  // A bad resource fails the resources' oneOf (array or null) as a whole.
  EXPECT_NE(out.find("component.resources: "), std::string::npos) << out;
  EXPECT_EQ(out.find("creationTime"), std::string::npos) << out;
}

TEST(OcmDescriptorTest, ReferencesTheImageByDigestAndEveryCrd) {
  const BuiltImage& image = sharedImage();
  ASSERT_EQ(image.status, 0) << image.scriptOutput;
  nlohmann::json component = loadYaml(image.ocm() / "component-descriptor.yaml")["component"];
  const std::string digest = image.manifestDigest();
  std::set<std::string> crdFiles, crdBlobs;
  for (const auto& entry : fs::directory_iterator(sourceDir() + "/deploy/crds"))
    crdFiles.insert(sha256Hex(entry.path()));
  bool imageSeen = false;
  for (const auto& r : component["resources"]) {
    const nlohmann::json& access = r["access"];
    if (r.value("type", "") == "ociImage") {
      imageSeen = true;
      std::string ref = access.value("imageReference", "");
      EXPECT_EQ(ref.substr(ref.find('@') + 1), digest) << ref;
      EXPECT_EQ("sha256:" + r["digest"].value("value", ""), digest);
    } else {
      ASSERT_EQ(access.value("type", ""), "localBlob") << r.dump();
      fs::path blob = image.ocm() / "blobs" / access.value("localReference", "");
      EXPECT_EQ(sha256Hex(blob), r["digest"].value("value", "")) << blob;
      crdBlobs.insert(sha256Hex(blob));
    }
  }
  EXPECT_TRUE(imageSeen) << component.dump(2);
  EXPECT_EQ(crdBlobs, crdFiles) << "one resource per CRD in deploy/crds/, with that file's content";
}

}  // namespace
}  // namespace spr::testing
