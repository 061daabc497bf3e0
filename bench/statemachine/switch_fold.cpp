// The baseline fold: one switch per input kind, same rules as LIFECYCLE.md's main path.
#include "bench/statemachine/switch_fold.h"

#include <algorithm>

namespace spr::lifecycle::bench {
namespace {

struct Out {
  State s;
  std::vector<AnyCommand> cmds;
};

void issue(Out& o, Op op) {
  const uint64_t id = o.s.nextEffectId++;
  o.cmds.push_back(Command{op, id, {}});
  o.s.inflightEffect = id;
  o.s.inflightOp = op;
  o.s.timerToken = 0;
  if (op == Op::kCreate || op == Op::kDelete) o.s.lastObserveAbsent = false;
}

void status(Out& o, const char* phase, bool ready, std::string reason, std::string message) {
  StatusView v{phase, ready, std::move(reason), std::move(message),
               std::string(phase) == "Terminating" ? o.s.generation : o.s.observedGeneration};
  if (v == o.s.status) return;
  o.s.status = v;
  o.cmds.push_back(Command{Op::kWriteStatus, o.s.nextEffectId++, v});
}

void timer(Out& o, int64_t delay) {
  o.s.timerToken = o.s.nextEffectId++;
  o.cmds.push_back(RequeueAfter{delay, o.s.timerToken});
}

// The Decide junction.
void decide(Out& o) {
  State& s = o.s;
  s.dirty = false;
  s.timerToken = 0;
  if (s.deleting) {
    if (!s.hasFinalizer) {
      s.phase = Phase::kDeleted;
      return;
    }
    s.phase = Phase::kDeleting;
    status(o, "Terminating", false, kReasonDeleting, "deleting the service");
    issue(o, Op::kObserve);
  } else if (!s.configPresent) {
    s.phase = Phase::kUserError;
    s.observedGeneration = s.generation;
    status(o, "Progressing", false, kReasonConfigNotFound,
           "the ProviderConfig for this provider is missing or being deleted; create it to continue");
  } else if (!s.hasFinalizer) {
    s.phase = Phase::kPending;
    issue(o, Op::kAddFinalizer);
  } else {
    s.phase = Phase::kObserving;
    s.observedGeneration = s.generation;
    issue(o, Op::kObserve);
  }
}

void backoff(Out& o, const EffectDone& d) {
  const int64_t delay = backoffDelayMs(o.s.objectKey, o.s.attempt);
  std::string message = d.message.empty() ? std::string(opName(d.op)) + " failed" : d.message;
  message += " (retry " + std::to_string(o.s.attempt + 1) + " in " + std::to_string(delay) + " ms)";
  status(o, o.s.deleting ? "Terminating" : "Progressing", false, d.reason.empty() ? kReasonReconcileError : d.reason,
         std::move(message));
  timer(o, delay);
  ++o.s.attempt;
  o.s.phase = Phase::kBackoff;
}

void observed(Out& o, const EffectDone& d) {
  State& s = o.s;
  if (s.phase == Phase::kDeleting) {
    if (d.exists) {
      issue(o, Op::kCheckDeletion);  // what blocks deletion, before every Delete
    } else {
      status(o, "Terminating", false, kReasonDeleting, "the service is gone; removing the finalizer");
      issue(o, Op::kRemoveFinalizer);
    }
  } else if (!d.exists) {
    s.phase = Phase::kCreating;
    status(o, "Progressing", false, "Creating", "creating the service");
    issue(o, Op::kCreate);
  } else if (d.drift) {
    s.phase = Phase::kUpdating;
    status(o, "Progressing", false, "Updating", "updating the service to match the spec");
    issue(o, Op::kUpdate);
  } else if (d.ready) {
    s.phase = Phase::kReady;
    s.attempt = 0;
    status(o, "Ready", true, kReasonReady, "the service is ready");
    timer(o, s.pollIntervalMs);
  } else {
    status(o, "Progressing", false, d.reason.empty() ? kReasonProgressing : d.reason,
           d.message.empty() ? "waiting for the service to become ready" : d.message);
    timer(o, kNotReadyRequeueMs);
  }
}

bool effectDone(Out& o, const EffectDone& d) {
  State& s = o.s;
  if (d.op == Op::kWriteStatus) return true;
  if (!s.inflightEffect || *s.inflightEffect != d.effectId || s.inflightOp != d.op) return false;
  s.inflightEffect.reset();
  const bool ok = d.outcome == Outcome::kSucceeded;
  if (ok && d.op == Op::kObserve) s.lastObserveAbsent = !d.exists;
  if (ok && d.op == Op::kAddFinalizer) s.hasFinalizer = true;
  if (ok && d.op == Op::kRemoveFinalizer) {
    s.hasFinalizer = false;
    s.phase = Phase::kDeleted;
    return true;
  }
  const bool deleting = s.phase == Phase::kDeleting;
  if (d.outcome == Outcome::kTransientError || d.outcome == Outcome::kUserError) {
    if (s.dirty && !deleting) return decide(o), true;
    return backoff(o, d), true;
  }
  if (ok && d.op == Op::kObserve && (!s.dirty || deleting)) return observed(o, d), true;
  if (ok && d.op == Op::kCheckDeletion && !d.blocked) {
    status(o, "Terminating", false, kReasonDeleting, "deleting the service");
    return issue(o, Op::kDelete), true;
  }
  if (ok && d.op == Op::kCheckDeletion) {
    s.phase = Phase::kDeletionBlocked;
    status(o, "Terminating", false, kReasonUserResourcesPresent, d.message);
    return timer(o, kDeletionRecheckMs), true;
  }
  if (deleting) return issue(o, Op::kObserve), true;
  decide(o);
  return true;
}

bool objectSeen(Out& o, const ObjectSeen& seen) {
  State& s = o.s;
  if (s.phase == Phase::kDeleted) {
    if (seen.deleting) return false;
    State fresh;  // a recreated object starts over
    fresh.objectKey = s.objectKey;
    fresh.nextEffectId = s.nextEffectId;
    fresh.configPresent = s.configPresent;
    fresh.pollIntervalMs = s.pollIntervalMs;
    fresh.configHash = s.configHash;
    s = std::move(fresh);
  }
  const bool relevant = !s.deleting && ((s.phase == Phase::kPending && !s.inflightEffect) || seen.deleting ||
                                        seen.generation > s.generation || (s.hasFinalizer && !seen.hasFinalizer));
  s.generation = std::max(s.generation, seen.generation);
  s.deleting = s.deleting || seen.deleting;
  s.hasFinalizer = seen.hasFinalizer;
  if (!relevant) return true;
  if (s.inflightEffect) {
    if (s.phase != Phase::kDeleting) s.dirty = true;
    return true;
  }
  decide(o);
  return true;
}

}  // namespace

FoldResult switchFold(const State& state, const Input& input) {
  Out o{state, {}};
  bool accepted = true;
  switch (input.index()) {
    case 0: accepted = objectSeen(o, std::get<ObjectSeen>(input)); break;
    case 1:
      accepted = o.s.phase != Phase::kDeleted;
      o.s.phase = Phase::kDeleted;
      o.s.inflightEffect.reset();
      break;
    case 2: {
      const auto& c = std::get<ConfigSeen>(input);
      o.s.configPresent = c.present;
      o.s.configHash = c.configHash;
      o.s.pollIntervalMs = c.pollIntervalMs;
      break;
    }
    case 3: {
      const auto& t = std::get<TimerFired>(input);
      accepted = t.token != 0 && t.token == o.s.timerToken && o.s.phase != Phase::kDeleted;
      if (accepted && o.s.phase == Phase::kDeletionBlocked) {
        o.s.phase = Phase::kDeleting;
        issue(o, Op::kCheckDeletion);
      } else if (accepted) {
        decide(o);
      }
      break;
    }
    case 4: accepted = effectDone(o, std::get<EffectDone>(input)); break;
  }
  FoldResult r;
  if (!accepted) {
    r.state = state;
    r.rejected = true;
    r.reason = "rejected";
    return r;
  }
  r.state = std::move(o.s);
  r.commands = std::move(o.cmds);
  return r;
}

}  // namespace spr::lifecycle::bench
