// The operator on a full disk, for real: its journal on an 8 MB tmpfs (the tests run as
// root; skipped otherwise) that a filler file fills to below the journal's reserve. It stops
// acting without aborting, /readyz names the journal and its free bytes, /healthz passes,
// the refusal is counted; once the filler is gone it exits, and a restart resumes.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/statvfs.h>

#include <filesystem>
#include <fstream>

#include "core/journal/journal.h"
#include "runtime/operator.h"
#include "tests/runtime/e2e_env.h"
#include "tests/support/run_command.h"

namespace spr::runtime {
namespace {

using testing::E2E;
using testing::eventually;
using testing::startOperator;

// Mounts a tmpfs at `path` for the scope; mounted() is false when that is not allowed.
class Tmpfs {
 public:
  explicit Tmpfs(const std::string& path) : path_(path) {
    std::filesystem::create_directories(path);
    int status = 0;
    (void)spr::testing::runCommand("mount -t tmpfs -o size=8m tmpfs '" + path + "' 2>&1", &status);
    mounted_ = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  ~Tmpfs() {
    int status = 0;
    if (mounted_) (void)spr::testing::runCommand("umount '" + path_ + "' 2>&1", &status);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

uint64_t freeBytes(const std::string& path) {
  struct statvfs sv {};
  return ::statvfs(path.c_str(), &sv) == 0 ? static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize : 0;
}

TEST(DiskFullE2E, StopsNotReadyNamingTheJournalAndResumesAfterARestart) {
  E2E env("diskfull");
  Tmpfs small(env.dir + "/small");
  if (!small.mounted()) GTEST_SKIP() << "cannot mount a tmpfs (not root?)";
  env.createConfig();
  auto probes = [](OperatorOptions& o) {
    o.metricsBindAddress = "127.0.0.1:0";
    o.healthProbeBindAddress = "127.0.0.1:0";
  };
  auto op = startOperator(env, probes, "small/journal");
  ASSERT_TRUE(op);
  env.createRequest("project-d--ws-1", "mcp-1");
  ASSERT_TRUE(eventually([&] { return env.isReady("project-d--ws-1", "mcp-1"); }));
  const std::string journal = env.dir + "/small/journal", filler = env.dir + "/small/filler";
  const uint64_t reserve = 1 << 20;  // an eighth of the 8 MB tmpfs
  std::ofstream(filler) << std::string(freeBytes(journal) - reserve + (64 << 10), 'f');
  env.createRequest("project-d--ws-2", "mcp-2");  // its watch event is refused
  httplib::Client health("127.0.0.1", op->healthPort());
  std::string why;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = health.Get("/readyz");
        why = r ? r->body : "";
        return r && r->status == 500 && why.find("bytes free") != std::string::npos;
      },
      60))
      << why;
  EXPECT_NE(why.find(journal), std::string::npos) << why;
  auto healthz = health.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200) << "waiting for disk space is not dead";
  httplib::Client metrics("127.0.0.1", op->metricsPort());
  auto m = metrics.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("spr_journal_free_bytes "), std::string::npos);
  EXPECT_EQ(m->body.find("spr_journal_appends_refused_total 0"), std::string::npos) << "no refusal counted";
  std::filesystem::remove(filler);
  Status stopped = op->wait();  // returns once the space is back
  EXPECT_EQ(stopped.code(), Code::kUnavailable) << stopped.toString();
  EXPECT_NE(stopped.message().find("restart"), std::string::npos) << stopped.toString();
  op.reset();
  op = startOperator(env, probes, "small/journal");
  ASSERT_TRUE(op);
  ASSERT_TRUE(eventually([&] { return env.isReady("project-d--ws-2", "mcp-2"); }));
  op->requestStop();
  EXPECT_TRUE(op->wait().isOk());
  op.reset();
  auto j = journal::Journal::openForReading(journal);
  ASSERT_TRUE(j.isOk()) << j.status().toString();
  EXPECT_TRUE((*j)->verify().ok) << (*j)->verify().reason;
}

}  // namespace
}  // namespace spr::runtime
