// Kill points: journal_crash_writer runs as a real child with SPR_KILL_POINT naming one
// point in create, open, append, drop and compaction; it dies there by SIGKILL, and the
// journal must reopen whole every time. Also 30 kill -9 at random instants of a first start.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include "common/killpoint.h"
#include "core/journal/journal.h"
#include "test_util.h"

namespace spr::journal {
namespace {

struct Child {
  pid_t pid = 0;
  int fd = -1;  // the read end of its stdout
};

// Starts the writer on `dir` with SPR_KILL_POINT=`point` (none when empty).
Child startWriter(const std::string& dir, const std::string& batches, bool drop, const std::string& point) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<std::string> args = {SPR_CRASH_WRITER, dir, "7", batches};
  if (drop) args.push_back("drop");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind(std::string(kKillPointEnv) + "=", 0) != 0) env.emplace_back(*e);
  }
  if (!point.empty()) env.push_back(std::string(kKillPointEnv) + "=" + point);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  Child c;
  EXPECT_EQ(posix_spawn(&c.pid, SPR_CRASH_WRITER, &actions, nullptr, argv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  c.fd = fds[0];
  return c;
}

// Reads the child's output to its end, reaps it; returns the last acknowledged sequence.
uint64_t finish(Child c, int* status) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(c.fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(c.fd);
  waitpid(c.pid, status, 0);
  uint64_t lastAcked = 0, first = 0;
  std::istringstream lines(out);
  for (std::string word; lines >> word;) {
    if (word == "ok") lines >> first >> lastAcked;
  }
  return lastAcked;
}

// The journal opens for writing and for reading, its chain verifies, nothing acknowledged is lost.
void expectWhole(const std::string& dir, uint64_t lastAcked, const std::string& what) {
  auto j = Journal::open(dir);
  ASSERT_TRUE(j.isOk()) << what << ": " << j.status().toString();
  VerifyReport v = (*j)->verify();
  EXPECT_TRUE(v.ok) << what << ": " << v.reason;
  EXPECT_GE((*j)->nextSeq() - 1, lastAcked) << what << ": an acknowledged record was lost";
  j->reset();
  auto r = Journal::openForReading(dir);
  EXPECT_TRUE(r.isOk()) << what << ": " << r.status().toString();
}

// Runs the writer until the armed point kills it, then checks the journal.
void killAt(const std::string& dir, const std::string& point, bool drop = false) {
  int status = 0;
  uint64_t acked = finish(startWriter(dir, "40", drop, point), &status);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "kill point " << point << " was never reached";
  expectWhole(dir, acked, "after a kill at " + point);
}

TEST(JournalKillPoints, EveryPointLeavesAJournalThatOpens) {
  for (const char* point : {"journal.open.begin", "journal.create.begun", "journal.create.db_created",
                            "journal.create.meta_written", "journal.create.before_marker", "journal.create.done"}) {
    testing::TempDir tmp;
    killAt(tmp.sub("j"), point);  // a first start, killed while creating
  }
  testing::TempDir tmp;
  const std::string dir = tmp.sub("j");
  int status = 0;
  expectWhole(dir, finish(startWriter(dir, "5", false, ""), &status), "after a clean first run");
  for (const char* point :
       {"journal.open.begin", "journal.open.inspected", "journal.open.opened", "journal.append.indexed@1",
        "journal.append.before_write@3", "journal.append.after_write@2"}) {
    killAt(dir, point);
  }
  std::filesystem::remove(dir + "/SPR_JOURNAL");  // as a journal written before the marker existed
  auto old = Journal::openForReading(dir);
  ASSERT_TRUE(old.isOk()) << "a journal without the marker must open: " << old.status().toString();
  old->reset();
  EXPECT_FALSE(std::filesystem::exists(dir + "/SPR_JOURNAL")) << "a read-only open wrote in the journal";
  killAt(dir, "journal.create.before_marker");
  EXPECT_TRUE(std::filesystem::exists(dir + "/SPR_JOURNAL"));
  for (const char* point : {"journal.drop.before_write", "journal.drop.after_write", "journal.compact_storage.begin",
                            "journal.drop.after_write@2"}) {
    killAt(dir, point, /*drop=*/true);
  }
}

TEST(JournalKillPoints, Kill9AtRandomInstantsOfAFirstStart) {
  const char* fixedSeed = std::getenv("SPR_CRASH_SEED");
  const uint64_t seed = fixedSeed != nullptr ? std::stoull(fixedSeed) : std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  // How long a first start takes to its first acknowledged append on this machine now.
  int64_t firstAckMicros = 0;
  {
    testing::TempDir tmp;
    auto t0 = std::chrono::steady_clock::now();
    int status = 0;
    finish(startWriter(tmp.sub("j"), "1", false, ""), &status);
    firstAckMicros =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  }
  int beforeFirstAppend = 0;
  for (int round = 0; round < 30; ++round) {
    testing::TempDir tmp;
    const std::string dir = tmp.sub("j");
    Child c = startWriter(dir, "1000000", false, "");
    std::this_thread::sleep_for(
        std::chrono::microseconds(rng() % (firstAckMicros + firstAckMicros / 4 + 1)));  // when to kill, not a wait
    kill(c.pid, SIGKILL);
    int status = 0;
    uint64_t acked = finish(c, &status);
    beforeFirstAppend += acked == 0 ? 1 : 0;
    expectWhole(dir, acked, "round " + std::to_string(round));
    if (::testing::Test::HasFailure()) return;
  }
  std::printf("first-start kills: %d of 30 before the first acknowledged append\n", beforeFirstAppend);
}

}  // namespace
}  // namespace spr::journal
