// Routing (validation + facts) and the actions of the lifecycle fold. See LIFECYCLE.md.
#include "core/statemachine/fold_context.h"

#include <algorithm>
#include <utility>

namespace spr::lifecycle::detail {
namespace {

constexpr const char* kProgressing = "Progressing";
constexpr const char* kReadyPhase = "Ready";
constexpr const char* kTerminating = "Terminating";

std::string orDefault(const std::string& s, const char* fallback) { return s.empty() ? fallback : s; }

}  // namespace

Next decide(const State& s) {
  if (s.deleting) return s.hasFinalizer ? Next::kDelete : Next::kDeleted;
  if (s.ignored) return Next::kIgnore;
  if (s.reconcileRequested) return Next::kClearAnnotation;
  if (!s.configPresent) return Next::kConfigMissing;
  if (!s.hasFinalizer) return Next::kAddFinalizer;
  return Next::kObserve;
}

// ---------------------------------------------------------------- routing

Route FoldContext::reject(std::string why) {
  rejectReason_ = std::move(why);
  return Route::kReject;
}

Route FoldContext::route(const Input& input) {
  if (const auto* d = std::get_if<EffectDone>(&input); d && d->op == Op::kWriteStatus) return routeStatusDone(*d);
  if (state_.phase == Phase::kDeleted) {
    const auto* o = std::get_if<ObjectSeen>(&input);
    if (o == nullptr || o->deleting) return reject("object is deleted");
    seen_ = o;
    return Route::kFreshStart;
  }
  if (const auto* o = std::get_if<ObjectSeen>(&input)) return routeSeen(*o);
  if (std::holds_alternative<ObjectGone>(input)) return Route::kGone;
  if (const auto* c = std::get_if<ConfigSeen>(&input)) return routeConfig(*c);
  if (const auto* t = std::get_if<TimerFired>(&input)) return routeTimer(*t);
  return routeDone(std::get<EffectDone>(input));
}

bool FoldContext::seenIsRelevant(const ObjectSeen& o) const {
  const State& s = state_;
  if (s.deleting) return false;                                      // deletion runs to the end whatever else changes
  if (s.phase == Phase::kPending && !s.inflightEffect) return true;  // first sighting
  if (o.deleting) return true;
  const bool ignore = o.operation == "ignore";
  if (ignore != s.ignored) return true;
  if (ignore) return false;
  if (o.operation == "reconcile" && !s.reconcileRequested) return true;
  return o.generation > s.generation || (s.hasFinalizer && !o.hasFinalizer);
}

void FoldContext::applySeen(const ObjectSeen& o) {
  state_.generation = std::max(state_.generation, o.generation);
  state_.deleting = state_.deleting || o.deleting;
  state_.hasFinalizer = o.hasFinalizer;
  state_.ignored = !state_.deleting && o.operation == "ignore";
  if (!state_.deleting && o.operation == "reconcile") state_.reconcileRequested = true;
}

// A WriteStatus result changes no phase. Only the latest write matters: its success
// confirms the status, its failure or an unknown outcome (restart) leaves it unconfirmed.
Route FoldContext::routeStatusDone(const EffectDone& d) {
  if (d.effectId != state_.statusWrite) {
    note("status write result ignored (superseded)");
    return Route::kAbsorb;
  }
  state_.statusWrite = 0;
  if (d.outcome == Outcome::kSucceeded) {
    state_.statusUnconfirmed = false;
    note("status write confirmed");
    return Route::kAbsorb;
  }
  state_.statusUnconfirmed = true;
  statusWriteFailed_ = d.outcome != Outcome::kUnknown;
  note(d.outcome == Outcome::kUnknown ? "status write unconfirmed (restart)" : "status write failed");
  return Route::kAbsorb;
}

// Level-triggered status: an ObjectSeen that changes nothing else shows a status other
// than the one the fold wants (and no write of ours is outstanding) -> write it again.
void FoldContext::compareStatus(const ObjectSeen& o) {
  const StatusView& want = state_.status;
  if (want.phase.empty() || state_.statusWrite != 0 || state_.phase == Phase::kDeleted) return;
  if (o.hasStatus && o.statusPhase == want.phase && o.statusReady == want.ready && o.statusReason == want.reason &&
      o.statusObservedGeneration == want.observedGeneration)
    return;
  state_.statusUnconfirmed = true;
  note("the object's status differs from the folded status");
}

void FoldContext::settleStatus() {
  if (!state_.statusUnconfirmed || statusWriteFailed_ || state_.statusWrite != 0) return;
  if (state_.status.phase.empty() || state_.phase == Phase::kDeleted || state_.ignored) return;
  const uint64_t id = state_.nextEffectId++;
  commands_.push_back(Command{Op::kWriteStatus, id, state_.status});
  state_.statusWrite = id;
  note("status " + state_.status.phase + "/" + state_.status.reason + " written again");
}

Route FoldContext::routeSeen(const ObjectSeen& o) {
  const bool relevant = seenIsRelevant(o);
  applySeen(o);
  // An input that wakes the machine leads to a status of its own; any other compares.
  if (!relevant || state_.inflightEffect) compareStatus(o);
  if (state_.inflightEffect) {
    if (relevant && state_.phase != Phase::kDeleting) {
      state_.dirty = true;
      note("changed while an effect is in flight: re-observe when it completes");
    } else {
      note("facts updated");
    }
    return Route::kAbsorb;
  }
  if (!relevant) {
    note("nothing relevant changed");
    return Route::kAbsorb;
  }
  return Route::kWake;
}

bool FoldContext::configIsRelevant(const ConfigSeen& c) const {
  const State& s = state_;
  if (s.deleting) return false;
  if (s.phase == Phase::kPending && !s.inflightEffect) return false;  // object not seen yet
  if (c.present != s.configPresent) return true;
  return c.present && c.configHash != s.configHash;
}

Route FoldContext::routeConfig(const ConfigSeen& c) {
  const bool relevant = configIsRelevant(c);
  state_.configPresent = c.present;
  state_.configHash = c.present ? c.configHash : std::string();
  if (c.present) state_.pollIntervalMs = c.pollIntervalMs > 0 ? c.pollIntervalMs : 60000;
  if (state_.inflightEffect) {
    if (relevant && state_.phase != Phase::kDeleting) state_.dirty = true;
    note(relevant ? "config changed while an effect is in flight" : "config facts updated");
    return Route::kAbsorb;
  }
  if (!relevant) {
    note("config: nothing relevant changed");
    return Route::kAbsorb;
  }
  return Route::kWake;
}

Route FoldContext::routeTimer(const TimerFired& t) {
  if (t.token == 0 || t.token != state_.timerToken) {
    return reject("stale timer: token " + std::to_string(t.token) + " is not the armed timer (" +
                  std::to_string(state_.timerToken) + ")");
  }
  return Route::kWake;
}

Route FoldContext::routeDone(const EffectDone& d) {
  if (!state_.inflightEffect) {
    return reject("EffectDone #" + std::to_string(d.effectId) + " (" + opName(d.op) + ") but no effect is in flight");
  }
  if (d.effectId != *state_.inflightEffect || d.op != state_.inflightOp) {
    return reject("EffectDone #" + std::to_string(d.effectId) + " (" + opName(d.op) +
                  ") is not the in-flight effect #" + std::to_string(*state_.inflightEffect) + " (" +
                  opName(state_.inflightOp) + ")");
  }
  state_.inflightEffect.reset();
  done_ = &d;
  if (d.outcome == Outcome::kSucceeded) {
    if (d.op == Op::kObserve) state_.lastObserveAbsent = !d.exists;
    if (d.op == Op::kAddFinalizer) state_.hasFinalizer = true;
    if (d.op == Op::kRemoveFinalizer) state_.hasFinalizer = false;
  }
  if (d.op == Op::kClearOperationAnnotation) state_.reconcileRequested = false;
  return classifyDone(d);
}

Route FoldContext::classifyDone(const EffectDone& d) {
  // Clearing the annotation never blocks the forced reconcile; an unknown outcome is
  // resolved by looking again (Observe), never by repeating a mutation blindly.
  if (d.op == Op::kClearOperationAnnotation || d.outcome == Outcome::kUnknown) return Route::kResume;
  if (state_.dirty && state_.phase != Phase::kDeleting) return Route::kResume;
  if (d.outcome == Outcome::kSucceeded) {
    if (d.op == Op::kObserve) return Route::kObserved;
    if (d.op == Op::kRemoveFinalizer) return Route::kFinalizerRemoved;
    if (d.op == Op::kCheckDeletion) return Route::kChecked;
    return Route::kResume;
  }
  return Route::kFailed;
}

// ---------------------------------------------------------------- effects and status

void FoldContext::note(const std::string& what) {
  if (note_.empty()) {
    note_.reserve(96);
  } else {
    note_ += "; ";
  }
  note_ += what;
}

uint64_t FoldContext::issue(Op op) {
  const uint64_t id = state_.nextEffectId++;
  commands_.push_back(Command{op, id, {}});
  state_.inflightEffect = id;
  state_.inflightOp = op;
  state_.timerToken = 0;  // an effect supersedes any armed timer
  if (op == Op::kCreate || op == Op::kDelete) state_.lastObserveAbsent = false;
  note(std::string("issue ") + opName(op) + " #" + std::to_string(id));
  return id;
}

void FoldContext::emitStatus(const char* phase, bool ready, std::string reason, std::string message) {
  StatusView v;
  v.phase = phase;
  v.ready = ready;
  v.reason = std::move(reason);
  v.message = std::move(message);
  v.observedGeneration = std::string(phase) == kTerminating ? state_.generation : state_.observedGeneration;
  if (v == state_.status && (!state_.statusUnconfirmed || state_.statusWrite != 0)) return;
  state_.status = v;
  state_.statusWrite = state_.nextEffectId++;
  commands_.push_back(Command{Op::kWriteStatus, state_.statusWrite, v});
  note("status " + v.phase + "/" + v.reason);
}

void FoldContext::armTimer(int64_t delayMs) {
  state_.timerToken = state_.nextEffectId++;
  commands_.push_back(RequeueAfter{delayMs, state_.timerToken});
  note("requeue after " + std::to_string(delayMs) + " ms");
}

// ---------------------------------------------------------------- actions

void FoldContext::enterDecide() {
  state_.dirty = false;
  state_.userErrorReason.clear();  // set again if Decide lands in UserError
  state_.timerToken = 0;
}

void FoldContext::markDeleted() {
  state_.timerToken = 0;
  note("deleted: no finalizer of ours, nothing to clean up");
}

void FoldContext::startDeletion() {
  emitStatus(kTerminating, false, kReasonDeleting, "deleting the service");
  issue(Op::kObserve);
}

void FoldContext::ignore() { note("ignored (openmcp.cloud/operation: ignore)"); }

void FoldContext::clearAnnotation() { issue(Op::kClearOperationAnnotation); }

void FoldContext::configMissing() {
  state_.observedGeneration = state_.generation;
  state_.userErrorReason = kReasonConfigNotFound;
  emitStatus(kProgressing, false, kReasonConfigNotFound,
             "the ProviderConfig for this provider is missing or being deleted; create it to continue");
}

void FoldContext::addFinalizer() { issue(Op::kAddFinalizer); }

void FoldContext::observe() {
  state_.observedGeneration = state_.generation;
  issue(Op::kObserve);
}

void FoldContext::reobserveDeletion() { issue(Op::kObserve); }

void FoldContext::create() {
  emitStatus(kProgressing, false, "Creating", "creating the service");
  issue(Op::kCreate);
}

void FoldContext::update() {
  emitStatus(kProgressing, false, "Updating", "updating the service to match the spec");
  issue(Op::kUpdate);
}

void FoldContext::becomeReady() {
  state_.attempt = 0;
  state_.userErrorReason.clear();
  emitStatus(kReadyPhase, true, kReasonReady, "the service is ready");
  armTimer(state_.pollIntervalMs);
}

void FoldContext::waitNotReady() {
  emitStatus(kProgressing, false, orDefault(done_->reason, kReasonProgressing),
             orDefault(done_->message, "waiting for the service to become ready"));
  armTimer(kNotReadyRequeueMs);
}

void FoldContext::backoff() {
  const int64_t delay = backoffDelayMs(state_.objectKey, state_.attempt);
  std::string message = orDefault(done_->message, (std::string(opName(done_->op)) + " failed").c_str());
  message += " (retry " + std::to_string(state_.attempt + 1) + " in " + std::to_string(delay) + " ms)";
  emitStatus(state_.deleting ? kTerminating : kProgressing, false, orDefault(done_->reason, kReasonReconcileError),
             std::move(message));
  armTimer(delay);
  ++state_.attempt;
}

void FoldContext::userError() {
  state_.userErrorReason = orDefault(done_->reason, "UserError");
  emitStatus(kProgressing, false, state_.userErrorReason,
             orDefault(done_->message, "the request cannot be served as specified; fix the spec"));
}

void FoldContext::checkDeletion() { issue(Op::kCheckDeletion); }

void FoldContext::blockDeletion() {
  emitStatus(kTerminating, false, kReasonUserResourcesPresent,
             orDefault(done_->message, "resources users created from the service's kinds block its deletion"));
  armTimer(kDeletionRecheckMs);
}

void FoldContext::recheckDeletion() { issue(Op::kCheckDeletion); }

void FoldContext::deleteService() {
  emitStatus(kTerminating, false, kReasonDeleting, "deleting the service");
  issue(Op::kDelete);
}

void FoldContext::removeFinalizer() {
  emitStatus(kTerminating, false, kReasonDeleting, "the service is gone; removing the finalizer");
  issue(Op::kRemoveFinalizer);
}

void FoldContext::finalizerRemoved() { note("finalizer removed"); }

void FoldContext::freshStart() {
  // A recreated object: start over, keeping the config facts, the key and the id
  // counter (so effect ids and timer tokens of the old object stay stale).
  State fresh;
  fresh.objectKey = state_.objectKey;
  fresh.nextEffectId = state_.nextEffectId;
  fresh.configPresent = state_.configPresent;
  fresh.pollIntervalMs = state_.pollIntervalMs;
  fresh.configHash = state_.configHash;
  state_ = std::move(fresh);
  applySeen(*seen_);
  note("recreated object: fresh start");
}

void FoldContext::forget() {
  state_.inflightEffect.reset();
  state_.timerToken = 0;
  note("object gone");
}

FoldResult FoldContext::finish(const Input& input) && {
  FoldResult r;
  if (rejectReason_.empty() && unhandled_) {
    rejectReason_ = "no transition for this input";
  }
  if (!rejectReason_.empty()) {
    r.state = before_;
    r.rejected = true;
    r.reason = describe(input) + " rejected in phase " + phaseName(before_.phase) + ": " + rejectReason_;
    return r;
  }
  r.reason.reserve(28 + note_.size());
  r.reason.append(phaseName(before_.phase)).append(" -> ").append(phaseName(state_.phase));
  if (!note_.empty()) r.reason.append(": ").append(note_);
  r.state = std::move(state_);
  r.commands = std::move(commands_);
  return r;
}

}  // namespace spr::lifecycle::detail
