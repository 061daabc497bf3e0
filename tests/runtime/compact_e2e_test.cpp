// Retention end to end with real processes: a real `spr run` brings 300 requests to
// Ready, some are deleted, it is killed (kill -9) while effects are in flight, the journal
// is compacted (`spr journal compact`) and `spr run` restarts on it. Nothing may change on
// the requests; replay with tapes, verify and audit (across the archive) stay clean.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <map>
#include <set>

#include "core/journal/journal.h"
#include "replay/compact.h"
#include "tests/runtime/e2e_env.h"
#include "tests/support/paths.h"
#include "tests/support/run_command.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
using testing::E2E;
using testing::eventually;
using testing::spawnRun;

// Effects are not throttled: the test journals thousands of them.
const std::vector<std::string> kFastLimits = {"--rate-limit-qps", "1000", "--rate-limit-burst", "1000"};

std::string nowRfc3339() {
  std::time_t t = std::time(nullptr) + 1;
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Effects requested and not (yet) completed, and Observe effects completed after `fromSeq`.
struct Effects {
  size_t inFlight = 0, observesAfter = 0;
  uint64_t nextSeq = 0;
};
Effects effectsIn(const std::string& journalDir, uint64_t fromSeq) {
  Effects out;
  auto j = journal::Journal::openForReading(journalDir);
  if (!j.isOk()) return out;
  std::set<std::pair<std::string, uint64_t>> open;
  (void)(*j)->scan((*j)->firstSeq(), [&](const journal::Record& r) {
    if (auto* q = std::get_if<journal::EffectRequested>(&r.payload)) open.insert({r.object.key(), q->effectId});
    if (auto* c = std::get_if<journal::EffectCompleted>(&r.payload)) {
      open.erase({r.object.key(), c->effectId});
      if (r.seq >= fromSeq && c->command == "Observe") ++out.observesAfter;
    }
    return true;
  });
  out.inFlight = open.size();
  out.nextSeq = (*j)->nextSeq();
  return out;
}

std::string ns(int i) { return "project-r--ws-" + std::to_string(i % 10); }
std::string name(int i) { return "mcp-" + std::to_string(i); }

int run(const std::string& command, std::string* out) {
  int status = 0;
  *out = spr::testing::runCommand(command, &status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(CompactE2E, CompactMidFlightThenRestartChangesNothingAndEverythingStillReplays) {
  ASSERT_FALSE(spr::testing::sprBinary().empty()) << "no spr binary: set SPR_BINARY";
  E2E env("compact");
  ASSERT_TRUE(E2E::createOk(*env.platform, env.config, "", env.providerConfig("2s")));
  const int n = 300, deleted = 30;  // the issue: 300 requests; deleted ones must leave the state table
  for (int i = 0; i < n; ++i) env.createRequest(ns(i), name(i));
  const std::string journalDir = env.dir + "/journal", log = env.dir + "/run.log", archive = env.dir + "/a1.archive";
  pid_t pid = spawnRun(env, journalDir, log, kFastLimits);
  ASSERT_GT(pid, 0);
  for (int i = 0; i < n; ++i)
    ASSERT_TRUE(eventually([&] { return env.isReady(ns(i), name(i)); }, 240)) << ns(i) << "/" << name(i);
  for (int i = 0; i < deleted; ++i) ASSERT_TRUE(env.onboarding->remove(env.api, ns(i), name(i)).isOk());
  for (int i = 0; i < deleted; ++i)
    ASSERT_TRUE(eventually([&] { return env.get(ns(i), name(i)).is_null(); }, 120)) << name(i) << " not deleted";
  // kill -9 at a moment when the journal shows effects in flight (polls run every 2 s).
  ASSERT_TRUE(eventually([&] { return effectsIn(journalDir, 0).inFlight > 0; }, 60));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const size_t inFlightAtKill = effectsIn(journalDir, 0).inFlight;
  std::map<std::string, json> before;
  for (int i = deleted; i < n; ++i) before[name(i)] = env.get(ns(i), name(i))["status"];

  std::string out;
  const std::string spr = spr::testing::sprBinary();
  ASSERT_EQ(
      run(spr + " journal compact --journal " + journalDir + " --before " + nowRfc3339() + " --archive " + archive,
          &out),
      0)
      << out;
  ASSERT_NE(out.find("archived records"), std::string::npos) << out;
  std::printf("[ compact  ] %zu effects in flight at the kill; %s", inFlightAtKill, out.c_str());

  const uint64_t restartSeq = effectsIn(journalDir, 0).nextSeq;
  pid = spawnRun(env, journalDir, log, kFastLimits);
  // Every live request is polled at least once after the restart...
  EXPECT_TRUE(eventually([&] { return effectsIn(journalDir, restartSeq).observesAfter >= 2 * (n - deleted); }, 180))
      << "requests are not polled after the restart";
  ::kill(pid, SIGTERM);
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "log: " << log;
  // ... and nothing changed on any of them.
  for (int i = deleted; i < n; ++i) {
    EXPECT_TRUE(env.isReady(ns(i), name(i))) << name(i) << " " << env.get(ns(i), name(i)).dump();
    EXPECT_EQ(env.get(ns(i), name(i))["status"], before[name(i)]) << name(i) << ": status changed after restart";
  }
  {
    auto j = journal::Journal::openForReading(journalDir);
    ASSERT_TRUE(j.isOk());
    EXPECT_GT((*j)->firstSeq(), 1u);
    EXPECT_EQ((*j)->allStates()->size(), static_cast<size_t>(n - deleted)) << "deleted objects stay in the state table";
  }
  EXPECT_EQ(run(spr + " journal verify --journal " + journalDir, &out), 0) << out;
  EXPECT_EQ(run(spr + " replay --journal " + journalDir, &out), 0) << out;
  EXPECT_NE(out.find("no divergence"), std::string::npos) << out;
  EXPECT_EQ(out.find("effects not re-run"), std::string::npos) << out;
  EXPECT_EQ(run(spr + " replay --bundle " + archive, &out), 0) << out;
  EXPECT_EQ(run(spr + " audit --journal " + journalDir + " --archive " + archive + " --tenant " + ns(5) +
                    " --format json 2>/dev/null",
                &out),
            0)
      << out;
  json audit = json::parse(out, nullptr, false);
  ASSERT_TRUE(audit.is_object()) << out;
  EXPECT_TRUE(audit["chain"].value("ok", false)) << out.substr(0, 2000);
  ASSERT_FALSE(audit["rows"].empty());
  EXPECT_EQ(audit["rows"].front().value("seq", uint64_t{0}) < audit["rows"].back().value("seq", uint64_t{0}), true);
  bool fromArchive = false, fromLive = false;
  auto j = journal::Journal::openForReading(journalDir);
  for (const auto& row : audit["rows"])
    (row.value("seq", uint64_t{0}) < (*j)->firstSeq() ? fromArchive : fromLive) = true;
  EXPECT_TRUE(fromArchive && fromLive) << "audit spans the archive and the journal";
}

// Automatic retention inside a running operator: it compacts again and again while effects
// run, archiving each cut; the requests never notice, and the journal with its archives
// still replays, verifies and audits whole. (Age limit 2 s here: the flag's minimum is a
// minute, so the test sets the options directly.)
TEST(CompactE2E, AutomaticRetentionInsideTheOperatorKeepsEverythingWhole) {
  E2E env("retention");
  ASSERT_TRUE(E2E::createOk(*env.platform, env.config, "", env.providerConfig("1s")));
  const int n = 20;
  for (int i = 0; i < n; ++i) env.createRequest(ns(i), name(i));
  const std::string archives = env.dir + "/archives";
  auto op = testing::startOperator(env, [&](OperatorOptions& o) {
    o.retention.maxAgeSeconds = 2;
    o.retention.checkIntervalMs = 300;
    o.retention.archiveDir = archives;
    o.retention.compact = [](journal::Journal& j, int64_t before, const std::string& archive) {
      return replay::compactJournal(j, before, archive).status();
    };
  });
  ASSERT_TRUE(op);
  for (int i = 0; i < n; ++i) ASSERT_TRUE(eventually([&] { return env.isReady(ns(i), name(i)); }, 120)) << name(i);
  std::map<std::string, json> before;
  for (int i = 0; i < n; ++i) before[name(i)] = env.get(ns(i), name(i))["status"];
  auto archiveCount = [&] {
    size_t count = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(archives, ec)) count += e.path().extension() == ".archive";
    return count;
  };
  // Several compactions while every request is polled each second.
  ASSERT_TRUE(eventually([&] { return archiveCount() >= 3; }, 90)) << archiveCount() << " archives";
  op->requestStop();
  ASSERT_TRUE(op->wait().isOk());
  op.reset();
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(env.isReady(ns(i), name(i))) << name(i);
    EXPECT_EQ(env.get(ns(i), name(i))["status"], before[name(i)]) << name(i) << ": status changed";
  }
  const std::string journalDir = env.dir + "/journal", spr = spr::testing::sprBinary();
  std::string out;
  EXPECT_EQ(run(spr + " journal verify --journal " + journalDir, &out), 0) << out;
  EXPECT_EQ(run(spr + " replay --journal " + journalDir, &out), 0) << out;
  EXPECT_NE(out.find("no divergence"), std::string::npos) << out;
  EXPECT_EQ(run(spr + " audit --journal " + journalDir + " --archive " + archives + " --tenant " + ns(3) +
                    " --format json 2>/dev/null",
                &out),
            0)
      << out;
  json audit = json::parse(out, nullptr, false);
  ASSERT_TRUE(audit.is_object()) << out;
  EXPECT_TRUE(audit["chain"].value("ok", false)) << audit["chain"].dump();
  ASSERT_FALSE(audit["rows"].empty());
  // From the oldest archive on: the process start (seq 1), then the tenant's request.
  EXPECT_EQ(audit["rows"].front().value("seq", uint64_t{0}), 1u);
  EXPECT_EQ(audit["rows"].front().value("kind", ""), "start") << audit["rows"].front().dump();
  EXPECT_EQ(audit["rows"][1].value("kind", ""), "observed") << audit["rows"][1].dump();
}

}  // namespace
}  // namespace spr::runtime
