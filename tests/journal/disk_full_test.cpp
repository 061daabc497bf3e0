// A full disk, for real: journal_crash_writer appends on a small tmpfs (the tests run as
// root; skipped otherwise) until the journal refuses. It must end cleanly every time (never
// SIGABRT), also when RocksDB itself meets the full disk (reserve=none), and once the tmpfs
// grows the same journal takes appends again with every acknowledged record and the chain intact.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <sstream>

#include "core/journal/journal.h"
#include "test_util.h"

namespace spr::journal {
namespace {

class DiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(mnt());
    auto r = testing::run({"/bin/mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt()}, tmp_.path());
    if (r.exitCode != 0) GTEST_SKIP() << "cannot mount a tmpfs (not root?): " << r.err;
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) (void)testing::run({"/bin/umount", mnt()}, tmp_.path());
  }
  std::string mnt() const { return tmp_.sub("mnt"); }
  std::string dir() const { return mnt() + "/journal"; }
  // Runs the writer to its end; returns its exit status and what it acknowledged last.
  testing::RunResult write(const std::string& batches, const std::string& extra = "") {
    std::vector<std::string> argv = {SPR_CRASH_WRITER, dir(), "5", batches};
    if (!extra.empty()) argv.push_back(extra);
    return testing::run(argv, tmp_.path());
  }
  static uint64_t lastAcked(const std::string& out) {
    std::istringstream lines(out);
    uint64_t first = 0, last = 0;
    for (std::string w; lines >> w;) {
      if (w == "ok") lines >> first >> last;
    }
    return last;
  }
  testing::TempDir tmp_;
  bool mounted_ = false;
};

TEST_F(DiskFull, RefusesCleanlyNeverAbortsAndResumesWhenTheDiskGrows) {
  uint64_t acked = 0;
  for (const char* reserve : {"", "reserve=none", "reserve=none", "", "reserve=1", "reserve=none"}) {
    auto r = write("1000000", reserve);
    EXPECT_EQ(r.exitCode, 3) << "[" << reserve << "] the writer did not stop cleanly (134 = SIGABRT): " << r.err;
    EXPECT_TRUE(r.err.find("free") != std::string::npos || r.err.find("No space") != std::string::npos) << r.err;
    acked = std::max(acked, lastAcked(r.out));
  }
  EXPECT_GT(acked, 0u);
  ASSERT_EQ(testing::run({"/bin/mount", "-o", "remount,size=64m", mnt()}, tmp_.path()).exitCode, 0);
  auto r = write("5");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_GT(lastAcked(r.out), acked);
  auto j = Journal::openForReading(dir());
  ASSERT_TRUE(j.isOk()) << j.status().toString();
  VerifyReport v = (*j)->verify();
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_GE((*j)->nextSeq() - 1, lastAcked(r.out));
}

TEST_F(DiskFull, RefusalIsNotPoisoning) {
  Options o;
  auto j = Journal::open(dir(), o).value();
  // Distinct, incompressible objects: the journal stores a repeated body once.
  uint64_t lcg = 42;
  auto bigRecord = [&lcg] {
    Record big = testing::observed("acme", "acme", "big");
    std::string text(256 * 1024, ' ');
    for (char& c : text) c = static_cast<char>('a' + ((lcg = lcg * 6364136223846793005ULL + 1) >> 59));
    std::get<Observed>(big.payload).objectJson = std::move(text);
    return big;
  };
  Status refused;
  for (int i = 0; i < 64 && refused.isOk(); ++i) refused = j->append(bigRecord(), Sync::kSync).status();
  ASSERT_FALSE(refused.isOk()) << "a 4 MiB disk took 16 MiB";
  EXPECT_EQ(refused.code(), Code::kUnavailable) << refused.toString();
  EXPECT_NE(refused.message().find(dir()), std::string::npos) << refused.message();
  EXPECT_FALSE(j->poisoned());
  EXPECT_TRUE(j->space().refusing);
  EXPECT_GE(j->space().refusedAppends, 1u);
  ASSERT_EQ(testing::run({"/bin/mount", "-o", "remount,size=64m", mnt()}, tmp_.path()).exitCode, 0);
  EXPECT_TRUE(j->append(testing::observed("acme", "acme", "after"), Sync::kSync).isOk());
  EXPECT_FALSE(j->space().refusing);
  EXPECT_TRUE(j->verify().ok);
}

}  // namespace
}  // namespace spr::journal
