// kill -9 of a real `spr run` process while Creates are in flight, then a restart on the
// same journal: every request converges and each object got exactly one Create.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "core/journal/journal.h"
#include "tests/runtime/e2e_env.h"
#include "tests/support/paths.h"
#include "tests/support/run_command.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
using testing::E2E;
using testing::eventually;
using testing::spawnRun;

struct Creates {
  int requested = 0, completed = 0, succeeded = 0, resumed = 0, resumedFound = 0;
};

// Per object key: Create effects requested, completed successfully, and of those the ones
// run again after the restart (Observe first; "found" = the first attempt had reached the
// cluster).
std::map<std::string, Creates> createsPerObject(const std::string& journalDir) {
  std::map<std::string, Creates> out;
  auto j = journal::Journal::openForReading(journalDir);
  if (!j.isOk()) return out;
  (void)(*j)->scan(1, [&](const journal::Record& r) {
    if (auto* q = std::get_if<journal::EffectRequested>(&r.payload))
      if (q->command == "Create") ++out[r.object.key()].requested;
    if (auto* c = std::get_if<journal::EffectCompleted>(&r.payload)) {
      if (c->command != "Create") return true;
      Creates& n = out[r.object.key()];
      ++n.completed;
      if (c->outcome == journal::Outcome::kSucceeded) ++n.succeeded;
      auto result = nlohmann::json::parse(c->resultJson, nullptr, false);
      if (result.is_object() && result.value("resumed", false)) {
        ++n.resumed;
        if (result.value("found", false)) ++n.resumedFound;
      }
    }
    return true;
  });
  return out;
}

TEST(CrashE2E, KillDashNineDuringCreatesThenRestartConvergesWithOneCreateEach) {
  ASSERT_FALSE(spr::testing::sprBinary().empty()) << "no spr binary: set SPR_BINARY";
  E2E env("crash");
  env.createConfig();
  const int n = 200;  // the check: kill -9 in the middle of 200 requests
  for (int i = 0; i < n; ++i) env.createRequest("project-k--ws-" + std::to_string(i), "mcp-" + std::to_string(i));
  std::string journalDir = env.dir + "/journal", log = env.dir + "/run.log";
  pid_t pid = spawnRun(env, journalDir, log);
  ASSERT_GT(pid, 0);
  // Kill once some (not all) Creates have been requested, at a moment when the journal
  // shows one in flight (it may still complete before the signal lands).
  auto someInFlight = [&] {
    auto creates = createsPerObject(journalDir);
    if (creates.size() < static_cast<size_t>(n / 4)) return false;
    for (const auto& [key, c] : creates)
      if (c.requested > c.completed) return true;
    return creates.size() >= static_cast<size_t>(3 * n / 4);  // none caught in flight: kill anyway
  };
  ASSERT_TRUE(eventually(someInFlight, 90));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  pid = spawnRun(env, journalDir, log);
  for (int i = 0; i < n; ++i) {
    std::string ns = "project-k--ws-" + std::to_string(i), name = "mcp-" + std::to_string(i);
    ASSERT_TRUE(eventually([&] { return env.isReady(ns, name); }, 120))
        << ns << "/" << name << " " << env.get(ns, name).dump();
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "spr run should drain and exit 0 on SIGTERM; log: " << log;
  auto creates = createsPerObject(journalDir);
  EXPECT_EQ(creates.size(), static_cast<size_t>(n));
  int resumed = 0, found = 0;
  for (const auto& [key, c] : creates) {
    // The check: exactly one Create effect per object in the journal, and it
    // succeeded, whether or not the kill interrupted it.
    EXPECT_EQ(c.requested, 1) << key << ": " << c.requested << " Create effects requested";
    EXPECT_EQ(c.succeeded, 1) << key << ": " << c.succeeded << " Create effects succeeded";
    resumed += c.resumed;
    found += c.resumedFound;
  }
  std::printf("[ crash    ] %d objects, %d Creates interrupted by kill -9 and resumed (%d had reached the cluster)\n",
              n, resumed, found);
  // The journal of the crash and the restart replays, every effect (a resumed Create too)
  // re-run against its tape, with no divergence.
  std::string replayed =
      spr::testing::runCommand(spr::testing::sprBinary() + " replay --journal " + journalDir, &status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << replayed;
  EXPECT_NE(replayed.find("no divergence"), std::string::npos) << replayed;
  EXPECT_EQ(replayed.find("effects not re-run"), std::string::npos) << replayed;
}

}  // namespace
}  // namespace spr::runtime
