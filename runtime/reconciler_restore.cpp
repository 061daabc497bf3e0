// Reconciler: start-up from the journal (no re-folding of history).
#include "common/log.h"
#include "runtime/object_util.h"
#include "runtime/reconciler.h"

namespace spr::runtime {

using nlohmann::json;
namespace lc = lifecycle;

Status Reconciler::restore() {
  SPR_RETURN_IF_ERROR(restoreConfig());
  auto states = deps_.journal->allStates();
  if (!states) return states.status();
  for (const auto& [key, blob] : *states) SPR_RETURN_IF_ERROR(restoreEntry(key, blob));
  SPR_RETURN_IF_ERROR(recoverUnfolded());
  log::info("restored from journal", {{"objects", states->size()}, {"nextSeq", deps_.journal->nextSeq()}});
  return Status();
}

Status Reconciler::restoreConfig() {
  auto seqText = deps_.journal->meta(kMetaConfigSeq);
  if (!seqText) return seqText.status();
  if (!*seqText) return Status();
  uint64_t seq = std::stoull(**seqText);
  auto records = deps_.journal->readRange(seq, seq, 1);
  if (!records) return records.status();
  if (records->empty()) return Status();
  const auto* observed = std::get_if<journal::Observed>(&records->front().payload);
  if (!observed)
    return Status(Code::kCorruption, "meta " + std::string(kMetaConfigSeq) + " does not point at an Observed record");
  json object = json::parse(observed->objectJson, nullptr, false);
  if (object.is_discarded()) return Status(Code::kCorruption, "config record " + std::to_string(seq) + " is not JSON");
  std::lock_guard<std::mutex> lock(configMu_);
  configSeq_ = seq;
  configSeen_ = configSeen(object, observed->type);
  config_ = configSeen_.present ? object : json();
  return Status();
}

Status Reconciler::restoreEntry(const std::string& key, const std::string& blobText) {
  json blob = json::parse(blobText, nullptr, false);
  if (blob.is_discarded() || !blob.contains("lifecycle"))
    return Status(Code::kCorruption, "state of " + key + " is not a runtime state blob");
  auto state = lc::stateFromJson(blob["lifecycle"].dump());
  if (!state) return state.status();
  auto slash = state->objectKey.find('/');
  journal::ObjectId id{"onboarding",
                       deps_.apiGroup,
                       deps_.apiVersion,
                       deps_.apiKind,
                       state->objectKey.substr(0, slash),
                       state->objectKey.substr(slash + 1),
                       blob.value("uid", "")};
  if (id.key() != key) return Status();  // not ours (another provider's state)
  bool created = false;
  Entry* e = findOrCreate(id, blob.value("tenant", id.ns), &created);
  e->state = *state;
  e->object = blob.value("object", json::object());
  e->lastObservedSeq = blob.value("lastObservedSeq", uint64_t{0});
  uint64_t token = blob["timer"].value("token", uint64_t{0});
  int64_t due = blob["timer"].value("dueUnixNanos", int64_t{0});
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

Status Reconciler::recoverUnfolded() {
  auto lowText = deps_.journal->meta(kMetaLowWater);
  if (!lowText) return lowText.status();
  uint64_t from = *lowText ? std::stoull(**lowText) : deps_.journal->firstSeq();
  from = std::max(from, deps_.journal->firstSeq());
  std::map<std::string, std::pair<uint64_t, journal::Record>> latest;
  Status scanned = deps_.journal->scan(from, [&](const journal::Record& r) {
    const auto* o = std::get_if<journal::Observed>(&r.payload);
    if (o && o->cluster == "onboarding" && r.object.kind == deps_.apiKind && r.object.group == deps_.apiGroup)
      latest[r.object.key()] = {r.seq, r};
    return true;
  });
  SPR_RETURN_IF_ERROR(scanned);
  size_t requeued = 0;
  for (auto& [key, item] : latest) {
    const journal::Record& r = item.second;
    Entry* e = find(key);
    if (e && e->lastObservedSeq >= item.first) continue;
    const auto& o = std::get<journal::Observed>(r.payload);
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
    lc::Input input =
        o.type == journal::WatchType::kDeleted ? lc::Input(lc::ObjectGone{}) : lc::Input(lc::ObjectSeen{});
    if (o.type != journal::WatchType::kDeleted) input = objectSeenOf(object);
    enqueue(e, ObservedItem{r.seq, input, object});
    ++requeued;
  }
  if (requeued) log::info("re-queued inputs journaled before a crash", {{"count", requeued}});
  return Status();
}

}  // namespace spr::runtime
