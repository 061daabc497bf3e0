// Reconciler: start-up from the journal (no re-folding of history).
#include <charconv>
#include <chrono>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "common/log.h"
#include "core/fold/fold_input.h"
#include "runtime/ca_bundle.h"
#include "runtime/object_util.h"
#include "runtime/reconciler.h"

namespace spr::runtime {

using nlohmann::json;
namespace lc = lifecycle;

namespace {

// Written by `spr journal compact` (replay/compact.cpp, kMetaSnapshots): "<first>-<last>",
// the snapshot records of the last compaction. The ProviderConfig snapshot among them
// carries the config record in force at the cut.
constexpr const char* kMetaCompactionSnapshots = "replay/snapshots";

// A decimal from journal metadata, or kCorruption naming the key and the next step.
Result<uint64_t> parseMetaSeq(const std::string& text, const std::string& key) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return Status(Code::kCorruption, "journal meta " + key + " is '" + text +
                                         "', not a sequence number: the journal's metadata is damaged; run "
                                         "'spr journal verify' and restore the journal from a backup");
  return v;
}

// The config record `seq` as carried by the last compaction's ProviderConfig snapshot.
Result<std::optional<journal::Observed>> carriedConfig(const journal::Journal& j, uint64_t seq) {
  auto text = j.meta(kMetaCompactionSnapshots);
  if (!text) return text.status();
  if (!*text) return std::optional<journal::Observed>();
  auto dash = (*text)->find('-');
  auto first = parseMetaSeq((*text)->substr(0, dash), kMetaCompactionSnapshots);
  if (!first) return first.status();
  auto last = parseMetaSeq(dash == std::string::npos ? "" : (*text)->substr(dash + 1), kMetaCompactionSnapshots);
  if (!last) return last.status();
  if (*last < *first)
    return Status(Code::kCorruption, std::string("journal meta ") + kMetaCompactionSnapshots + " is reversed");
  auto snaps = j.readRange(*first, *last, *last - *first + 1);
  if (!snaps) return snaps.status();
  for (const auto& r : *snaps) {
    const auto* snap = std::get_if<journal::Snapshot>(&r.payload);
    if (!snap || r.object.cluster != "platform") continue;
    json doc = json::parse(snap->stateJson, nullptr, false);
    if (!doc.is_object()) continue;
    for (const auto& in : doc.value("inputs", json::array())) {
      if (!in.is_object() || in.value("seq", uint64_t{0}) != seq || !in.contains("payload")) continue;
      const json& p = in["payload"];
      if (!p.is_object()) continue;
      journal::Observed o;
      o.cluster = p.value("cluster", "");
      o.objectJson = p.value("objectJson", "");
      o.type = p.value("type", "") == "DELETED" ? journal::WatchType::kDeleted : journal::WatchType::kModified;
      return std::optional<journal::Observed>(o);
    }
  }
  return std::optional<journal::Observed>();
}

// The ProviderConfig event at `seq`: in the log, or (compacted away) in the last
// compaction's config snapshot. Never silently nothing: restart without the config
// would report every request's config as invalid.
Result<journal::Observed> configRecord(const journal::Journal& j, uint64_t seq) {
  auto records = j.readRange(seq, seq, 1);
  if (!records) return records.status();
  if (!records->empty() && records->front().seq == seq) {
    const auto* observed = std::get_if<journal::Observed>(&records->front().payload);
    if (!observed)
      return Status(Code::kCorruption, "meta " + std::string(kMetaConfigSeq) + " does not point at an Observed record");
    return *observed;
  }
  auto carried = carriedConfig(j, seq);
  if (!carried) return carried.status();
  if (*carried) return **carried;
  return Status(Code::kCorruption,
                "journal meta " + std::string(kMetaConfigSeq) + " names the ProviderConfig record " +
                    std::to_string(seq) + ", which is neither in the log (it starts at " +
                    std::to_string(j.firstSeq()) +
                    ") nor carried by a compaction snapshot; the journal was compacted by an older build: "
                    "start from its archive or a backup");
}

// Runs fn(i) for every i < n: a large n on two threads (decoding the state blobs is most
// of restore's time), each index on exactly one; returns when all are done.
template <class Fn>
void forEachIndex(size_t n, const Fn& fn) {
  constexpr size_t kTwoThreadsFrom = 2048;  // below, a thread costs more than it saves
  size_t mid = n >= kTwoThreadsFrom && std::thread::hardware_concurrency() > 1 ? n / 2 : n;
  std::thread second;
  try {
    if (mid < n)
      second = std::thread([&fn, mid, n] {
        for (size_t i = mid; i < n; ++i) fn(i);
      });
  } catch (const std::system_error&) {  // no thread to be had: all on this one
    mid = n;
  }
  for (size_t i = 0; i < mid; ++i) fn(i);
  if (second.joinable()) second.join();
}

}  // namespace

Status Reconciler::restore() {
  const auto t0 = std::chrono::steady_clock::now();
  SPR_RETURN_IF_ERROR(restoreConfig());
  auto states = deps_.journal->allStates();
  if (!states) return states.status();
  std::vector<DecodedState> rows(states->size());
  forEachIndex(states->size(), [&](size_t i) {
    rows[i] = decodeState((*states)[i].first, (*states)[i].second);
    std::string().swap((*states)[i].second);  // the text is done with: halve the peak
  });
  std::map<std::string, std::string> gone;
  for (size_t i = 0; i < rows.size(); ++i)
    SPR_RETURN_IF_ERROR(restoreEntry((*states)[i].first, std::move(rows[i]), &gone));
  SPR_RETURN_IF_ERROR(forgetDeleted(gone));
  SPR_RETURN_IF_ERROR(recoverUnfolded(gone));
  log::info("restored from journal",
            {{"objects", states->size() - gone.size()},
             {"deletedForgotten", gone.size()},
             {"nextSeq", deps_.journal->nextSeq()},
             {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}});
  return Status();
}

Status Reconciler::restoreConfig() {
  auto ignored = deps_.journal->meta(kMetaConfigIgnored);
  if (!ignored) return ignored.status();
  {
    std::lock_guard<std::mutex> lock(configMu_);
    configIgnored_ = *ignored && **ignored == "1";
  }
  auto seqText = deps_.journal->meta(kMetaConfigSeq);
  if (!seqText) return seqText.status();
  if (!*seqText) return Status();
  auto seq = parseMetaSeq(**seqText, kMetaConfigSeq);
  if (!seq) return seq.status();
  auto observed = configRecord(*deps_.journal, *seq);
  if (!observed) return observed.status();
  json object = json::parse(observed->objectJson, nullptr, false);
  if (object.is_discarded()) return Status(Code::kCorruption, "config record " + std::to_string(*seq) + " is not JSON");
  std::lock_guard<std::mutex> lock(configMu_);
  configSeq_ = *seq;
  configSeen_ = configSeen(object, observed->type);
  config_ = configSeen_.present ? object : json();
  rawConfig_ = config_;  // the stamps on it are replaced when it is journaled again
  caStamp_ = caStampOf(config_);
  reconcileEpoch_ = reconcileEpochOf(config_);
  return Status();
}

Reconciler::DecodedState Reconciler::decodeState(const std::string& key, const std::string& text) {
  DecodedState row;
  try {
    json blob = json::parse(text, nullptr, false);
    if (blob.is_discarded() || !blob.contains("lifecycle")) {
      row.status = Status(Code::kCorruption, "state of " + key + " is not a runtime state blob");
      return row;
    }
    auto state = lc::stateFromJsonObject(blob["lifecycle"]);
    if (!state) {
      row.status = state.status();
      return row;
    }
    row.state = std::move(*state);
    row.uid = blob.value("uid", "");
    if (auto tenant = blob.find("tenant"); tenant != blob.end()) row.tenant = tenant->get<std::string>();
    auto object = blob.find("object");  // moved, not copied: the largest part of a blob
    row.object = object != blob.end() ? std::move(*object) : json::object();
    row.lastObservedSeq = blob.value("lastObservedSeq", uint64_t{0});
    const json timer = blob.value("timer", json::object());
    row.timerToken = timer.is_object() ? timer.value("token", uint64_t{0}) : 0;
    row.timerDueUnixNanos = timer.is_object() ? timer.value("dueUnixNanos", int64_t{0}) : 0;
  } catch (const json::exception& e) {  // a field of the wrong type
    row.status = Status(Code::kCorruption, "state of " + key + " is not a runtime state blob: " + e.what());
  }
  return row;
}

Status Reconciler::restoreEntry(const std::string& key, DecodedState row,
                                std::map<std::string, std::string>* forgotten) {
  if (!row.status.isOk()) return row.status;
  auto slash = row.state.objectKey.find('/');
  journal::ObjectId id{"onboarding",
                       deps_.apiGroup,
                       deps_.apiVersion,
                       deps_.apiKind,
                       row.state.objectKey.substr(0, slash),
                       row.state.objectKey.substr(slash + 1),
                       row.uid};
  if (id.key() != key) return Status();  // not ours (another provider's state)
  if (row.state.phase == lc::Phase::kDeleted && !row.state.inflightEffect) {
    (*forgotten)[key] = row.uid;
    return Status();
  }
  bool created = false;
  Entry* e = findOrCreate(id, row.tenant ? *row.tenant : id.ns, &created);
  e->state = std::move(row.state);
  e->object = std::move(row.object);
  e->lastObservedSeq = row.lastObservedSeq;
  const uint64_t token = row.timerToken;
  const int64_t due = row.timerDueUnixNanos;
  if (e->state.statusWrite) enqueue(e, ResolveItem{e->state.statusWrite, lc::Op::kWriteStatus});
  if (e->state.inflightEffect) enqueue(e, ResolveItem{*e->state.inflightEffect, e->state.inflightOp});
  if (token != 0 && !e->state.inflightEffect) {
    int64_t delayMs = std::max<int64_t>(1, (due - deps_.clock->nowUnixNanos()) / 1000000);
    double scale = e->state.phase == lc::Phase::kReady ? 1.0 : deps_.delayScale;
    armTimer(e, lc::RequeueAfter{static_cast<int64_t>(static_cast<double>(delayMs) / scale), token});
  }
  {
    std::lock_guard<std::mutex> lock(configMu_);
    if (configSeq_ != 0) enqueue(e, ConfigItem{configSeq_, configSeen_});
  }
  publishView(*e);
  return Status();
}

// A deleted object's state leaves the table (its history stays in the log), so the table
// and restore hold live objects only.
Status Reconciler::forgetDeleted(const std::map<std::string, std::string>& forgotten) {
  if (forgotten.empty()) return Status();
  journal::AppendBatch batch;
  for (const auto& [key, seq] : forgotten) batch.deleteStates.push_back(key);
  batch.sync = journal::Sync::kSync;
  auto done = deps_.journal->append(std::move(batch));
  return done.status();
}

Status Reconciler::recoverUnfolded(const std::map<std::string, std::string>& forgotten) {
  auto lowText = deps_.journal->meta(kMetaLowWater);
  if (!lowText) return lowText.status();
  uint64_t from = deps_.journal->firstSeq();
  if (*lowText) {
    auto low = parseMetaSeq(**lowText, kMetaLowWater);
    if (!low) return low.status();
    from = std::max(*low, from);
  }
  std::map<std::string, std::pair<uint64_t, journal::Record>> latest;
  std::map<std::string, journal::Record> deletedBy;  // object key -> its last move to Deleted
  const std::string deleted = lc::phaseName(lc::Phase::kDeleted);
  Status scanned = deps_.journal->scan(from, [&](const journal::Record& r) {
    if (r.object.kind != deps_.apiKind || r.object.group != deps_.apiGroup) return true;
    const auto* o = std::get_if<journal::Observed>(&r.payload);
    if (o && o->cluster == "onboarding") latest[r.object.key()] = {r.seq, r};
    const auto* t = std::get_if<journal::Transition>(&r.payload);
    if (t && !t->rejected && t->to == deleted) deletedBy[r.object.key()] = r;
    return true;
  });
  SPR_RETURN_IF_ERROR(scanned);
  size_t requeued = 0;
  for (auto& [key, item] : latest) {
    const journal::Record& r = item.second;
    Entry* e = find(key);
    if (e && e->lastObservedSeq >= item.first) continue;
    auto gone = forgotten.find(key);
    if (!e && gone != forgotten.end() && gone->second == r.object.uid) continue;  // the deleted object's last events
    // This very object (same uid; or, without uids, an event before it) reached Deleted and
    // its state left the table then: the event is history, not input. Folding it would start
    // the deleted object over from Pending.
    auto died = deletedBy.find(key);
    if (!e && died != deletedBy.end() &&
        (r.object.uid.empty() ? died->second.seq > item.first : died->second.object.uid == r.object.uid))
      continue;
    const auto& o = std::get<journal::Observed>(r.payload);
    // Gone, and no state left (forgotten by an earlier restore): nothing to fold. Re-queuing
    // it would make a fresh entry that the next list deletes again, at every restart.
    if (!e && o.type == journal::WatchType::kDeleted) continue;
    json object = json::parse(o.objectJson, nullptr, false);
    if (object.is_discarded()) return Status(Code::kCorruption, "record " + std::to_string(r.seq) + " is not JSON");
    bool created = false;
    e = findOrCreate(r.object, r.tenant, &created);
    if (created) {
      std::lock_guard<std::mutex> lock(configMu_);
      enqueue(e, ConfigItem{configSeq_, configSeen_});
    }
    {
      std::lock_guard<std::mutex> lock(lowMu_);
      noteUnfolded(r.seq);
    }
    enqueue(e, ObservedItem{r.seq, fold::objectInputOf(o.type, object), object});
    ++requeued;
  }
  if (requeued) log::info("re-queued inputs journaled before a crash", {{"count", requeued}});
  return Status();
}

}  // namespace spr::runtime
