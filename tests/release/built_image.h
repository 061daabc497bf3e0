// Test helper: builds spr's image once per test process with scripts/image.sh (into a
// fresh temporary directory, from the spr binary under test) and reads the layout's JSON
// documents. Not thread-safe: call from the test thread only.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/support/paths.h"
#include "tests/support/run_command.h"

namespace spr::testing {

inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Single-quotes `s` for /bin/sh.
inline std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A fresh directory under $TMPDIR; the caller removes it.
inline std::filesystem::path freshDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + ".XXXXXX")).string();
  const char* made = ::mkdtemp(pattern.data());
  return made ? std::filesystem::path(made) : std::filesystem::path();
}

struct BuiltImage {
  std::filesystem::path out;  // --out: holds oci/ (the layout) and ocm/ (component archive)
  std::string scriptOutput;   // what image.sh printed
  int status = -1;            // image.sh's wait status
  std::filesystem::path layout() const { return out / "oci"; }
  std::filesystem::path ocm() const { return out / "ocm"; }
  std::filesystem::path blob(const std::string& digest) const {  // "sha256:<hex>"
    return layout() / "blobs" / "sha256" / digest.substr(digest.find(':') + 1);
  }
  nlohmann::json json(const std::filesystem::path& path) const {
    return nlohmann::json::parse(readFile(path), nullptr, /*allow_exceptions=*/false);
  }
  nlohmann::json index() const { return json(layout() / "index.json"); }
  nlohmann::json manifest() const { return json(blob(index()["manifests"][0].value("digest", ""))); }
  nlohmann::json config() const { return json(blob(manifest()["config"].value("digest", ""))); }
  std::string manifestDigest() const { return index()["manifests"][0].value("digest", ""); }
};

// Runs scripts/image.sh into a new directory (the descriptor copy goes there too, so the
// source tree is not touched).
inline BuiltImage buildImage(const std::string& prefix) {
  BuiltImage image;
  image.out = freshDir(prefix);
  std::string command = "bash " + shellQuote(sourceDir() + "/scripts/image.sh") + " --binary " +
                        shellQuote(sprBinary()) + " --out " + shellQuote(image.out.string()) + " --ocm-out " +
                        shellQuote((image.out / "component-descriptor.yaml").string());
  image.scriptOutput = runCommand(command, &image.status);
  return image;
}

// The image every test in this process shares (built on first use).
inline const BuiltImage& sharedImage() {
  struct Owned {
    BuiltImage image = buildImage("spr-release-test");
    ~Owned() {
      std::error_code ec;
      std::filesystem::remove_all(image.out, ec);
    }
  };
  static const Owned owned;
  return owned.image;
}

// sha256 of a file as sha256sum prints it (hex), or "" if it cannot be read.
inline std::string sha256Hex(const std::filesystem::path& path) {
  int status = 0;
  std::string out = runCommand("sha256sum " + shellQuote(path.string()), &status);
  return status == 0 ? out.substr(0, 64) : "";
}

}  // namespace spr::testing
