// The API stability policy and ownership documents openMCP's quality criteria ask for:
// docs/API.md states the maturity of every CRD spr serves, at the version it serves, and
// MAINTAINERS.md / CONTRIBUTING.md say who owns the code and how to build, test, add a
// provider and report a bug.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/paths.h"

namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ApiPolicy, NamesEveryServedCrdWithItsVersionAndMaturity) {
  const std::string api = readFile(fs::path(spr::testing::sourceDir()) / "docs" / "API.md");
  ASSERT_FALSE(api.empty()) << "docs/API.md is missing";
  int crds = 0;
  for (const auto& e : fs::directory_iterator(fs::path(spr::testing::sourceDir()) / "deploy" / "crds")) {
    YAML::Node crd = YAML::LoadFile(e.path().string());
    const std::string name = crd["metadata"]["name"].as<std::string>();
    ++crds;
    size_t row = api.find("`" + name + "`");
    ASSERT_NE(row, std::string::npos) << "docs/API.md does not state the maturity of " << name;
    const std::string line = api.substr(row, api.find('\n', row) - row);
    for (const auto& v : crd["spec"]["versions"]) {
      if (!v["served"].as<bool>()) continue;
      EXPECT_NE(line.find("`" + v["name"].as<std::string>() + "`"), std::string::npos)
          << name << " serves " << v["name"].as<std::string>() << " but docs/API.md says: " << line;
    }
    EXPECT_TRUE(line.find("alpha") != std::string::npos || line.find("beta") != std::string::npos ||
                line.find("stable") != std::string::npos)
        << line;
  }
  EXPECT_GE(crds, 4);
  EXPECT_NE(api.find("Journals across releases"), std::string::npos);
}

TEST(Ownership, MaintainersAndContributingSayWhoAndHow) {
  const fs::path src = spr::testing::sourceDir();
  EXPECT_NE(readFile(src / "MAINTAINERS.md").find("| area |"), std::string::npos);
  const std::string contributing = readFile(src / "CONTRIBUTING.md");
  for (const char* section :
       {"## Build and test", "## Add a provider", "## Report a bug", "## What a change must include"})
    EXPECT_NE(contributing.find(section), std::string::npos) << "CONTRIBUTING.md lacks " << section;
}

}  // namespace
