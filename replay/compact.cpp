#include "replay/compact.h"

#include <map>

#include "replay/bundle.h"
#include "replay/inputs.h"
#include "replay/record_json.h"
#include "replay/replay_run.h"

namespace spr::replay {

using nlohmann::json;
namespace lc = lifecycle;

namespace {

// The first sequence at or after the time, moved back past EffectRequested records so a
// fold's batch stays whole on one side of the cut.
Result<uint64_t> findCut(const journal::Journal& j, int64_t beforeUnixNanos) {
  uint64_t cut = j.nextSeq();
  journal::Record prev;
  std::vector<journal::Record> window;
  SPR_RETURN_IF_ERROR(j.scan(j.firstSeq(), [&](const journal::Record& r) {
    if (r.wallUnixNanos >= beforeUnixNanos) {
      cut = r.seq;
      return false;
    }
    return true;
  }));
  while (cut > j.firstSeq()) {
    auto at = j.readRange(cut, cut, 1);
    if (!at) return at.status();
    if (at->empty() || !std::holds_alternative<journal::EffectRequested>(at->front().payload)) break;
    --cut;
  }
  return cut;
}

// Input records before the cut that Transitions at or after it fold, by object key
// ("" for ProviderConfig events).
Result<std::map<std::string, std::vector<journal::Record>>> carriedInputs(const journal::Journal& j, uint64_t cut) {
  std::map<uint64_t, bool> wanted;
  SPR_RETURN_IF_ERROR(j.scan(cut, [&](const journal::Record& r) {
    if (const auto* t = std::get_if<journal::Transition>(&r.payload))
      if (t->inputSeq != 0 && t->inputSeq < cut) wanted[t->inputSeq] = true;
    return true;
  }));
  std::map<std::string, std::vector<journal::Record>> out;
  for (const auto& [seq, unused] : wanted) {
    auto r = j.readRange(seq, seq, 1);
    if (!r) return r.status();
    if (r->empty() || r->front().seq != seq) continue;
    out[isConfigRecord(r->front()) ? std::string() : r->front().object.key()].push_back(r->front());
  }
  return out;
}

json recordsJson(const std::vector<journal::Record>& records) {
  json a = json::array();
  for (const auto& r : records) a.push_back(recordToJson(r));
  return a;
}

std::vector<journal::Record> snapshotRecords(const Replayer& replayer, uint64_t cut,
                                             std::map<std::string, std::vector<journal::Record>>& carried,
                                             const journal::ObjectId& configId) {
  std::vector<journal::Record> out;
  for (const auto& [key, o] : replayer.objects()) {
    if (!o.started) continue;
    json pending = json::array();
    for (const auto& [id, c] : o.pending) pending.push_back({{"effectId", id}, {"command", lc::opName(c.op)}});
    json state = {{"lifecycle", json::parse(lc::toJson(o.state))}, {"object", o.object},
                  {"tenant", o.tenant}, {"uid", o.id.uid}};
    json doc = {{"format", "spr-replay-snapshot/1"}, {"state", state}, {"pending", pending},
                {"inputs", recordsJson(carried[key])}};
    journal::Record r;
    r.object = o.id;
    r.tenant = o.tenant;
    r.payload = journal::Snapshot{doc.dump(), cut - 1};
    out.push_back(std::move(r));
  }
  if (!carried[""].empty()) {
    json doc = {{"format", "spr-replay-snapshot/1"}, {"inputs", recordsJson(carried[""])}};
    journal::Record r;
    r.object = configId;
    r.payload = journal::Snapshot{doc.dump(), cut - 1};
    out.push_back(std::move(r));
  }
  return out;
}

// The previous compaction's snapshots, if they lie outside the archived range: the
// archive needs them to start from.
Result<json> priorSnapshots(const journal::Journal& j, uint64_t cut) {
  json out = json::array();
  if (j.firstSeq() <= 1) return out;
  auto range = j.meta(kMetaSnapshots);
  if (!range) return range.status();
  if (!*range) return out;
  uint64_t first = std::stoull(**range), last = std::stoull((*range)->substr((*range)->find('-') + 1));
  if (first < cut) return out;  // archived with the rest
  auto snaps = j.readRange(first, last, last - first + 1);
  if (!snaps) return snaps.status();
  for (const auto& r : *snaps) out.push_back(recordToJson(r));
  return out;
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
  SPR_RETURN_IF_ERROR(replayJournal(j, replayer, options));
  if (const auto& d = replayer.divergence())
    return Status(Code::kInvalidArgument, "the history before seq " + std::to_string(*cut) +
                                              " does not replay with this build (divergence at seq " +
                                              std::to_string(d->seq) + " of " + d->object +
                                              "); run 'spr replay' for details; nothing was changed");
  auto archived = j.readRange(res.archivedFrom, res.archivedTo, res.archivedTo - res.archivedFrom + 1);
  if (!archived) return archived.status();
  auto prior = priorSnapshots(j, *cut);
  if (!prior) return prior.status();
  json header = {{"format", kBundleFormat}, {"version", kBundleVersion}, {"kind", "archive"},
                 {"schemaVersion", journal::kSchemaVersion}, {"firstSeq", res.archivedFrom},
                 {"lastSeq", res.archivedTo}, {"firstPrevHash", journal::toHex(archived->front().prevHash)},
                 {"headHash", journal::toHex(archived->back().hash)}, {"liveFirstSeq", *cut},
                 {"preload", *prior}};
  res.archiveHeadHash = journal::toHex(archived->back().hash);
  SPR_RETURN_IF_ERROR(writeBundle(archivePath, header, *archived));

  auto carried = carriedInputs(j, *cut);
  if (!carried) return carried.status();
  journal::ObjectId configId;
  for (const auto& r : *archived)
    if (isConfigRecord(r)) configId = r.object;
  if (configId.kind.empty()) configId = journal::ObjectId{"platform", "", "", "ProviderConfig", "", "config", ""};
  journal::AppendBatch batch;
  batch.records = snapshotRecords(replayer, *cut, *carried, configId);
  batch.sync = journal::Sync::kSync;
  res.snapshots = batch.records.size();
  if (!batch.records.empty()) {
    auto seqs = j.append(std::move(batch));
    if (!seqs) return seqs.status();
    journal::AppendBatch meta;
    meta.meta.emplace_back(kMetaSnapshots, std::to_string(seqs->front()) + "-" + std::to_string(seqs->back()));
    meta.sync = journal::Sync::kSync;
    auto ok = j.append(std::move(meta));
    if (!ok) return ok.status();
  }
  SPR_RETURN_IF_ERROR(j.dropBefore(*cut));
  SPR_RETURN_IF_ERROR(j.compactStorage());
  return res;
}

}  // namespace spr::replay
