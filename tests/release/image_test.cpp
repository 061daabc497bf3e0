// The OCI image scripts/image.sh builds: a consistent, labelled layout; the same digest
// from the same binary; and, as root, `spr --version` and `spr demo` running inside the
// image's own root filesystem (chroot, as the image's user, in a network namespace with
// only loopback), which proves the image holds everything spr needs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/release/built_image.h"

namespace spr::testing {
namespace {

namespace fs = std::filesystem;

TEST(ImageTest, LayoutBlobsMatchTheirDigestsAndSizes) {
  const BuiltImage& image = sharedImage();
  ASSERT_EQ(image.status, 0) << image.scriptOutput;
  EXPECT_EQ(readFile(image.layout() / "oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
  nlohmann::json index = image.index();
  ASSERT_EQ(index.value("schemaVersion", 0), 2) << index.dump();
  ASSERT_EQ(index["manifests"].size(), 1u);
  nlohmann::json manifest = image.manifest();
  ASSERT_EQ(manifest.value("mediaType", ""), "application/vnd.oci.image.manifest.v1+json");
  nlohmann::json descriptors = manifest["layers"];
  descriptors.push_back(manifest["config"]);
  descriptors.push_back(index["manifests"][0]);
  for (const auto& d : descriptors) {
    const std::string digest = d.value("digest", "");
    fs::path blob = image.blob(digest);
    ASSERT_TRUE(fs::exists(blob)) << digest << " is referenced but not in blobs/sha256";
    EXPECT_EQ("sha256:" + sha256Hex(blob), digest) << blob;
    EXPECT_EQ(fs::file_size(blob), d.value("size", uint64_t{0})) << digest;
  }
  // The config's diff_id is the digest of the uncompressed layer.
  int status = 0;
  std::string layer = image.blob(manifest["layers"][0].value("digest", "")).string();
  std::string diffId = runCommand("gzip -dc " + shellQuote(layer) + " | sha256sum", &status).substr(0, 64);
  EXPECT_EQ(image.config()["rootfs"]["diff_ids"][0], "sha256:" + diffId);
}

TEST(ImageTest, ConfigRunsSprAsNonRootWithReleaseLabels) {
  const BuiltImage& image = sharedImage();
  ASSERT_EQ(image.status, 0) << image.scriptOutput;
  nlohmann::json config = image.config()["config"];
  EXPECT_EQ(config.value("User", ""), "65532:65532");
  EXPECT_EQ(config["Entrypoint"], nlohmann::json::array({"/usr/local/bin/spr"}));
  int status = 0;
  std::string head = runCommand("git -C " + shellQuote(sourceDir()) + " rev-parse HEAD", &status);
  ASSERT_EQ(status, 0) << head;
  std::string version = runCommand(shellQuote(sprBinary()) + " --version", &status);  // "spr 0.1.0\n"
  nlohmann::json labels = config["Labels"];
  EXPECT_EQ(labels.value("org.opencontainers.image.revision", ""), head.substr(0, 40));
  EXPECT_EQ("spr " + labels.value("org.opencontainers.image.version", "") + "\n", version);
  EXPECT_NE(labels.value("org.opencontainers.image.source", ""), "");
  EXPECT_EQ(image.manifest()["annotations"], labels) << "manifest annotations repeat the labels";
}

TEST(ImageTest, SameBinaryGivesTheSameDigest) {
  const BuiltImage& first = sharedImage();
  BuiltImage second = buildImage("spr-release-test-again");
  EXPECT_EQ(first.status, 0) << first.scriptOutput;
  EXPECT_EQ(second.status, 0) << second.scriptOutput;
  EXPECT_EQ(first.manifestDigest(), second.manifestDigest());
  EXPECT_EQ(readFile(first.ocm() / "component-descriptor.yaml"), readFile(second.ocm() / "component-descriptor.yaml"));
  std::error_code ec;
  fs::remove_all(second.out, ec);
}

// An independent OCI implementation (Debian's umoci: verifies every digest while it
// unpacks) reads the layout and makes the runtime bundle a container engine would run.
TEST(ImageTest, UmociUnpacksTheLayoutIntoARuntimeBundle) {
  const BuiltImage& image = sharedImage();
  ASSERT_EQ(image.status, 0) << image.scriptOutput;
  fs::path bundle = freshDir("spr-umoci") / "bundle";
  int status = 0;
  const std::string tag = image.index()["manifests"][0]["annotations"].value("org.opencontainers.image.ref.name", "");
  std::string out = runCommand("umoci unpack --rootless --image " + shellQuote(image.layout().string() + ":" + tag) +
                                   " " + shellQuote(bundle.string()),
                               &status);
  ASSERT_EQ(status, 0) << out << "(umoci comes with scripts/setup.sh)";
  nlohmann::json runtime = nlohmann::json::parse(readFile(bundle / "config.json"), nullptr, false);
  EXPECT_EQ(runtime["process"]["user"].value("uid", -1), 65532) << runtime["process"].dump();
  EXPECT_EQ(runtime["process"]["args"], nlohmann::json::array({"/usr/local/bin/spr"}));
  EXPECT_TRUE(fs::exists(bundle / "rootfs" / "usr" / "local" / "bin" / "spr"));
  std::error_code ec;
  fs::remove_all(bundle.parent_path(), ec);
}

// The image's root filesystem, unpacked (as root: owners and modes as in the layer).
class RootFilesystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chroot, network namespace); run the test as root";
    const BuiltImage& image = sharedImage();
    ASSERT_EQ(image.status, 0) << image.scriptOutput;
    root_ = freshDir("spr-image-rootfs");
    ASSERT_FALSE(root_.empty());
    // mkdtemp makes 0700; the image's "/" is 0755, so user 65532 can reach /usr/local/bin.
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    const nlohmann::json manifest = image.manifest();  // named: the loop must not outlive it
    for (const auto& layer : manifest["layers"]) {
      int status = 0;
      std::string out = runCommand("tar -xzpf " + shellQuote(image.blob(layer.value("digest", "")).string()) +
                                       " --numeric-owner -C " + shellQuote(root_.string()),
                                   &status);
      ASSERT_EQ(status, 0) << out;
    }
  }
  void TearDown() override {
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }

  // Runs the image's entrypoint with `args` the way a container runtime would: the
  // config's User, Env and WorkingDir, chrooted into the root filesystem, in a new network
  // namespace whose only interface is loopback.
  std::string runInImage(const std::string& args, int* status) {
    nlohmann::json config = sharedImage().config()["config"];
    std::string env = "env -i";
    for (const auto& e : config["Env"]) env += " " + shellQuote(e.get<std::string>());
    std::string inner = env + " /usr/sbin/chroot --userspec=" + config.value("User", "") + " " +
                        shellQuote(root_.string()) + " " + config["Entrypoint"][0].get<std::string>() + " " + args;
    return runCommand("cd / && unshare --net --fork sh -c " + shellQuote("ip link set lo up && exec " + inner), status);
  }

  fs::path root_;
};

TEST_F(RootFilesystemTest, SprVersionAndDemoRunInsideTheImage) {
  int status = 0;
  std::string version = runInImage("--version", &status);
  ASSERT_EQ(status, 0) << version;
  EXPECT_EQ(version, runCommand(shellQuote(sprBinary()) + " --version", &status));
  std::string demo = runInImage("demo", &status);
  EXPECT_EQ(status, 0) << demo;
  EXPECT_NE(demo.find("all steps passed"), std::string::npos) << demo;
  // The demo wrote its journal inside the image's /tmp, as user 65532.
  bool journalInImage = false;
  for (const auto& entry : fs::directory_iterator(root_ / "tmp"))
    journalInImage |= entry.path().filename().string().rfind("spr-demo-", 0) == 0;
  EXPECT_TRUE(journalInImage) << "no spr-demo-* journal under the image's /tmp";
  EXPECT_FALSE(fs::exists(root_ / "bin" / "sh")) << "the image holds spr and its libraries, no shell";
}

// The chroot sees only the image: without one of its libraries spr cannot start, so the
// test above passing means the image holds them all.
TEST_F(RootFilesystemTest, ALibraryMissingFromTheImageStopsSpr) {
  fs::path libcurl;
  for (const auto& dir : fs::directory_iterator(root_ / "usr" / "lib"))
    if (fs::exists(dir.path() / "libcurl.so.4")) libcurl = dir.path() / "libcurl.so.4";
  ASSERT_FALSE(libcurl.empty()) << "the image has no libcurl.so.4";
  fs::remove(libcurl);
  int status = 0;
  std::string out = runInImage("--version", &status);
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find("libcurl.so.4"), std::string::npos) << out;
}

}  // namespace
}  // namespace spr::testing
