// Randomized property test: long seeded sequences of plausible and junk inputs, with the
// lifecycle's safety invariants checked after every step. A failure prints the seed;
// rerun one sequence with SPR_LIFECYCLE_SEED=<seed>.
#include <cstdlib>
#include <random>

#include "tests/statemachine/driver.h"

namespace spr::lifecycle::testing {
namespace {

constexpr int kSequences = 2000;
constexpr int kSteps = 200;

class InputGen {
 public:
  explicit InputGen(uint64_t seed) : rng_(seed) {}

  Input next(const State& s) {
    const int pick = below(100);
    if (s.inflightEffect && pick < 45) return plausibleDone(s);
    if (pick < 55) return TimerFired{chance(70) ? s.timerToken : below(s.nextEffectId + 3)};
    if (pick < 78) return objectSeen(s);
    if (pick < 86) return chance(80) ? ConfigSeen{true, 30000, chance(70) ? "h1" : "h2"} : ConfigSeen{};
    if (pick < 88) return ObjectGone{};
    return junkDone(s);
  }

 private:
  int below(uint64_t n) { return static_cast<int>(std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_)); }
  bool chance(int percent) { return below(100) < percent; }
  Outcome outcome() {
    const int p = below(100);
    return p < 70   ? Outcome::kSucceeded
           : p < 82 ? Outcome::kTransientError
           : p < 91 ? Outcome::kUserError
                    : Outcome::kUnknown;
  }
  EffectDone plausibleDone(const State& s) {
    EffectDone d{*s.inflightEffect, s.inflightOp, outcome(), chance(50), chance(30), chance(75), "msg", ""};
    if (d.outcome == Outcome::kUserError && chance(50)) d.reason = "InvalidSpec";
    if (d.op == Op::kCheckDeletion && d.outcome == Outcome::kSucceeded && chance(60)) {
      d.blocked = true;
      d.reason = kReasonUserResourcesPresent;
      d.message = chance(50) ? "1 Object (objects.kubernetes.crossplane.io): a" : "2 Object: a, b";
    }
    return d;
  }
  EffectDone junkDone(const State& s) {
    EffectDone d{static_cast<uint64_t>(below(s.nextEffectId + 3)),
                 static_cast<Op>(below(9)),
                 outcome(),
                 chance(50),
                 chance(50),
                 chance(50),
                 "",
                 ""};
    return d;
  }
  ObjectSeen objectSeen(const State& s) {
    static const char* kOps[] = {"", "", "", "", "ignore", "reconcile", "bogus"};
    ObjectSeen o;
    o.generation = std::max<int64_t>(1, s.generation + (chance(30) ? 1 : 0) - (chance(5) ? 1 : 0));
    o.deleting = chance(6);
    o.hasFinalizer = chance(85) ? s.hasFinalizer || s.phase != Phase::kPending : chance(50);
    o.operation = kOps[below(7)];
    return o;
  }

  std::mt19937_64 rng_;
};

bool isCompletionOf(const State& before, const Input& in);

// What the test itself knows from the inputs it fed and the commands it got back.
struct Oracle {
  bool absentSinceLastCreate = false;  // an accepted Observe said absent, no Create since
  bool absentWhileDeleting = false;    // the latest accepted Observe, while deleting, said absent
  DeletionGate deletion;               // Delete only after CheckDeletion said nothing blocks

  void onInput(const State& before, const Input& in, const FoldResult& r) {
    const auto* d = std::get_if<EffectDone>(&in);
    deletion.onInput(in, r);
    if (!r.rejected && d && d->op == Op::kCheckDeletion && d->outcome == Outcome::kSucceeded) {
      if (d->blocked && isCompletionOf(before, in)) {
        EXPECT_EQ(r.state.phase, Phase::kDeletionBlocked) << "blocked deletion waits in DeletionBlocked";
        EXPECT_EQ(r.state.status.reason, kReasonUserResourcesPresent);
      }
    }
    if (r.rejected || d == nullptr || d->op != Op::kObserve || d->outcome != Outcome::kSucceeded) return;
    absentSinceLastCreate = !d->exists;
    absentWhileDeleting = before.deleting && !d->exists;
  }
  void onCommand(const Command& c) {
    if (c.op == Op::kCreate) {
      EXPECT_TRUE(absentSinceLastCreate) << "Create without a fresh Observe saying absent";
      absentSinceLastCreate = false;
    }
    if (c.op == Op::kDelete) {
      absentWhileDeleting = false;
    }
    EXPECT_TRUE(deletion.allows(c)) << "Delete without a CheckDeletion saying nothing blocks";
    if (c.op == Op::kRemoveFinalizer) {
      EXPECT_TRUE(absentWhileDeleting) << "RemoveFinalizer before Observe said gone";
    }
  }
};

bool isCompletionOf(const State& before, const Input& in) {
  const auto* d = std::get_if<EffectDone>(&in);
  return d && before.inflightEffect && d->effectId == *before.inflightEffect && d->op == before.inflightOp;
}

void checkStep(const State& before, const Input& in, const FoldResult& r, Oracle& oracle) {
  const FoldResult again = fold(before, in);  // determinism
  ASSERT_TRUE(sameState(again.state, r.state));
  ASSERT_EQ(summary(again.commands), summary(r.commands));
  ASSERT_EQ(again.reason, r.reason);
  if (r.rejected) {
    ASSERT_TRUE(r.commands.empty());
    ASSERT_TRUE(sameState(r.state, before));
  }
  if (const auto* d = std::get_if<EffectDone>(&in); d && d->op == Op::kWriteStatus) {
    ASSERT_FALSE(r.rejected) << "status write results are absorbed, not rejected";
    ASSERT_EQ(r.state.phase, before.phase) << "a status write result changes no phase";
    ASSERT_EQ(r.state.inflightEffect, before.inflightEffect);
    // Only an unconfirmed write (restart) is written again at once; a failed one waits.
    for (const auto& any : r.commands) {
      const auto* c = std::get_if<Command>(&any);
      ASSERT_TRUE(c && c->op == Op::kWriteStatus && d->outcome == Outcome::kUnknown) << describe(any);
      ASSERT_EQ(c->status, before.status) << "the status written again is the one the fold wants";
    }
  } else if (before.phase == Phase::kDeleted) {
    const auto* o = std::get_if<ObjectSeen>(&in);
    ASSERT_TRUE(r.rejected || (o && !o->deleting)) << "Deleted is terminal";
  }
  oracle.onInput(before, in, r);
  int tracked = 0;
  // A recreated object (fresh start after Deleted) has no status yet.
  StatusView status = before.phase == Phase::kDeleted ? StatusView{} : before.status;
  for (const auto& any : r.commands) {
    if (const auto* c = std::get_if<Command>(&any)) {
      ASSERT_GE(c->effectId, before.nextEffectId) << "effect ids are fresh";
      oracle.onCommand(*c);
      if (c->op == Op::kWriteStatus) {
        EXPECT_TRUE(c->status != status || r.state.statusUnconfirmed)
            << "WriteStatus only when the status changes or the cluster may not show it";
        EXPECT_EQ(r.state.statusWrite, c->effectId) << "the latest status write is the one tracked";
        status = c->status;
        continue;
      }
      ++tracked;
      EXPECT_EQ(r.state.inflightEffect.value_or(0), c->effectId);
    }
    if (before.phase == Phase::kUserError && !wakesUserError(before, in)) {
      ADD_FAILURE() << "UserError woke up on " << describe(in) << ": " << describe(any);
    }
  }
  EXPECT_LE(tracked, 1) << "at most one effect in flight";
  if (before.inflightEffect && !isCompletionOf(before, in) && !std::holds_alternative<ObjectGone>(in)) {
    EXPECT_EQ(tracked, 0) << "a new effect while one is in flight";
    EXPECT_EQ(r.state.inflightEffect, before.inflightEffect);
  }
  if (r.state.phase == Phase::kUserError) {
    for (const auto& any : r.commands) {
      const auto* c = std::get_if<Command>(&any);
      EXPECT_TRUE(c && !isProviderOp(c->op)) << "UserError issues " << describe(any);
    }
  }
  const std::string snapshot = toJson(r.state);
  Result<State> back = stateFromJson(snapshot);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  ASSERT_TRUE(sameState(*back, r.state)) << snapshot;
}

void runSequence(uint64_t seed, int* phasesSeen) {
  InputGen gen(seed);
  Oracle oracle;
  State s;
  s.objectKey = "ns/obj-" + std::to_string(seed % 7);
  for (int step = 0; step < kSteps; ++step) {
    const Input in = gen.next(s);
    const FoldResult r = fold(s, in);
    checkStep(s, in, r, oracle);
    if (::testing::Test::HasFailure()) {  // context is built only on failure: this loop is hot
      ADD_FAILURE() << "seed " << seed << " step " << step << " phase " << phaseName(s.phase) << " input "
                    << describe(in) << " -> " << r.reason << "\nstate before: " << toJson(s);
      return;
    }
    s = r.state;
    phasesSeen[static_cast<int>(s.phase)]++;
  }
}

TEST(LifecycleProperty, RandomSequencesKeepInvariants) {
  uint64_t first = 20261124, count = kSequences;
  if (const char* env = std::getenv("SPR_LIFECYCLE_SEED")) {
    first = std::strtoull(env, nullptr, 10);
    count = 1;
  }
  int phasesSeen[11] = {};
  for (uint64_t seed = first; seed < first + count; ++seed) {
    runSequence(seed, phasesSeen);
    if (HasFailure()) {
      ADD_FAILURE() << "reproduce with SPR_LIFECYCLE_SEED=" << seed;
      return;
    }
  }
  // The generator must actually reach every phase, or the invariants prove little.
  for (int p = 0; p < 11; ++p) EXPECT_GT(phasesSeen[p], 0) << phaseName(static_cast<Phase>(p));
}

}  // namespace
}  // namespace spr::lifecycle::testing
