// Fuzz target: the lifecycle fold (core/statemachine) over input sequences the fuzzer
// chooses, with the safety invariants of tests/statemachine/property_test.cpp checked
// after every step: determinism, rejection changes nothing, Create only after Observe
// said absent, RemoveFinalizer only after Observe said gone while deleting, Delete only
// after CheckDeletion said nothing blocks, fresh effect
// ids, at most one effect in flight, Deleted is terminal, UserError stays quiet, status
// written only on change, and snapshots round-trip. Inputs starting with '{' are instead
// parsed as a state snapshot (stateFromJson), the journal's stored state blobs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/statemachine/lifecycle.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/statemachine/invariants.h"

namespace {

using namespace spr::lifecycle;
using spr::lifecycle::testing::isProviderOp;
using spr::lifecycle::testing::sameState;
using spr::lifecycle::testing::wakesUserError;

class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ >= size_; }
  uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }
  bool flag() { return next() & 1; }

 private:
  const uint8_t* data_;
  size_t size_, at_ = 0;
};

Input nextInput(Bytes& in, const State& s) {
  static const char* kOps[] = {"", "ignore", "reconcile", "bogus"};
  static const char* kReasons[] = {"", "InvalidSpec", "ApiUnavailable"};
  const uint8_t pick = in.next();
  const uint8_t arg = in.next();
  switch (pick % 6) {
    case 0:
      return ObjectSeen{std::max<int64_t>(0, s.generation + (arg % 4) - 1), (arg & 4) != 0, (arg & 8) != 0,
                        kOps[(arg >> 4) % 4]};
    case 1: return ObjectGone{};
    case 2: return ConfigSeen{(arg & 1) != 0, 1000 * (arg >> 1), (arg & 2) ? "h1" : "h2"};
    case 3: return TimerFired{(arg & 1) ? s.timerToken : static_cast<uint64_t>(arg >> 1)};
    default: {  // EffectDone: the in-flight effect (pick 4) or any id and op (pick 5)
      const bool plausible = pick % 6 == 4 && s.inflightEffect;
      const uint8_t more = in.next();
      EffectDone d;
      d.effectId = plausible ? *s.inflightEffect : arg % (s.nextEffectId + 3);
      d.op = plausible ? s.inflightOp : static_cast<Op>(more % 9);
      d.outcome = static_cast<Outcome>((more >> 3) % 4);
      d.exists = arg & 1;
      d.drift = arg & 2;
      d.ready = arg & 4;
      d.reason = kReasons[(arg >> 3) % 3];
      d.message = (arg & 32) ? "msg" : "";
      d.blocked = arg & 64;
      return d;
    }
  }
}

struct Oracle {
  bool absentSinceLastCreate = false;
  bool absentWhileDeleting = false;
  spr::lifecycle::testing::DeletionGate deletion;
};

// WHAT names the step in a failure message; built only when one fails (this loop is hot).
#define WHAT (describe(in) + " in " + phaseName(before.phase))  // NOLINT: lazy message

void checkCommands(const State& before, const Input& in, const FoldResult& r, Oracle& oracle) {
  int tracked = 0;
  StatusView status = before.phase == Phase::kDeleted ? StatusView{} : before.status;
  for (const auto& any : r.commands) {
    const auto* c = std::get_if<Command>(&any);
    // Writing the status again (the cluster may not show it) is not waking up.
    if (!c || c->op != Op::kWriteStatus)
      FUZZ_CHECK(before.phase != Phase::kUserError || wakesUserError(before, in), "UserError woke up: " + WHAT);
    if (!c) continue;
    FUZZ_CHECK(c->effectId >= before.nextEffectId, "effect ids are fresh: " + WHAT);
    FUZZ_CHECK(c->op != Op::kCreate || oracle.absentSinceLastCreate, "Create without Observe absent: " + WHAT);
    if (c->op == Op::kCreate) oracle.absentSinceLastCreate = false;
    FUZZ_CHECK(oracle.deletion.allows(*c), "Delete without CheckDeletion clear: " + WHAT);
    if (c->op == Op::kDelete) oracle.absentWhileDeleting = false;
    FUZZ_CHECK(c->op != Op::kRemoveFinalizer || oracle.absentWhileDeleting, "RemoveFinalizer too early: " + WHAT);
    FUZZ_CHECK(r.state.phase != Phase::kUserError || !isProviderOp(c->op), "UserError issues an op: " + WHAT);
    if (c->op == Op::kWriteStatus) {
      FUZZ_CHECK(c->status != status || r.state.statusUnconfirmed,
                 "WriteStatus without a change, while the cluster shows the status: " + WHAT);
      FUZZ_CHECK(r.state.statusWrite == c->effectId, "the latest status write is not the one tracked: " + WHAT);
      status = c->status;
      continue;
    }
    ++tracked;
    FUZZ_CHECK(r.state.inflightEffect.value_or(0) == c->effectId, "untracked effect: " + WHAT);
  }
  FUZZ_CHECK(tracked <= 1, "two effects in flight: " + WHAT);
  const auto* d = std::get_if<EffectDone>(&in);
  const bool completes =
      d && before.inflightEffect && d->effectId == *before.inflightEffect && d->op == before.inflightOp;
  if (before.inflightEffect && !completes && !std::holds_alternative<ObjectGone>(in)) {
    FUZZ_CHECK(tracked == 0 && r.state.inflightEffect == before.inflightEffect,
               "new effect while one in flight: " + WHAT);
  }
}

void checkStep(const State& before, const Input& in, const FoldResult& r, Oracle& oracle) {
  const FoldResult again = fold(before, in);
  FUZZ_CHECK(sameState(again.state, r.state) && again.reason == r.reason && again.commands.size() == r.commands.size(),
             "fold is not deterministic: " + WHAT);
  if (r.rejected)
    FUZZ_CHECK(r.commands.empty() && sameState(r.state, before), "a rejection changed something: " + WHAT);
  const auto* d = std::get_if<EffectDone>(&in);
  if (d && d->op == Op::kWriteStatus) {
    // Absorbed, never a phase change. Its fold may write the status the fold wants once more
    // (an unconfirmed write after a restart, or one that failed earlier), and nothing else.
    FUZZ_CHECK(!r.rejected && r.state.phase == before.phase && r.state.inflightEffect == before.inflightEffect,
               "a status write result changed the lifecycle: " + WHAT);
    for (const auto& any : r.commands) {
      const auto* c = std::get_if<Command>(&any);
      FUZZ_CHECK(
          c && c->op == Op::kWriteStatus && c->status == r.state.status,
          "a status write result asked for more than writing the wanted status: " + WHAT + " -> " + describe(any));
    }
  } else if (before.phase == Phase::kDeleted) {
    const auto* o = std::get_if<ObjectSeen>(&in);
    FUZZ_CHECK(r.rejected || (o && !o->deleting), "Deleted is terminal: " + WHAT);
  }
  if (!r.rejected && d && d->op == Op::kObserve && d->outcome == Outcome::kSucceeded) {
    oracle.absentSinceLastCreate = !d->exists;
    oracle.absentWhileDeleting = before.deleting && !d->exists;
  }
  oracle.deletion.onInput(in, r);
  checkCommands(before, in, r, oracle);
  // Snapshots round-trip; checked at every change of phase, where the state changes most.
  if (r.state.phase != before.phase) {
    const std::string after = toJson(r.state);
    spr::Result<State> back = stateFromJson(after);
    FUZZ_CHECK(back.isOk() && sameState(*back, r.state), "snapshot does not round-trip: " + after);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 0 && data[0] == '{') {
    spr::Result<State> state = stateFromJson(std::string(reinterpret_cast<const char*>(data), size));
    if (state.isOk()) FUZZ_CHECK(stateFromJson(toJson(*state)).isOk(), toJson(*state));
    return 0;
  }
  Bytes bytes(data, size);
  State s;
  s.objectKey = "ns/obj";
  Oracle oracle;
  for (int step = 0; step < 512 && !bytes.done(); ++step) {
    const Input in = nextInput(bytes, s);
    const FoldResult r = fold(s, in);
    checkStep(s, in, r, oracle);
    if (!r.rejected) s = r.state;
  }
  return 0;
}
