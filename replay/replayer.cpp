#include "replay/replayer.h"

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

std::string transitionText(const std::string& from, const std::string& to, const std::string& event) {
  return from + " -> " + to + ": " + event;
}

// "key: recorded value" lines for the top-level fields where two state JSONs differ.
std::pair<std::string, std::string> stateDiff(const json& recorded, const json& produced) {
  std::string r, p;
  for (const auto& [key, value] : recorded.items()) {
    json other = produced.contains(key) ? produced[key] : json();
    if (other == value) continue;
    r += (r.empty() ? "" : ", ") + key + "=" + dumpLine(value);
    p += (p.empty() ? "" : ", ") + key + "=" + dumpLine(other);
  }
  return {r, p};
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

void Replayer::diverge(const ObjectReplay& o, uint64_t seq, std::string what, std::string recorded,
                       std::string produced) {
  if (divergence_) return;
  Divergence d;
  d.object = nsName(o.id);
  d.objectKey = o.id.key();
  d.seq = seq;
  d.what = std::move(what);
  d.recorded = std::move(recorded);
  d.produced = std::move(produced);
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
    auto op = opFromName(p.value("command", ""));
    if (!op) return op.status();
    lc::Command c;
    c.op = *op;
    c.effectId = p.value("effectId", uint64_t{0});
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
  ++records_;
  if (isConfigRecord(r)) {
    configs_[r.seq] = r;
    return true;
  }
  if (r.object.kind.empty() || r.object.name.empty()) return true;
  if (r.object.cluster == "platform") return true;  // a compaction's config snapshot: preloaded
  if (!options_.objectKey.empty() && r.object.key() != options_.objectKey) return true;
  ObjectReplay& o = track(r);
  const auto* requested = std::get_if<journal::EffectRequested>(&r.payload);
  if (!o.expected.empty() && requested == nullptr) {
    diverge(o, r.seq, "command", summarize(r) + " (the batch of seq " + std::to_string(o.expectedCause) + " ended)",
            lc::describe(lc::AnyCommand(o.expected.front())));
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
      if (!s.isOk()) diverge(o, r.seq, "input", "a readable snapshot", s.message());
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
      return diverge(o, r.seq, "input", "input record seq " + std::to_string(t.inputSeq) + ": " + t.event,
                     in ? "record " + std::to_string(t.inputSeq) + " is a " + journal::payloadKind(in->payload) +
                              ", not an input"
                        : "record " + std::to_string(t.inputSeq) + " is not in the replayed input");
    input = *converted;
    if (std::holds_alternative<lc::ObjectSeen>(input) && !isConfigRecord(*in)) {
      const auto& obs = std::get<journal::Observed>(in->payload);
      o.object = json::parse(obs.objectJson, nullptr, false);
    }
  }
  const std::string from = lc::phaseName(o.state.phase);
  lc::FoldResult result = options_.fold(o.state, input);
  const std::string event = result.rejected ? "rejected: " + result.reason : lc::describe(input);
  const std::string to = lc::phaseName(result.rejected ? o.state.phase : result.state.phase);
  if (from != t.from)
    return diverge(o, r.seq, "state", "phase " + t.from + " before folding seq " + std::to_string(t.inputSeq),
                   "phase " + from);
  if (to != t.to || event != t.event)
    return diverge(o, r.seq, "transition", transitionText(t.from, t.to, t.event), transitionText(from, to, event));
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
  std::string recordedText = recorded ? lc::describe(lc::AnyCommand(*recorded)) : q.command + " #" + std::to_string(q.effectId);
  if (o.expected.empty())
    return diverge(o, r.seq, "command", recordedText,
                   "no command (the fold of seq " + std::to_string(q.causeSeq) + " asked for nothing more)");
  lc::Command produced = o.expected.front();
  std::string producedText = lc::describe(lc::AnyCommand(produced));
  if (!recorded || producedText != recordedText) return diverge(o, r.seq, "command", recordedText, producedText);
  o.expected.erase(o.expected.begin());
  o.pending[produced.effectId] = produced;
  o.requestedAt[produced.effectId] = r.wallUnixNanos;
  json in = json::parse(q.inputJson, nullptr, false);
  if (in.is_object() && in.value("configSeq", uint64_t{0}) != 0)
    o.requestedConfig[produced.effectId] = in.value("configSeq", uint64_t{0});
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
      return diverge(o, r.seq, checked.mismatch->what, checked.mismatch->recorded, checked.mismatch->produced);
    if (checked.updatedObject.is_object()) o.object = checked.updatedObject;
  }
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
      diverge(o, o.expectedCause, "command",
              "nothing more in the batch of seq " + std::to_string(o.expectedCause) + " (end of the journal)",
              lc::describe(lc::AnyCommand(o.expected.front())));
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
    json produced = json::parse(lc::toJson(o.state));
    const json& recorded = recordedBlob["lifecycle"];
    if (recorded == produced) continue;
    auto [r, p] = stateDiff(recorded, produced);
    diverge(o, o.lastSeq, "state", "state table: " + r, "folded state: " + p);
  }
}

}  // namespace spr::replay
