// Damaged journals, made with real files (a truncated MANIFEST, a lost CURRENT, a lost
// table file): every open, `spr run` and every journal command refuses with one error
// naming the damage and `spr journal repair`, and leaves every file byte-identical.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "core/journal/journal.h"
#include "test_util.h"

namespace spr::journal {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Every file of `dir` by name, with its bytes.
std::map<std::string, std::string> snapshotFiles(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    files[e.path().filename().string()] = testing::slurp(e.path().string());
  return files;
}

// The first file of `dir` whose name starts with `prefix` and ends with `suffix`.
std::string only(const std::string& dir, const std::string& prefix, const std::string& suffix = "") {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0 && n.size() >= suffix.size() &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return e.path().string();
    }
  }
  return "";
}

class Damage : public ::testing::Test {
 protected:
  void SetUp() override {
    auto j = Journal::open(dir()).value();
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(j->append(testing::observed("acme", "acme", "obj" + std::to_string(i % 7)), Sync::kNone).isOk());
      if (i % 50 == 49) {
        ASSERT_TRUE(j->compactStorage().isOk());  // table files, several MANIFEST edits
      }
    }
    std::ofstream(tmp_.sub("kubeconfig"))
        << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: "
           "{server: \"http://127.0.0.1:9\"}\nusers:\n- name: u\n  user: {token: x}\n"
           "contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n";
  }
  std::string dir() const { return tmp_.sub("journal"); }

  // Everything that opens a journal refuses `dir()` naming `damage`, changing no byte.
  void expectRefusedUntouched(const std::string& damage) {
    const auto before = snapshotFiles(dir());
    for (bool readOnly : {false, true}) {
      auto j = readOnly ? Journal::openForReading(dir()) : Journal::open(dir());
      ASSERT_FALSE(j.isOk()) << "opened a damaged journal";
      EXPECT_EQ(j.status().code(), Code::kCorruption) << j.status().toString();
      EXPECT_NE(j.status().message().find("damaged: " + damage), std::string::npos) << j.status().message();
      EXPECT_NE(j.status().message().find("spr journal repair --journal " + dir()), std::string::npos);
    }
    const std::string kc = tmp_.sub("kubeconfig");
    auto run = testing::run({testing::sprBinary(), "run", "--provider-name", "crossplane", "--journal", dir(),
                             "--onboarding-kubeconfig", kc, "--platform-kubeconfig", kc},
                            tmp_.path());
    EXPECT_NE(run.exitCode, 0);
    EXPECT_NE(run.err.find("damaged: " + damage), std::string::npos) << run.err;
    for (const char* sub : {"verify", "stats"}) {
      auto r = testing::run({testing::sprBinary(), "journal", sub, "--journal", dir()}, tmp_.path());
      EXPECT_NE(r.exitCode, 0) << sub;
      EXPECT_NE((r.out + r.err).find("damaged: " + damage), std::string::npos) << r.out << r.err;
    }
    EXPECT_TRUE(snapshotFiles(dir()) == before) << "a file of the damaged journal changed";
  }

  TempDir tmp_;
};

TEST_F(Damage, TruncatedManifestIsRefusedAndNoFileChanges) {
  const std::string manifest = only(dir(), "MANIFEST-");
  const auto size = fs::file_size(manifest);
  ASSERT_GT(size, 500u);
  fs::resize_file(manifest, 500);
  expectRefusedUntouched("");
}

TEST_F(Damage, EveryTruncationOfTheManifestIsRefused) {
  const std::string manifest = only(dir(), "MANIFEST-");
  const std::string whole = testing::slurp(manifest);
  for (size_t cut = 0; cut + 40 < whole.size(); cut += 97) {
    std::ofstream(manifest, std::ios::binary | std::ios::trunc) << whole.substr(0, cut);
    auto j = Journal::open(dir());
    EXPECT_FALSE(j.isOk()) << "a MANIFEST cut at " << cut << " of " << whole.size() << " bytes opened";
  }
  std::ofstream(manifest, std::ios::binary | std::ios::trunc) << whole;
  EXPECT_TRUE(Journal::open(dir()).isOk()) << "the journal itself was changed";
}

TEST_F(Damage, MissingCurrentSaysSo) {
  fs::remove(dir() + "/CURRENT");
  expectRefusedUntouched("it has data files");
}

TEST_F(Damage, MissingTableFileIsRefused) {
  ASSERT_FALSE(only(dir(), "0", ".sst").empty());
  fs::remove(only(dir(), "0", ".sst"));
  const auto before = snapshotFiles(dir());
  auto j = Journal::open(dir());
  ASSERT_FALSE(j.isOk());
  EXPECT_NE(j.status().message().find("damaged"), std::string::npos) << j.status().message();
  EXPECT_TRUE(snapshotFiles(dir()) == before);
}

}  // namespace
}  // namespace spr::journal
