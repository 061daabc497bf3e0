// Reconciler: the worker side (fold -> journal -> effect -> journal -> fold).
#include <chrono>

#include "common/log.h"
#include "core/fold/fold_input.h"
#include "runtime/object_util.h"
#include "runtime/reconciler.h"

namespace spr::runtime {

using nlohmann::json;
namespace lc = lifecycle;

void Reconciler::process(const std::string& key) {
  Entry* entry = find(key);
  if (!entry) return;
  auto t0 = std::chrono::steady_clock::now();
  bool any = false;
  while (!stopping_ && step(entry)) any = true;
  if (any) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bool error = entry->state.phase == lc::Phase::kBackoff;
    deps_.metrics->reconcile(error ? "error" : (entry->timerToken ? "requeue_after" : "success"), secs);
  }
}

// One unit of work: the next pending command, else the next mailbox input.
// Returns false when there was nothing to do (or the operator stopped).
bool Reconciler::step(Entry* entry) {
  if (!entry->pending.empty()) {
    PendingCommand command = std::move(entry->pending.front());
    entry->pending.pop_front();
    return runCommand(entry, command).isOk();
  }
  MailItem item;
  {
    std::lock_guard<std::mutex> lock(entry->mu);
    if (entry->mailbox.empty()) return false;
    item = std::move(entry->mailbox.front());
    entry->mailbox.pop_front();
  }
  Status status;
  if (auto* observed = std::get_if<ObservedItem>(&item)) status = handle(entry, *observed);
  if (auto* config = std::get_if<ConfigItem>(&item)) status = handle(entry, *config);
  if (auto* timer = std::get_if<TimerItem>(&item)) status = handle(entry, *timer);
  if (auto* resolve = std::get_if<ResolveItem>(&item)) status = handle(entry, *resolve);
  if (auto* resync = std::get_if<ResyncItem>(&item)) status = handle(entry, *resync);
  return status.isOk();
}

// Within one watch, events arrive in resourceVersion order. After our own write returned
// version awaitRv, every event of that watch before the one carrying awaitRv is older than
// what the fold already took (the write's result), so it is not folded; the event equal to
// awaitRv, any later one, and events of a list completed after the write are (a re-list
// in between ends the wait, see handle(ResyncItem)). A DELETED event always is.
namespace {

// Events of the same watch skipped while waiting for our own write's event: past this,
// the wait ends (the write's event may never come, e.g. a re-list we could not tell).
constexpr int kMaxSkips = 16;

// The version an event carries: the object's own metadata.resourceVersion (what a write's
// response carries too), else the event's.
std::string versionOf(const json& object, const std::string& eventRv) {
  if (object.is_object()) {
    auto meta = object.find("metadata");
    if (meta != object.end() && meta->is_object()) {
      auto rv = meta->find("resourceVersion");
      if (rv != meta->end() && rv->is_string() && !rv->get<std::string>().empty()) return rv->get<std::string>();
    }
  }
  return eventRv;
}

}  // namespace

bool Reconciler::staleObserved(Entry* entry, const ObservedItem& item) {
  if (entry->awaitRv.empty() || !std::holds_alternative<lc::ObjectSeen>(item.input)) {
    entry->awaitRv.clear();
    entry->awaiting = false;
    entry->skipped.reset();
    return false;
  }
  // An event of a list that completed after our write is not older than it.
  if (versionOf(item.object, item.resourceVersion) == entry->awaitRv || item.watchEpoch > entry->awaitEpoch) {
    entry->awaitRv.clear();
    entry->awaiting = false;
    entry->skipped.reset();
    return false;
  }
  log::debug("older than the object's own write: not folded", {{"object", entry->state.objectKey},
                                                               {"seq", item.seq},
                                                               {"resourceVersion", item.resourceVersion},
                                                               {"waitingFor", entry->awaitRv}});
  entry->skipped = item;
  if (++entry->skips > kMaxSkips) {  // never wait forever for an event that may not come
    entry->awaitRv.clear();
    entry->awaiting = false;
    entry->skipped.reset();
    return false;
  }
  return true;
}

// Our write returned `updated`: wait for the watch to deliver that version, unless it is
// the version the watch delivered last (a write that changed nothing bumps no version).
void Reconciler::awaitOwnWrite(Entry* entry, const json& updated, uint64_t epochAtStart) {
  const json meta = updated.value("metadata", json::object());
  const json rv = meta.value("resourceVersion", json());
  if (!rv.is_string() || rv.get<std::string>().empty() || rv.get<std::string>() == entry->lastSeenRv) return;
  entry->awaitRv = rv.get<std::string>();
  entry->awaiting = true;
  // A list completed after the write started may already hold it (then the watch never
  // delivers it): its events, and later ones, count as newer.
  entry->awaitEpoch = epochAtStart;
  entry->skipped.reset();
  entry->skips = 0;
}

Status Reconciler::handle(Entry* entry, const ResyncItem&) {
  if (entry->awaitRv.empty()) return Status();
  entry->awaitRv.clear();
  entry->awaiting = false;
  if (!entry->skipped) return Status();
  ObservedItem latest = std::move(*entry->skipped);  // the list's view: newer, or the watch brings ours next
  entry->skipped.reset();
  latest.watchEpoch = watchEpoch_.load();
  return handle(entry, latest);
}

Status Reconciler::handle(Entry* entry, const ObservedItem& observed) {
  entry->lastSeenRv = versionOf(observed.object, observed.resourceVersion);
  if (staleObserved(entry, observed)) {
    entry->lastObservedSeq = observed.seq;
    noteFolded(observed.seq);
    return Status();
  }
  if (std::holds_alternative<lc::ObjectSeen>(observed.input)) entry->object = observed.object;
  entry->lastObservedSeq = observed.seq;
  const json meta = observed.object.value("metadata", json::object());
  std::string cause = "Observed seq " + std::to_string(observed.seq) + " " + lc::describe(observed.input) + " rv " +
                      meta.value("resourceVersion", "");
  Status status = foldInput(entry, observed.input, observed.seq, cause);
  noteFolded(observed.seq);
  return status;
}

Status Reconciler::handle(Entry* entry, const ConfigItem& config) {
  const lc::State& s = entry->state;
  if (s.configPresent == config.config.present && s.configHash == config.config.configHash &&
      s.pollIntervalMs == config.config.pollIntervalMs && entry->lastObservedSeq != 0)
    return Status();  // nothing changed for this object
  return foldInput(entry, config.config, config.seq,
                   "ConfigSeen seq " + std::to_string(config.seq) + " " + lc::describe(lc::Input(config.config)));
}

Status Reconciler::handle(Entry* entry, const TimerItem& timer) {
  if (timer.token != entry->timerToken) return Status();  // superseded by a newer timer
  entry->timerToken = 0;
  journal::Record record = newRecord(*entry);
  record.payload = journal::TimerFired{"requeue", timer.token, timer.dueUnixNanos};
  auto seq = appendOne(std::move(record), journal::Sync::kNone);
  if (!seq) return seq.status();
  return foldInput(entry, lc::TimerFired{timer.token}, *seq, "TimerFired seq " + std::to_string(*seq));
}

// Restart: the effect's request is journaled but its completion is not. A Create runs
// again under the same effect id, Observe first (EffectExecutor's resume), so each service
// has one Create effect in the journal however often spr is killed. Any other effect is
// recorded as Unknown and the fold resolves it by Observe (never a blind repeat).
Status Reconciler::handle(Entry* entry, const ResolveItem& resolve) {
  // Killed after the EffectCompleted was journaled but before it was folded: fold that
  // record (the effect has its one completion already).
  auto completion = findCompletion(*entry, resolve.effectId);
  if (!completion) return completion.status();
  if (*completion) return foldCompletion(entry, **completion);
  if (resolve.op == lc::Op::kCreate) {
    PendingCommand create;
    create.command.op = lc::Op::kCreate;
    create.command.effectId = resolve.effectId;
    {
      std::lock_guard<std::mutex> lock(configMu_);
      create.config = config_;
      create.configSeq = configSeq_;
    }
    return runCommand(entry, create, /*resume=*/true);
  }
  lc::EffectDone unknown;
  unknown.effectId = resolve.effectId;
  unknown.op = resolve.op;
  unknown.outcome = lc::Outcome::kUnknown;
  unknown.message = "spr restarted before the effect completed";
  journal::Record record = newRecord(*entry);
  record.payload = fold::completedOf(unknown, "Unknown", json::object(), {});
  const lc::EffectDone done = fold::effectDoneOf(std::get<journal::EffectCompleted>(record.payload));
  auto seq = appendOne(std::move(record), journal::Sync::kNone);
  if (!seq) return seq.status();
  return foldInput(entry, done, *seq, "EffectCompleted seq " + std::to_string(*seq) + " (restart)");
}

// The object's EffectCompleted for `effectId`, if one is journaled (effect ids are unique
// per object). Only the object's latest records can hold it: it is looked for at restart.
Result<std::optional<journal::Record>> Reconciler::findCompletion(const Entry& entry, uint64_t effectId) const {
  auto records = deps_.journal->readObject(entry.id.key(), journal::Order::kNewestFirst, 64);
  if (!records) return records.status();
  for (const auto& r : *records) {
    const auto* c = std::get_if<journal::EffectCompleted>(&r.payload);
    if (c && c->effectId == effectId) return std::optional<journal::Record>(r);
  }
  return std::optional<journal::Record>();
}

Status Reconciler::foldCompletion(Entry* entry, const journal::Record& record) {
  const lc::EffectDone done = fold::effectDoneOf(std::get<journal::EffectCompleted>(record.payload));
  return foldInput(entry, done, record.seq,
                   "EffectCompleted seq " + std::to_string(record.seq) + " (journaled before a restart, folded after)");
}

Status Reconciler::foldInput(Entry* entry, const lc::Input& input, uint64_t inputSeq, const std::string& cause) {
  lc::FoldResult result = lc::fold(entry->state, input);
  const lc::Phase fromPhase = entry->state.phase;
  std::string from = lc::phaseName(fromPhase);
  std::vector<lc::Command> commands;
  const lc::RequeueAfter* requeue = nullptr;
  for (const auto& any : result.commands) {
    if (auto* c = std::get_if<lc::Command>(&any)) commands.push_back(*c);
    if (auto* r = std::get_if<lc::RequeueAfter>(&any)) requeue = r;
  }
  Entry& e = *entry;
  if (!result.rejected) e.state = result.state;
  if (requeue) armTimer(entry, *requeue);

  // The config the commands will see is the one their EffectRequested names.
  json config;
  uint64_t configSeq = 0;
  {
    std::lock_guard<std::mutex> lock(configMu_);
    config = config_;
    configSeq = configSeq_;
  }
  journal::AppendBatch batch;
  journal::Record transition = newRecord(e);
  transition.payload = fold::transitionOf(fromPhase, result, input, inputSeq);
  batch.records.push_back(std::move(transition));
  // A deleted object with nothing left to run leaves the state table (its history stays
  // in the log), in the same batch as its last Transition.
  if (e.state.phase == lc::Phase::kDeleted && commands.empty() && !e.state.inflightEffect) {
    batch.deleteStates.push_back(e.id.key());
    if (e.skipped) {  // a held-back event of the deleted object is history now, not input
      noteFolded(e.skipped->seq);
      e.skipped.reset();
    }
  } else
    batch.states.emplace_back(e.id.key(), stateBlob(e));
  batch.meta.emplace_back(kMetaLowWater, lowWater());
  addEffectRequests(e, commands, inputSeq, configSeq, &batch);
  // No effect runs before its request is durable.
  batch.sync = commands.empty() ? journal::Sync::kNone : journal::Sync::kSync;
  auto seqs = appendBatch(std::move(batch));
  if (!seqs) return seqs.status();
  if (!commands.empty() && crashed("requested", commands.front())) return Status(Code::kUnavailable, "crashed (test)");
  for (const auto& c : commands) e.pending.push_back(PendingCommand{c, config, configSeq});
  logFold(e, result, from, inputSeq, cause);
  publishView(e);
  return Status();
}

void Reconciler::addEffectRequests(const Entry& e, const std::vector<lc::Command>& commands, uint64_t inputSeq,
                                   uint64_t configSeq, journal::AppendBatch* batch) const {
  const json meta = e.object.is_object() ? e.object.value("metadata", json::object()) : json::object();
  for (const auto& c : commands) {
    journal::Record request = newRecord(e);
    json in = {{"objectResourceVersion", meta.value("resourceVersion", "")},
               {"generation", e.state.generation},
               {"configSeq", configSeq}};
    request.payload = fold::requestedOf(c, std::move(in), inputSeq);
    batch->records.push_back(std::move(request));
  }
}

void Reconciler::logFold(const Entry& e, const lc::FoldResult& result, const std::string& from, uint64_t inputSeq,
                         const std::string& cause) const {
  json fields = {{"object", e.state.objectKey},
                 {"tenant", e.tenant},
                 {"reconcileID", inputSeq},
                 {"cause", cause},
                 {"from", from},
                 {"to", lc::phaseName(e.state.phase)}};
  if (result.rejected) {
    fields["rejected"] = result.reason;
    log::debug("fold", fields);
    return;
  }
  std::string cmds;
  for (const auto& any : result.commands) cmds += (cmds.empty() ? "" : ", ") + lc::describe(any);
  fields["commands"] = cmds;
  log::info("reconcile", fields);
}

void Reconciler::armTimer(Entry* entry, const lc::RequeueAfter& requeue) {
  // delayScale shortens backoff and not-ready requeues (tests); the ProviderConfig's
  // pollInterval, which arms the timer in Ready, is taken as configured.
  double scale = entry->state.phase == lc::Phase::kReady ? 1.0 : deps_.delayScale;
  // Polls are spread over [0.9, 1.1] x pollInterval by a hash of (object, token), so
  // requests created together do not poll together; deterministic, the fold stays pure.
  if (entry->state.phase == lc::Phase::kReady) {
    uint64_t h = std::stoull(fnv1aHex(entry->id.key() + "#" + std::to_string(requeue.token)), nullptr, 16);
    scale = 0.9 + 0.2 * static_cast<double>(h % 10001) / 10000.0;
  }
  int64_t delayMs = static_cast<int64_t>(static_cast<double>(requeue.delayMs) * scale);
  if (delayMs < 1) delayMs = 1;
  entry->timerToken = requeue.token;
  entry->timerDueUnixNanos = deps_.clock->nowUnixNanos() + delayMs * 1000000;
  std::string key = entry->id.key();
  TimerItem item{requeue.token, entry->timerDueUnixNanos, entry->state.phase == lc::Phase::kReady};
  deps_.timers->schedule(std::chrono::milliseconds(delayMs), [this, key, item] {
    if (Entry* e = find(key)) enqueue(e, item);
  });
}

bool Reconciler::crashed(const char* point, const lc::Command& command) {
  if (!deps_.crashAt || !deps_.crashAt(point, command)) return false;
  stopping_ = true;
  fatal_ = true;  // journals nothing more, as if killed here
  return true;
}

// The EffectCompleted and, in the same batch, the state blob, so a restart before the
// fold still starts the next effect from the object this one left (as replay does).
journal::AppendBatch Reconciler::completionBatch(const Entry& entry, EffectOutput* out) const {
  journal::Record record = newRecord(entry);
  record.payload = fold::completedOf(out->done, out->errorClass, out->result, std::move(out->tape));
  journal::AppendBatch batch;
  batch.records.push_back(std::move(record));
  batch.states.emplace_back(entry.id.key(), stateBlob(entry));
  return batch;
}

Status Reconciler::runCommand(Entry* entry, const PendingCommand& pending, bool resume) {
  const lc::Command& command = pending.command;
  bool providerOp = command.op == lc::Op::kObserve || command.op == lc::Op::kCreate || command.op == lc::Op::kUpdate ||
                    command.op == lc::Op::kDelete || command.op == lc::Op::kCheckDeletion;
  if (providerOp && !deps_.limiter->acquire()) return Status(Code::kUnavailable, "stopping");
  if (fatal_) return Status(Code::kIoError, "journal failed");
  EffectInput input;
  input.command = command;
  input.object = entry->object;
  input.phase = entry->state.phase;
  input.resume = resume;
  input.config = pending.config;
  input.configSeq = pending.configSeq;
  const uint64_t epochAtStart = watchEpoch_.load();
  EffectOutput out = deps_.runner->run(input);
  if (out.interrupted) {  // shutdown cut it short: journal nothing, the restart resolves it
    log::info("effect interrupted by shutdown; the restart resolves it",
              {{"object", entry->id.key()}, {"op", lc::opName(command.op)}, {"effectId", command.effectId}});
    return Status(Code::kUnavailable, "stopping: effect interrupted");
  }
  out.done.effectId = command.effectId;
  out.done.op = command.op;
  deps_.metrics->effect(lc::opName(command.op), lc::outcomeName(out.done.outcome));
  if (out.updatedObject.is_object()) {
    entry->object = out.updatedObject;
    awaitOwnWrite(entry, out.updatedObject, epochAtStart);
  }
  journal::AppendBatch batch = completionBatch(*entry, &out);
  // What is folded is what replay will read back from the record: one mapping.
  const lc::EffectDone done = fold::effectDoneOf(std::get<journal::EffectCompleted>(batch.records.front().payload));
  auto seqs = appendBatch(std::move(batch));
  if (!seqs) return seqs.status();
  const uint64_t* seq = &seqs->front();
  if (crashed("completed", command)) return Status(Code::kUnavailable, "crashed (test)");
  if (out.unauthorized) fatal(Status(Code::kUnauthorized, out.done.message));
  std::string cause = "EffectCompleted seq " + std::to_string(*seq) + " " + lc::opName(command.op) + " " +
                      lc::outcomeName(out.done.outcome) + (resume ? " (resumed after restart)" : "");
  return foldInput(entry, done, *seq, cause);
}

std::string Reconciler::stateBlob(const Entry& e) const {
  json blob = {{"lifecycle", json::parse(lc::toJson(e.state))},
               {"object", json::parse(deps_.redact(e.object.is_object() ? e.object : json::object()))},
               {"tenant", e.tenant},
               {"uid", e.id.uid},
               {"lastObservedSeq", e.lastObservedSeq},
               {"timer", {{"token", e.timerToken}, {"dueUnixNanos", e.timerDueUnixNanos}}}};
  return blob.dump();
}

void Reconciler::publishView(const Entry& e) {
  ObjectView v;
  v.key = e.state.objectKey;
  v.ns = e.id.ns;
  v.name = e.id.name;
  v.tenant = e.tenant;
  v.phase = lc::phaseName(e.state.phase);
  v.statusPhase = e.state.status.phase;
  v.reason = e.state.status.reason;
  v.message = e.state.status.message;
  v.ready = e.state.status.ready;
  v.deleted = e.state.phase == lc::Phase::kDeleted;
  std::string key = e.id.key();
  std::lock_guard<std::mutex> lock(viewMu_);
  sortedSlot(views_, std::move(key)) = std::move(v);
}

std::vector<ObjectView> Reconciler::views() const {
  std::lock_guard<std::mutex> lock(viewMu_);
  std::vector<ObjectView> out;
  for (const auto& [k, v] : views_) out.push_back(v);
  return out;
}

}  // namespace spr::runtime
