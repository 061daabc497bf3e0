#include "replay/compact.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "replay/bundle.h"
#include "replay/inputs.h"
#include "replay/line_stream.h"
#include "replay/record_json.h"
#include "replay/replay_run.h"
#include "runtime/reconciler.h"

namespace spr::replay {

using nlohmann::json;
namespace lc = lifecycle;

namespace {

// A journal-data decimal (meta values), or a clear kCorruption naming where it came from.
Result<uint64_t> parseSeq(const std::string& text, const std::string& what) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return Status(Code::kCorruption, what + " is '" + text +
                                         "', not a sequence number; the journal's metadata is "
                                         "damaged: run 'spr journal verify' and restore from a backup");
  return v;
}

// The first sequence at or after the time.
Result<uint64_t> timeCut(const journal::Journal& j, int64_t beforeUnixNanos) {
  uint64_t cut = j.nextSeq();
  SPR_RETURN_IF_ERROR(j.scan(j.firstSeq(), [&](const journal::Record& r) {
    if (r.wallUnixNanos < beforeUnixNanos) return true;
    cut = r.seq;
    return false;
  }));
  return cut;
}

// Never archive an input the operator journaled but has not folded yet: a restart
// re-queues those from the low-water mark, which must stay in the live journal.
Result<uint64_t> capAtLowWater(const journal::Journal& j, uint64_t cut) {
  auto low = j.meta(runtime::kMetaLowWater);
  if (!low) return low.status();
  if (!*low) return cut;
  auto seq = parseSeq(**low, std::string("meta ") + runtime::kMetaLowWater);
  if (!seq) return seq.status();
  return std::min(cut, std::max(*seq, j.firstSeq()));
}

// Moved back past EffectRequested records so a fold's batch stays whole on one side.
Result<uint64_t> batchStart(const journal::Journal& j, uint64_t cut) {
  while (cut > j.firstSeq()) {
    auto at = j.readRange(cut, cut, 1);
    if (!at) return at.status();
    if (at->empty() || !std::holds_alternative<journal::EffectRequested>(at->front().payload)) break;
    --cut;
  }
  return cut;
}

// The effects an object's state still has outstanding (in flight, or its status write).
std::vector<uint64_t> outstandingEffects(const std::string& blobText) {
  std::vector<uint64_t> out;
  json blob = json::parse(blobText, nullptr, false);
  if (!blob.is_object() || !blob.contains("lifecycle")) return out;
  auto state = lc::stateFromJsonObject(blob["lifecycle"]);
  if (!state) return out;
  if (state->inflightEffect) out.push_back(*state->inflightEffect);
  if (state->statusWrite != 0) out.push_back(state->statusWrite);
  return out;
}

// Never archive an EffectCompleted that its object's fold has not taken yet (journaled,
// then killed before the fold, or folded a moment later inside `spr run`): a restart finds
// it among the object's live records and folds it; archived, the effect would be resolved
// as Unknown and run again. The state table says which: the completion's batch writes the
// state as of before the fold, with the effect still outstanding.
Result<uint64_t> capAtUnfoldedCompletion(const journal::Journal& j, uint64_t cut) {
  auto states = j.allStates();
  if (!states) return states.status();
  for (const auto& [key, blob] : *states) {
    const std::vector<uint64_t> ids = outstandingEffects(blob);
    if (ids.empty()) continue;
    auto records = j.readObject(key, journal::Order::kNewestFirst, 64);  // as the restart looks
    if (!records) return records.status();
    for (const auto& r : *records) {
      const auto* c = std::get_if<journal::EffectCompleted>(&r.payload);
      if (c && r.seq < cut && std::find(ids.begin(), ids.end(), c->effectId) != ids.end()) cut = r.seq;
    }
  }
  return cut;
}

Result<uint64_t> findCut(const journal::Journal& j, int64_t beforeUnixNanos) {
  auto cut = timeCut(j, beforeUnixNanos);
  if (cut) cut = capAtLowWater(j, *cut);
  if (cut && *cut > j.firstSeq()) cut = capAtUnfoldedCompletion(j, *cut);
  if (!cut) return cut;
  return batchStart(j, *cut);
}

struct Carried {
  std::map<std::string, std::vector<journal::Record>> inputs;  // by object key; "" = ProviderConfig events
  std::set<std::string> keysAfterCut;                          // objects with records at or after the cut
};

// How far before the cut an input may still be waiting for its fold. Inside `spr run` an
// EffectCompleted or TimerFired is journaled, then folded by its worker a moment later,
// possibly after this compaction scanned the live part: such inputs are carried too.
constexpr uint64_t kUnfoldedWindow = 10000;

// Input records shortly before the cut that no Transition before the cut folded.
Status addUnfolded(const journal::Journal& j, uint64_t cut, std::set<uint64_t>* wanted) {
  std::set<uint64_t> inputs;
  uint64_t from = std::max(j.firstSeq(), cut > kUnfoldedWindow ? cut - kUnfoldedWindow : 1);
  SPR_RETURN_IF_ERROR(j.scan(from, [&](const journal::Record& r) {
    if (r.seq >= cut) return false;
    if (const auto* t = std::get_if<journal::Transition>(&r.payload)) inputs.erase(t->inputSeq);
    const auto* o = std::get_if<journal::Observed>(&r.payload);
    if ((o && o->cluster == "onboarding") || std::holds_alternative<journal::EffectCompleted>(r.payload) ||
        std::holds_alternative<journal::TimerFired>(r.payload))
      inputs.insert(r.seq);
    return true;
  }));
  wanted->insert(inputs.begin(), inputs.end());
  return Status();
}

// Inputs an earlier compaction archived and carried in its snapshots that the replayer
// still holds unfolded at the cut, by seq: the live journal no longer has them.
std::map<uint64_t, journal::Record> carriedBefore(const journal::Journal& j, const Replayer& replayer) {
  std::map<uint64_t, journal::Record> out;
  for (const auto& [seq, r] : replayer.configs())
    if (seq < j.firstSeq()) out.emplace(seq, r);
  for (const auto& [key, o] : replayer.objects())
    for (const auto& [seq, r] : o.inputs)
      if (seq < j.firstSeq()) out.emplace(seq, r);
  return out;
}

// The watch event the operator may still hold back for the object (an event older than its
// own write, folded when the watch re-lists; see Reconciler::staleObserved): the newest
// unfolded one, if newer than every event folded. The low-water mark does not keep it live.
uint64_t heldBackEvent(const ObjectReplay& o) {
  for (auto it = o.inputs.rbegin(); it != o.inputs.rend(); ++it) {
    if (it->first <= o.lastWatchEventFolded) return 0;
    const auto* observed = std::get_if<journal::Observed>(&it->second.payload);
    if (observed && observed->cluster == "onboarding") return it->first;
  }
  return 0;
}

// Input records before the cut that Transitions at or after it fold. Those an earlier
// compaction carried (the object's first fold can lag behind several cuts under load) come
// from the replayer, which restored them; so do its completions and timer firings that are
// still unfolded, which the live run folds a moment after journaling them, and a held-back
// watch event. (Any other Observed before the cut is folded or dropped already: the cut is
// capped at the low-water mark.)
Result<Carried> carriedInputs(const journal::Journal& j, uint64_t cut, const Replayer& replayer) {
  std::set<uint64_t> wanted;
  Carried out;
  SPR_RETURN_IF_ERROR(addUnfolded(j, cut, &wanted));
  SPR_RETURN_IF_ERROR(j.scan(cut, [&](const journal::Record& r) {
    out.keysAfterCut.insert(r.object.key());
    if (const auto* t = std::get_if<journal::Transition>(&r.payload))
      if (t->inputSeq != 0 && t->inputSeq < cut) wanted.insert(t->inputSeq);
    return true;
  }));
  const std::map<uint64_t, journal::Record> before = carriedBefore(j, replayer);
  for (const auto& [seq, r] : before)
    if (std::holds_alternative<journal::EffectCompleted>(r.payload) ||
        std::holds_alternative<journal::TimerFired>(r.payload))
      wanted.insert(seq);
  for (const auto& [key, o] : replayer.objects())
    if (uint64_t held = heldBackEvent(o)) wanted.insert(held);
  for (uint64_t seq : wanted) {
    std::optional<journal::Record> record;
    if (auto found = before.find(seq); found != before.end()) record = found->second;
    if (!record) {
      auto r = j.readRange(seq, seq, 1);
      if (!r) return r.status();
      if (!r->empty() && r->front().seq == seq) record = r->front();
    }
    if (!record) continue;
    out.inputs[isConfigRecord(*record) ? std::string() : record->object.key()].push_back(*record);
  }
  return out;
}

// The ProviderConfig event in force at the cut: the last one archived, or the one a
// previous compaction's config snapshot carried. Restart (runtime/config-seq) and replay
// (the config an effect ran with) both need it after its record left the log.
struct ConfigAtCut {
  std::optional<journal::Record> best;
  void consider(const journal::Record& r) {
    if (isConfigRecord(r) && (!best || r.seq > best->seq)) best = r;
    const auto* s = std::get_if<journal::Snapshot>(&r.payload);
    if (!s || r.object.cluster != "platform") return;
    json doc = json::parse(s->stateJson, nullptr, false);
    if (!doc.is_object()) return;
    for (const auto& in : doc.value("inputs", json::array()))
      if (auto carried = recordFromJson(in))
        if (isConfigRecord(*carried) && (!best || carried->seq > best->seq)) best = *carried;
  }
};

// Writes the archive (the bundle format of bundle.h, kind "archive", zstd-compressed: the
// records carry their bodies inline, and an unchanged poll's repeat) record by record, so
// compacting millions of records inside `spr run` never holds them all in memory. Also
// feeds every archived record to `config`. Temporary file, fsync'ed, renamed.
Status writeArchive(const journal::Journal& j, const std::string& path, uint64_t from, uint64_t to, json header,
                    ConfigAtCut* config) {
  if (path.empty())  // no archive: the history is dropped; only the config in force is wanted
    return j.scan(from, [&](const journal::Record& r) {
      config->consider(r);
      return r.seq < to;
    });
  const std::string tmp = path + ".tmp";
  header["records"] = to - from + 1;
  {
    ZstdLineWriter out;
    SPR_RETURN_IF_ERROR(out.open(tmp));
    SPR_RETURN_IF_ERROR(out.writeLine(dumpLine(header)));
    uint64_t expect = from;
    Status written;
    Status scanned = j.scan(from, [&](const journal::Record& r) {
      if (r.seq > to) return false;
      expect = r.seq + 1;
      config->consider(r);
      written = out.writeLine(dumpLine(recordToJson(r)));
      return written.isOk();
    });
    SPR_RETURN_IF_ERROR(scanned);
    SPR_RETURN_IF_ERROR(written);
    SPR_RETURN_IF_ERROR(out.finish());
    if (expect != to + 1) return Status(Code::kCorruption, "the journal has no record " + std::to_string(expect));
  }
  int fd = ::open(tmp.c_str(), O_RDONLY);
  int rc = fd < 0 ? -1 : ::fsync(fd);
  if (fd >= 0) ::close(fd);
  if (rc != 0) return Status(Code::kIoError, "fsync of archive " + tmp + " failed");
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status(Code::kIoError, "cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status();
}

json recordsJson(const std::vector<journal::Record>& records) {
  json a = json::array();
  for (const auto& r : records) a.push_back(recordToJson(r));
  return a;
}

// One Snapshot per object as of the cut. A deleted object nothing refers to after the
// cut gets none: its history is in the archive, and compaction after compaction does not
// carry it along forever.
std::vector<journal::Record> snapshotRecords(const Replayer& replayer, uint64_t cut, Carried& carried,
                                             const journal::ObjectId& configId) {
  std::vector<journal::Record> out;
  for (const auto& [key, o] : replayer.objects()) {
    if (!o.started) continue;
    if (o.state.phase == lc::Phase::kDeleted && o.pending.empty() && carried.keysAfterCut.count(key) == 0) continue;
    json pending = json::array();
    // An effect in flight across the cut: the whole command (a WriteStatus's status too) and
    // when it was requested, so replay re-runs its EffectCompleted against the tape.
    for (const auto& [id, c] : o.pending) {
      json p = {{"effectId", id}, {"command", lc::opName(c.op)}};
      if (c.op == lc::Op::kWriteStatus)
        p["status"] = {{"phase", c.status.phase},
                       {"ready", c.status.ready},
                       {"reason", c.status.reason},
                       {"message", c.status.message},
                       {"observedGeneration", c.status.observedGeneration}};
      auto at = o.requestedAt.find(id);
      if (at != o.requestedAt.end()) p["requestedAt"] = at->second;
      pending.push_back(p);
    }
    json state = {
        {"lifecycle", json::parse(lc::toJson(o.state))}, {"object", o.object}, {"tenant", o.tenant}, {"uid", o.id.uid}};
    json doc = {{"format", "spr-replay-snapshot/1"},
                {"state", state},
                {"pending", pending},
                {"inputs", recordsJson(carried.inputs[key])}};
    journal::Record r;
    r.object = o.id;
    r.tenant = o.tenant;
    r.payload = journal::Snapshot{doc.dump(), cut - 1};
    out.push_back(std::move(r));
  }
  // Inputs of an object not folded yet at the cut (e.g. its first ADDED): inputs only.
  for (const auto& [key, records] : carried.inputs) {
    if (key.empty() || records.empty()) continue;
    auto o = replayer.objects().find(key);
    if (o != replayer.objects().end() && o->second.started) continue;
    json doc = {{"format", "spr-replay-snapshot/1"}, {"inputs", recordsJson(records)}};
    journal::Record r;
    r.object = records.front().object;
    r.tenant = records.front().tenant;
    r.payload = journal::Snapshot{doc.dump(), cut - 1};
    out.push_back(std::move(r));
  }
  if (!carried.inputs[""].empty()) {
    json doc = {{"format", "spr-replay-snapshot/1"}, {"inputs", recordsJson(carried.inputs[""])}};
    journal::Record r;
    r.object = configId;
    r.payload = journal::Snapshot{doc.dump(), cut - 1};
    out.push_back(std::move(r));
  }
  return out;
}

// "<first>-<last>" of meta replay/snapshots.
Result<std::pair<uint64_t, uint64_t>> snapshotRange(const std::string& text) {
  auto dash = text.find('-');
  std::string what = std::string("meta ") + kMetaSnapshots;
  auto first = parseSeq(text.substr(0, dash), what);
  if (!first) return first.status();
  auto last = parseSeq(dash == std::string::npos ? std::string() : text.substr(dash + 1), what);
  if (!last) return last.status();
  if (*last < *first) return Status(Code::kCorruption, what + " is '" + text + "': the range is reversed");
  return std::make_pair(*first, *last);
}

// The previous compaction's snapshots, if they lie outside the archived range: the
// archive needs them to start from.
Result<json> priorSnapshots(const journal::Journal& j, uint64_t cut) {
  json out = json::array();
  if (j.firstSeq() <= 1) return out;
  auto text = j.meta(kMetaSnapshots);
  if (!text) return text.status();
  if (!*text) return out;
  auto range = snapshotRange(**text);
  if (!range) return range.status();
  auto [first, last] = *range;
  if (first < cut) return out;  // archived with the rest
  auto snaps = j.readRange(first, last, last - first + 1);
  if (!snaps) return snaps.status();
  for (const auto& r : *snaps) out.push_back(recordToJson(r));
  return out;
}

// Replays the part to be archived; a divergence refuses the compaction.
Status replayArchived(const journal::Journal& j, uint64_t cut, Replayer& replayer, const ReplayOptions& options) {
  SPR_RETURN_IF_ERROR(replayJournal(j, replayer, options));
  if (const auto& d = replayer.divergence())
    return Status(Code::kInvalidArgument, "the history before seq " + std::to_string(cut) +
                                              " does not replay with this build (divergence at seq " +
                                              std::to_string(d->seq) + " of " + d->object +
                                              "); run 'spr replay' for details; nothing was changed");
  return Status();
}

// Appends the snapshots (and the meta naming them) in one synced batch.
Status appendSnapshots(journal::Journal& j, std::vector<journal::Record> records) {
  if (records.empty()) return Status();
  journal::AppendBatch batch;
  const size_t n = records.size();
  batch.records = std::move(records);
  batch.sync = journal::Sync::kSync;
  // The meta names the range this batch gets; the journal assigns it under its own lock,
  // so the range is the tail at append time: written by a second batch once known.
  auto seqs = j.append(std::move(batch));
  if (!seqs) return seqs.status();
  if (seqs->size() != n) return Status(Code::kInternal, "snapshot batch appended partly");
  journal::AppendBatch meta;
  meta.meta.emplace_back(kMetaSnapshots, std::to_string(seqs->front()) + "-" + std::to_string(seqs->back()));
  meta.sync = journal::Sync::kSync;
  auto ok = j.append(std::move(meta));
  return ok.status();
}

}  // namespace

namespace {

// Writes the archive of [res->archivedFrom, res->archivedTo] (with the previous
// compaction's snapshots it starts from) and returns the ProviderConfig in force at the cut.
Result<ConfigAtCut> archiveHistory(const journal::Journal& j, uint64_t cut, const std::string& archivePath,
                                   CompactResult* res) {
  auto firstArchived = j.readRange(res->archivedFrom, res->archivedFrom, 1);
  if (!firstArchived) return firstArchived.status();
  auto lastArchived = j.readRange(res->archivedTo, res->archivedTo, 1);
  if (!lastArchived) return lastArchived.status();
  if (firstArchived->empty() || lastArchived->empty())
    return Status(Code::kCorruption, "the journal lacks record " + std::to_string(res->archivedFrom) + " or " +
                                         std::to_string(res->archivedTo) + "; run 'spr journal verify'");
  auto prior = priorSnapshots(j, cut);
  if (!prior) return prior.status();
  res->archiveHeadHash = journal::toHex(lastArchived->front().hash);
  json header = {{"format", kBundleFormat},
                 {"version", kBundleVersion},
                 {"kind", "archive"},
                 {"schemaVersion", journal::kSchemaVersion},
                 {"firstSeq", res->archivedFrom},
                 {"lastSeq", res->archivedTo},
                 {"firstPrevHash", journal::toHex(firstArchived->front().prevHash)},
                 {"headHash", res->archiveHeadHash},
                 {"liveFirstSeq", cut},
                 {"preload", *prior}};
  ConfigAtCut configAt;
  for (const auto& p : *prior)
    if (auto r = recordFromJson(p)) configAt.consider(*r);
  SPR_RETURN_IF_ERROR(writeArchive(j, archivePath, res->archivedFrom, res->archivedTo, header, &configAt));
  return configAt;
}

}  // namespace

Result<CompactResult> compactJournal(journal::Journal& j, int64_t beforeUnixNanos, const std::string& archivePath) {
  CompactResult res;
  auto cut = findCut(j, beforeUnixNanos);
  if (!cut) return cut.status();
  res.archivedFrom = j.firstSeq();
  res.keptFrom = *cut;
  if (*cut <= j.firstSeq()) {
    res.nothingToDo = true;
    return res;
  }
  res.archivedTo = *cut - 1;
  ReplayOptions options;
  options.untilSeq = *cut - 1;
  Replayer replayer(options);
  SPR_RETURN_IF_ERROR(replayArchived(j, *cut, replayer, options));
  auto configAt = archiveHistory(j, *cut, archivePath, &res);
  if (!configAt) return configAt.status();
  auto carried = carriedInputs(j, *cut, replayer);
  if (!carried) return carried.status();
  const auto& config = configAt->best;
  auto& configInputs = carried->inputs[""];
  if (config && std::none_of(configInputs.begin(), configInputs.end(),
                             [&](const journal::Record& r) { return r.seq == config->seq; }))
    configInputs.insert(configInputs.begin(), *config);
  journal::ObjectId configId =
      config ? config->object : journal::ObjectId{"platform", "", "", "ProviderConfig", "", "config", ""};
  auto snapshots = snapshotRecords(replayer, *cut, *carried, configId);
  res.snapshots = snapshots.size();
  SPR_RETURN_IF_ERROR(appendSnapshots(j, std::move(snapshots)));
  SPR_RETURN_IF_ERROR(j.dropBefore(*cut));
  SPR_RETURN_IF_ERROR(j.compactStorage());
  return res;
}

}  // namespace spr::replay
