// The lifecycle transition table as a Boost.MSM state machine, and fold().
// This is the only translation unit that includes Boost.MSM. Each fold() call builds a
// machine, restores the stored phase (evRestore), then processes one event; the actions
// live in FoldContext (plain C++). Rules and table: LIFECYCLE.md.
// MSM 1.74 includes headers Boost itself has since deprecated; keep the build quiet.
#define BOOST_ALLOW_DEPRECATED_HEADERS
#define BOOST_BIND_GLOBAL_PLACEHOLDERS
#include <boost/mpl/back_inserter.hpp>
#include <boost/mpl/copy.hpp>
#include <boost/mpl/vector.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

#include "core/statemachine/fold_context.h"
#include "core/statemachine/lifecycle.h"

namespace spr::lifecycle {
namespace {

namespace mpl = boost::mpl;
namespace msmf = boost::msm::front;
using detail::FoldContext;
using detail::Next;
using detail::Route;

// ---- events (the data they refer to is held by the FoldContext)
struct evRestore {};
struct evWake {};
struct evFreshStart {};
struct evGone {};
struct evResume {};
struct evObserved {};
struct evFailed {};
struct evFinalizerRemoved {};
struct evChecked {};

// ---- actions and guards: thin adapters onto FoldContext
template <void (FoldContext::*F)()>
struct Do {
  template <class E, class M, class S, class T>
  void operator()(const E&, M& m, S&, T&) const {
    (m.ctx->*F)();
  }
};
template <bool (FoldContext::*F)() const>
struct If {
  template <class E, class M, class S, class T>
  bool operator()(const E&, M& m, S&, T&) const {
    return (m.ctx->*F)();
  }
};
template <Next N>
struct Decided {
  template <class E, class M, class S, class T>
  bool operator()(const E&, M& m, S&, T&) const {
    return m.ctx->next() == N;
  }
};
template <Phase P>
struct WasIn {
  template <class E, class M, class S, class T>
  bool operator()(const E&, M& m, S&, T&) const {
    return m.ctx->restoredPhase() == P;
  }
};

using StartDeletion = Do<&FoldContext::startDeletion>;
using MarkDeleted = Do<&FoldContext::markDeleted>;
using Ignore = Do<&FoldContext::ignore>;
using ClearAnnotation = Do<&FoldContext::clearAnnotation>;
using ConfigMissing = Do<&FoldContext::configMissing>;
using AddFinalizer = Do<&FoldContext::addFinalizer>;
using Observe = Do<&FoldContext::observe>;
using ObserveAgain = Do<&FoldContext::reobserveDeletion>;
using Create = Do<&FoldContext::create>;
using Update = Do<&FoldContext::update>;
using BecomeReady = Do<&FoldContext::becomeReady>;
using WaitNotReady = Do<&FoldContext::waitNotReady>;
using Backoff = Do<&FoldContext::backoff>;
using UserError = Do<&FoldContext::userError>;
using CheckDeletion = Do<&FoldContext::checkDeletion>;
using BlockDeletion = Do<&FoldContext::blockDeletion>;
using RecheckDeletion = Do<&FoldContext::recheckDeletion>;
using DeleteService = Do<&FoldContext::deleteService>;
using RemoveFinalizer = Do<&FoldContext::removeFinalizer>;
using FinalizerRemoved = Do<&FoldContext::finalizerRemoved>;
using FreshStart = Do<&FoldContext::freshStart>;
using Forget = Do<&FoldContext::forget>;

using MayCreate = If<&FoldContext::mayCreate>;
using Drifted = If<&FoldContext::serviceDrifted>;
using IsReady = If<&FoldContext::serviceReady>;
using NotReady = If<&FoldContext::serviceNotReady>;
using Exists = If<&FoldContext::serviceExists>;
using Absent = If<&FoldContext::confirmedAbsent>;
using UserFault = If<&FoldContext::userFault>;
using Transient = If<&FoldContext::transientFault>;
using Blocked = If<&FoldContext::deletionBlocked>;
using Clear = If<&FoldContext::deletionClear>;

// ---- states: entering one records its phase in the context
template <Phase P>
struct PhaseState : msmf::state<> {
  template <class E, class M>
  void on_entry(const E&, M& m) {
    m.ctx->setPhase(P);
  }
};
struct Restoring : msmf::state<> {};
struct Decide : msmf::state<> {  // junction: leaves at once by an anonymous transition
  template <class E, class M>
  void on_entry(const E&, M& m) {
    m.ctx->enterDecide();
  }
};
using Pending = PhaseState<Phase::kPending>;
using Observing = PhaseState<Phase::kObserving>;
using Creating = PhaseState<Phase::kCreating>;
using Updating = PhaseState<Phase::kUpdating>;
using Ready = PhaseState<Phase::kReady>;
using Deleting = PhaseState<Phase::kDeleting>;
using Deleted = PhaseState<Phase::kDeleted>;
using BackingOff = PhaseState<Phase::kBackoff>;
using UserErrored = PhaseState<Phase::kUserError>;
using Ignored = PhaseState<Phase::kIgnored>;
using DeletionBlocked = PhaseState<Phase::kDeletionBlocked>;

using msmf::none;
using msmf::Row;

// clang-format off
// Restore the stored phase (one row per phase).
using RestoreRows = mpl::vector<
  Row<Restoring, evRestore, Pending,     none, WasIn<Phase::kPending>>,
  Row<Restoring, evRestore, Observing,   none, WasIn<Phase::kObserving>>,
  Row<Restoring, evRestore, Creating,    none, WasIn<Phase::kCreating>>,
  Row<Restoring, evRestore, Updating,    none, WasIn<Phase::kUpdating>>,
  Row<Restoring, evRestore, Ready,       none, WasIn<Phase::kReady>>,
  Row<Restoring, evRestore, Deleting,    none, WasIn<Phase::kDeleting>>,
  Row<Restoring, evRestore, Deleted,     none, WasIn<Phase::kDeleted>>,
  Row<Restoring, evRestore, BackingOff,  none, WasIn<Phase::kBackoff>>,
  Row<Restoring, evRestore, UserErrored, none, WasIn<Phase::kUserError>>,
  Row<Restoring, evRestore, Ignored,     none, WasIn<Phase::kIgnored>>,
  Row<Restoring, evRestore, DeletionBlocked, none, WasIn<Phase::kDeletionBlocked>>>;

// The Decide junction: where to go from the facts alone (fold_context.cpp: decide()).
// Reached when something relevant changed, a timer came due, or an effect finished.
using DecideRows = mpl::vector<
  Row<Decide, none, Deleted,     MarkDeleted,     Decided<Next::kDeleted>>,
  Row<Decide, none, Deleting,    StartDeletion,   Decided<Next::kDelete>>,
  Row<Decide, none, Ignored,     Ignore,          Decided<Next::kIgnore>>,
  Row<Decide, none, Observing,   ClearAnnotation, Decided<Next::kClearAnnotation>>,
  Row<Decide, none, UserErrored, ConfigMissing,   Decided<Next::kConfigMissing>>,
  Row<Decide, none, Pending,     AddFinalizer,    Decided<Next::kAddFinalizer>>,
  Row<Decide, none, Observing,   Observe,         Decided<Next::kObserve>>,
  // Waiting phases wake up on a relevant change or their timer.
  Row<Pending,     evWake, Decide>,
  Row<Observing,   evWake, Decide>,
  Row<Ready,       evWake, Decide>,
  Row<BackingOff,  evWake, Decide>,
  Row<UserErrored, evWake, Decide>,
  Row<Ignored,     evWake, Decide>,
  Row<Deleted,     evFreshStart, Decide, FreshStart>,
  // An effect finished and the next step follows from the facts.
  Row<Pending,     evResume, Decide>,
  Row<Observing,   evResume, Decide>,
  Row<Creating,    evResume, Decide>,
  Row<Updating,    evResume, Decide>>;

// Results of the in-flight effect.
using EffectRows = mpl::vector<
  Row<Observing, evObserved, Creating,   Create,       MayCreate>,
  Row<Observing, evObserved, Updating,   Update,       Drifted>,
  Row<Observing, evObserved, Ready,      BecomeReady,  IsReady>,
  Row<Observing, evObserved, Observing,  WaitNotReady, NotReady>,
  Row<Pending,   evFailed,   BackingOff, Backoff>,   // finalizer ops: always transient
  Row<Observing, evFailed,   BackingOff, Backoff,   Transient>,
  Row<Observing, evFailed,   UserErrored, UserError, UserFault>,
  Row<Creating,  evFailed,   BackingOff, Backoff,   Transient>,
  Row<Creating,  evFailed,   UserErrored, UserError, UserFault>,
  Row<Updating,  evFailed,   BackingOff, Backoff,   Transient>,
  Row<Updating,  evFailed,   UserErrored, UserError, UserFault>,
  // Deletion: Observe -> CheckDeletion -> Delete -> Observe ... until absent -> RemoveFinalizer.
  Row<Deleting,  evObserved, none,       CheckDeletion,   Exists>,
  Row<Deleting,  evObserved, none,       RemoveFinalizer, Absent>,
  Row<Deleting,  evResume,   none,       ObserveAgain>,
  Row<Deleting,  evFailed,   BackingOff, Backoff>,   // user errors too: keep deleting
  Row<Deleting,  evFinalizerRemoved, Deleted, FinalizerRemoved>>;

// Deletion blocking: users' resources of the service's kinds hold the Delete back.
using BlockingRows = mpl::vector<
  Row<Deleting,        evChecked, none,            DeleteService,   Clear>,
  Row<Deleting,        evChecked, DeletionBlocked, BlockDeletion,   Blocked>,
  Row<DeletionBlocked, evWake,    Deleting,        RecheckDeletion>,
  Row<DeletionBlocked, evGone,    Deleted,         Forget>>;

// The API object is gone: terminal from every live phase.
using GoneRows = mpl::vector<
  Row<Pending,     evGone, Deleted, Forget>,
  Row<Observing,   evGone, Deleted, Forget>,
  Row<Creating,    evGone, Deleted, Forget>,
  Row<Updating,    evGone, Deleted, Forget>,
  Row<Ready,       evGone, Deleted, Forget>,
  Row<Deleting,    evGone, Deleted, Forget>,
  Row<BackingOff,  evGone, Deleted, Forget>,
  Row<UserErrored, evGone, Deleted, Forget>,
  Row<Ignored,     evGone, Deleted, Forget>>;
// clang-format on

// MPL's numbered vectors stop at 20 elements; join the parts.
template <class A, class B>
using Join = typename mpl::copy<B, mpl::back_inserter<A>>::type;

struct LifecycleDef : msmf::state_machine_def<LifecycleDef> {
  using initial_state = Restoring;
  // One event per machine and no throwing actions: skip MSM's event queue (a deque
  // allocated per machine) and its try/catch.
  using no_message_queue = int;
  using no_exception_thrown = int;
  using transition_table = Join<Join<Join<Join<RestoreRows, DecideRows>, EffectRows>, GoneRows>, BlockingRows>;

  // No row matched (or every guard said no): the input is not valid in this phase.
  template <class M, class E>
  void no_transition(const E&, M& m, int) {
    m.ctx->noTransition();
  }

  FoldContext* ctx = nullptr;  // set by fold() before start(); outlives the machine
};
using Lifecycle = boost::msm::back::state_machine<LifecycleDef>;

void dispatch(Lifecycle& m, Route route) {
  switch (route) {
    case Route::kReject:
    case Route::kAbsorb: return;
    case Route::kWake: m.process_event(evWake{}); return;
    case Route::kFreshStart: m.process_event(evFreshStart{}); return;
    case Route::kGone: m.process_event(evGone{}); return;
    case Route::kResume: m.process_event(evResume{}); return;
    case Route::kObserved: m.process_event(evObserved{}); return;
    case Route::kFailed: m.process_event(evFailed{}); return;
    case Route::kFinalizerRemoved: m.process_event(evFinalizerRemoved{}); return;
    case Route::kChecked: m.process_event(evChecked{}); return;
  }
}

}  // namespace

FoldResult fold(const State& state, const Input& input) {
  FoldContext ctx(state);
  const Route route = ctx.route(input);
  if (route != Route::kReject && route != Route::kAbsorb) {
    Lifecycle machine;
    machine.ctx = &ctx;
    machine.start();
    machine.process_event(evRestore{});
    dispatch(machine, route);
  }
  if (route != Route::kReject) ctx.settleStatus();
  return std::move(ctx).finish(input);
}

}  // namespace spr::lifecycle
