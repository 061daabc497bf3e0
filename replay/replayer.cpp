#include "replay/replayer.h"

#include <algorithm>
#include <array>

#include "replay/inputs.h"
#include "replay/record_json.h"
#include "replay/rfc3339.h"

namespace spr::replay {

using nlohmann::json;
namespace lc = lifecycle;

namespace {

std::vector<lc::Command> commandsOf(const lc::FoldResult& result) {
  std::vector<lc::Command> out;
  for (const auto& any : result.commands)
    if (const auto* c = std::get_if<lc::Command>(&any)) out.push_back(*c);
  return out;
}

// "WriteStatus #7": a command by its typed identity (never its describe() text).
std::string commandName(const lc::Command& c) {
  return std::string(lc::opName(c.op)) + " #" + std::to_string(c.effectId);
}

std::string boolText(bool b) { return b ? "true" : "false"; }

// The first typed field where the journal's command and this build's differ, as
// {field, expected, got}; nullopt when they agree. The status message is human text.
std::optional<std::array<std::string, 3>> commandDifference(const lc::Command& want, const lc::Command& got) {
  if (want.op != got.op) return std::array<std::string, 3>{"op", lc::opName(want.op), lc::opName(got.op)};
  if (want.effectId != got.effectId)
    return std::array<std::string, 3>{"effectId", std::to_string(want.effectId), std::to_string(got.effectId)};
  if (want.op != lc::Op::kWriteStatus) return std::nullopt;
  const lc::StatusView &a = want.status, &b = got.status;
  if (a.phase != b.phase) return std::array<std::string, 3>{"status.phase", a.phase, b.phase};
  if (a.ready != b.ready) return std::array<std::string, 3>{"status.ready", boolText(a.ready), boolText(b.ready)};
  if (a.reason != b.reason) return std::array<std::string, 3>{"status.reason", a.reason, b.reason};
  if (a.observedGeneration != b.observedGeneration)
    return std::array<std::string, 3>{"status.observedGeneration", std::to_string(a.observedGeneration),
                                      std::to_string(b.observedGeneration)};
  return std::nullopt;
}

// A state as compared: every field but the status message (human text).
json comparableState(json state) {
  if (state.is_object() && state.contains("status") && state["status"].is_object()) state["status"].erase("message");
  return state;
}

// The first top-level field (or status.X) where two state JSONs differ.
std::array<std::string, 3> stateDifference(const json& recorded, const json& produced) {
  for (const auto& [key, value] : recorded.items()) {
    json other = produced.contains(key) ? produced[key] : json();
    if (other == value) continue;
    if (value.is_object() && other.is_object()) {
      for (const auto& [sub, v] : value.items())
        if (!other.contains(sub) || other[sub] != v)
          return {key + "." + sub, dumpLine(v), other.contains(sub) ? dumpLine(other[sub]) : "(absent)"};
    }
    return {key, dumpLine(value), dumpLine(other)};
  }
  for (const auto& [key, value] : produced.items())
    if (!recorded.contains(key)) return {key, "(absent)", dumpLine(value)};
  return {"", "", ""};
}

// Whether a tape entry reads or writes the API object itself (GET or PUT of
// .../namespaces/NS/PLURAL/NAME, or of its /status).
bool addressesObject(const journal::TapeEntry& e, const journal::ObjectId& id) {
  if (e.cluster != "onboarding" || (e.method != "GET" && e.method != "PUT")) return false;
  std::string path = e.path.substr(0, e.path.find('?'));
  const std::string status = "/status";
  if (path.size() > status.size() && path.compare(path.size() - status.size(), status.size(), status) == 0)
    path.resize(path.size() - status.size());
  const std::string tail = "/" + id.name, ns = "/namespaces/" + id.ns + "/";
  if (path.size() <= tail.size() || path.compare(path.size() - tail.size(), tail.size(), tail) != 0) return false;
  path.resize(path.size() - tail.size());
  const size_t at = path.rfind(ns);
  return at != std::string::npos && at + ns.size() < path.size() && path.find('/', at + ns.size()) == std::string::npos;
}

// The API object an effect that writes it (finalizer, annotation, status) left, as the
// live run took it: the answer to its last request for the object, if that succeeded
// (what a tape checker's re-run returns too); null when the effect left it unchanged.
json objectLeftBy(const lc::Command& command, const journal::EffectCompleted& c, const journal::ObjectId& id) {
  if (command.op != lc::Op::kAddFinalizer && command.op != lc::Op::kRemoveFinalizer &&
      command.op != lc::Op::kClearOperationAnnotation && command.op != lc::Op::kWriteStatus)
    return json();
  for (auto e = c.tape.rbegin(); e != c.tape.rend(); ++e) {
    if (!addressesObject(*e, id)) continue;
    if (e->status < 200 || e->status > 299) return json();
    json object = json::parse(e->responseBody, nullptr, false);
    return object.is_object() ? object : json();
  }
  return json();
}

}  // namespace

Replayer::Replayer(ReplayOptions options) : options_(std::move(options)) {
  if (!options_.fold) options_.fold = [](const lc::State& s, const lc::Input& in) { return lc::fold(s, in); };
}

ObjectReplay& Replayer::track(const journal::Record& r) {
  auto [it, created] = objects_.try_emplace(r.object.key());
  ObjectReplay& o = it->second;
  if (created) {
    o.id = r.object;
    o.tenant = r.tenant;
    o.state.objectKey = nsName(r.object);
  }
  return o;
}

void Replayer::remember(ObjectReplay& o, const journal::Record& r) {
  o.recent.push_back("seq " + std::to_string(r.seq) + " " + formatRfc3339(r.wallUnixNanos) + " " + summarize(r));
  while (o.recent.size() > options_.contextRecords) o.recent.pop_front();
}

void Replayer::diverge(const ObjectReplay& o, uint64_t seq, std::string what, std::string field, std::string expected,
                       std::string got, std::string note) {
  if (divergence_) return;
  Divergence d;
  d.object = nsName(o.id);
  d.objectKey = o.id.key();
  d.seq = seq;
  d.what = std::move(what);
  d.field = std::move(field);
  d.expected = std::move(expected);
  d.got = std::move(got);
  d.note = std::move(note);
  d.before.assign(o.recent.begin(), o.recent.end());
  divergence_ = std::move(d);
  stopped_ = true;
}

Status Replayer::preloadSnapshot(const journal::Record& snapshot) {
  const auto* s = std::get_if<journal::Snapshot>(&snapshot.payload);
  if (!s) return Status(Code::kInvalidArgument, "record " + std::to_string(snapshot.seq) + " is not a Snapshot");
  json doc = json::parse(s->stateJson, nullptr, false);
  if (!doc.is_object())
    return Status(Code::kCorruption, "snapshot record " + std::to_string(snapshot.seq) + " is not JSON");
  for (const auto& in : doc.value("inputs", json::array())) {
    auto r = recordFromJson(in);
    if (!r) return Status(Code::kCorruption, "snapshot " + std::to_string(snapshot.seq) + ": " + r.status().message());
    if (isConfigRecord(*r)) {
      configs_[r->seq] = *r;
    } else {
      track(*r).inputs[r->seq] = *r;
    }
  }
  if (!doc.contains("state") || !doc["state"].is_object()) return Status();
  const json& blob = doc["state"];
  auto state = lc::stateFromJson(blob.value("lifecycle", json::object()).dump());
  if (!state) return state.status();
  ObjectReplay& o = track(snapshot);
  o.state = *state;
  o.object = blob.value("object", json::object());
  o.started = true;
  for (const auto& p : doc.value("pending", json::array())) {
    if (!p.is_object() || !p.contains("command") || !p["command"].is_string() || !p.contains("effectId") ||
        !p["effectId"].is_number_unsigned())
      return Status(Code::kCorruption, "snapshot record " + std::to_string(snapshot.seq) +
                                           ": a pending effect needs a string command and an unsigned effectId");
    auto op = opFromName(p["command"].get<std::string>());
    if (!op)
      return Status(Code::kCorruption,
                    "snapshot record " + std::to_string(snapshot.seq) + ": " + op.status().message());
    lc::Command c;
    c.op = *op;
    c.effectId = p.value("effectId", uint64_t{0});
    if (p.contains("status") && p["status"].is_object()) {  // written since effects are snapshotted whole
      const json& s = p["status"];
      c.status.phase = s.value("phase", "");
      c.status.ready = s.value("ready", false);
      c.status.reason = s.value("reason", "");
      c.status.message = s.value("message", "");
      c.status.observedGeneration = s.value("observedGeneration", int64_t{0});
    }
    if (p.contains("requestedAt")) o.requestedAt[c.effectId] = p.value("requestedAt", int64_t{0});
    o.pending[c.effectId] = c;
  }
  return Status();
}

bool Replayer::feed(const journal::Record& r) {
  if (stopped_) return false;
  if (options_.untilSeq != 0 && r.seq > options_.untilSeq) {
    stopped_ = true;
    return false;
  }
  if (isConfigRecord(r)) {
    configs_[r.seq] = r;
    ++records_;
    return true;
  }
  if (r.object.kind.empty() || r.object.name.empty()) return true;
  if (std::holds_alternative<journal::ProcessStarted>(r.payload)) return true;  // no object's input
  if (r.object.cluster == "platform") return true;  // a compaction's config snapshot: preloaded
  if (!options_.objectKey.empty() && r.object.key() != options_.objectKey) return true;
  ++records_;  // counted only when checked: another object's record is not
  ObjectReplay& o = track(r);
  const auto* requested = std::get_if<journal::EffectRequested>(&r.payload);
  if (!o.expected.empty() && requested == nullptr) {
    diverge(o, r.seq, "command", "command", "none (the batch of seq " + std::to_string(o.expectedCause) + " ended)",
            commandName(o.expected.front()), "the journal has " + summarize(r) + " here");
    return false;
  }
  if (const auto* t = std::get_if<journal::Transition>(&r.payload)) onTransition(o, r, *t);
  if (requested) onRequested(o, r, *requested);
  if (const auto* c = std::get_if<journal::EffectCompleted>(&r.payload)) onCompleted(o, r, *c);
  if (std::holds_alternative<journal::Observed>(r.payload) || std::holds_alternative<journal::TimerFired>(r.payload))
    o.inputs[r.seq] = r;
  if (const auto* snap = std::get_if<journal::Snapshot>(&r.payload)) {
    // A snapshot met before anything was folded (an archive's start) restores the object.
    if (!o.started && snap->throughSeq < r.seq) {
      Status s = preloadSnapshot(r);
      if (!s.isOk()) diverge(o, r.seq, "input", "snapshot", "a readable snapshot", s.message());
    }
  }
  remember(o, r);
  o.lastSeq = r.seq;
  return !stopped_;
}

std::optional<journal::Record> Replayer::findInput(ObjectReplay& o, uint64_t seq) {
  auto it = o.inputs.find(seq);
  if (it != o.inputs.end()) return it->second;
  auto cit = configs_.find(seq);
  if (cit != configs_.end()) return cit->second;
  if (!lookup_) return std::nullopt;
  auto found = lookup_(seq);
  if (found && isConfigRecord(*found)) configs_[seq] = *found;
  return found;
}

void Replayer::onTransition(ObjectReplay& o, const journal::Record& r, const journal::Transition& t) {
  lc::Input input = lc::ConfigSeen{};  // inputSeq 0: the config was never seen (absent)
  if (t.inputSeq != 0) {
    auto in = findInput(o, t.inputSeq);
    std::optional<lc::Input> converted;
    if (in) converted = inputOf(*in, t.event);
    if (!converted)
      return diverge(o, r.seq, "input", "inputSeq", "an input record at seq " + std::to_string(t.inputSeq),
                     in ? "a " + std::string(journal::payloadKind(in->payload)) + ", not an input"
                        : "no such record in the replayed input",
                     "the journal folded: " + t.event);
    input = *converted;
    if (std::holds_alternative<journal::Observed>(in->payload) && !isConfigRecord(*in))
      o.lastWatchEventFolded = std::max(o.lastWatchEventFolded, t.inputSeq);
    if (std::holds_alternative<lc::ObjectSeen>(input) && !isConfigRecord(*in)) {
      const auto& obs = std::get<journal::Observed>(in->payload);
      o.object = json::parse(obs.objectJson, nullptr, false);
    }
  }
  lc::FoldResult result = options_.fold(o.state, input);
  const journal::Transition produced = fold::transitionOf(o.state.phase, result, input, t.inputSeq);
  const std::string note = "journal: " + t.event + " | this build: " + produced.event;
  if (produced.from != t.from)
    return diverge(o, r.seq, "state", "phase", t.from, produced.from,
                   "phase before folding seq " + std::to_string(t.inputSeq));
  if (fold::wasRejected(t) != produced.rejected)
    return diverge(o, r.seq, "transition", "rejected", boolText(fold::wasRejected(t)), boolText(produced.rejected),
                   note);
  if (produced.to != t.to) return diverge(o, r.seq, "transition", "to", t.to, produced.to, note);
  if (!result.rejected) o.state = result.state;
  o.inputs.erase(t.inputSeq);
  o.started = true;
  ++o.folds;
  ++folds_;
  o.expected = commandsOf(result);
  o.expectedCause = r.seq;
}

void Replayer::onRequested(ObjectReplay& o, const journal::Record& r, const journal::EffectRequested& q) {
  auto recorded = commandOf(q);
  if (!recorded) return diverge(o, r.seq, "command", "record", "a readable command", recorded.status().message());
  if (o.expected.empty())
    return diverge(o, r.seq, "command", "command", commandName(*recorded),
                   "none (the fold of seq " + std::to_string(q.causeSeq) + " asked for nothing more)");
  if (auto diff = commandDifference(*recorded, o.expected.front()))
    return diverge(o, r.seq, "command", (*diff)[0], (*diff)[1], (*diff)[2],
                   "journal: " + lc::describe(lc::AnyCommand(*recorded)) +
                       " | this build: " + lc::describe(lc::AnyCommand(o.expected.front())));
  o.expected.erase(o.expected.begin());
  // The journal's command runs against the tape: its human text (a reworded status
  // message) is the one the live run sent.
  o.pending[recorded->effectId] = *recorded;
  o.requestedAt[recorded->effectId] = r.wallUnixNanos;
  json in = json::parse(q.inputJson, nullptr, false);  // the ProviderConfig the live effect ran with
  if (in.is_object() && in.value("configSeq", uint64_t{0}) != 0)
    o.requestedConfig[recorded->effectId] = in.value("configSeq", uint64_t{0});
}

void Replayer::onCompleted(ObjectReplay& o, const journal::Record& r, const journal::EffectCompleted& c) {
  auto pending = o.pending.find(c.effectId);
  // An Unknown outcome is the runtime's restart marker: nothing ran, nothing to re-run.
  if (options_.effects != nullptr && pending != o.pending.end() && c.outcome != journal::Outcome::kUnknown) {
    EffectContext ctx;
    ctx.command = pending->second;
    ctx.object = o.object;
    ctx.phase = o.state.phase;
    ctx.completedSeq = r.seq;
    ctx.completedWallNanos = r.wallUnixNanos;
    auto at = o.requestedAt.find(c.effectId);
    if (at != o.requestedAt.end()) ctx.requestedWallNanos = at->second;
    // The live run read the config when the effect started: right after this object's
    // previous batch (its last record before this one).
    // Since the effect runs with the config its EffectRequested names, use that one
    // when it is known (older journals: the config in force as below).
    auto named = o.requestedConfig.find(c.effectId);
    if (named != o.requestedConfig.end() && !configs_.count(named->second)) (void)findInput(o, named->second);
    auto cfg = configs_.upper_bound(o.lastSeq != 0 ? o.lastSeq : r.seq);
    if (named != o.requestedConfig.end() && configs_.count(named->second))
      cfg = std::next(configs_.find(named->second));
    if (cfg != configs_.begin()) {
      --cfg;
      const auto& obs = std::get<journal::Observed>(cfg->second.payload);
      if (obs.type != journal::WatchType::kDeleted) ctx.config = json::parse(obs.objectJson, nullptr, false);
      ctx.configSeq = cfg->first;
      ctx.configName = cfg->second.object.name;
    }
    EffectCheck checked = options_.effects->check(ctx, c);
    if (checked.ran) {
      ++effectsChecked_;
      tapeRequests_ += c.tape.size();
    }
    if (checked.mismatch)
      return diverge(o, r.seq, checked.mismatch->what,
                     checked.mismatch->field.empty() ? checked.mismatch->what : checked.mismatch->field,
                     checked.mismatch->recorded, checked.mismatch->produced);
    if (checked.updatedObject.is_object()) o.object = checked.updatedObject;
  }
  // No checker re-ran it (compaction, --no-tapes): the object it wrote comes from its tape,
  // so a snapshot carries the object the live run's next effect starts from.
  if (options_.effects == nullptr && pending != o.pending.end() && c.outcome != journal::Outcome::kUnknown)
    if (json left = objectLeftBy(pending->second, c, o.id); left.is_object()) o.object = std::move(left);
  if (pending != o.pending.end()) {
    o.requestedAt.erase(c.effectId);
    o.requestedConfig.erase(c.effectId);
    o.pending.erase(pending);
  }
  o.inputs[r.seq] = r;
}

void Replayer::finish() {
  for (auto& [key, o] : objects_) {
    if (divergence_) return;
    if (!o.expected.empty())
      diverge(o, o.expectedCause, "command", "command",
              "none (the journal ends after the batch of seq " + std::to_string(o.expectedCause) + ")",
              commandName(o.expected.front()));
  }
}

void Replayer::checkStates(const std::function<std::optional<std::string>(const std::string& key)>& stateBlob) {
  for (auto& [key, o] : objects_) {
    if (divergence_) return;
    if (!o.started || o.folds == 0) continue;
    auto blob = stateBlob(key);
    if (!blob) continue;
    json recordedBlob = json::parse(*blob, nullptr, false);
    if (!recordedBlob.is_object() || !recordedBlob.contains("lifecycle")) continue;
    const json produced = comparableState(json::parse(lc::toJson(o.state)));
    const json recorded = comparableState(recordedBlob["lifecycle"]);
    if (recorded == produced) continue;
    auto diff = stateDifference(recorded, produced);
    diverge(o, o.lastSeq, "state", diff[0], diff[1], diff[2], "the state table against this build's folded state");
  }
}

}  // namespace spr::replay
