#include "runtime/reconciler.h"

#include <chrono>

#include "common/log.h"
#include "core/fold/fold_input.h"
#include "runtime/ca_bundle.h"
#include "runtime/object_util.h"
#include "runtime/status.h"

namespace spr::runtime {

using nlohmann::json;
namespace lc = lifecycle;

std::string watchRvKey(const std::string& cluster, const std::string& group, const std::string& resource) {
  return "watch-rv/" + cluster + "/" + group + "/" + resource;
}

Reconciler::Reconciler(ReconcilerDeps deps) : deps_(std::move(deps)) {
  if (deps_.providerConfigName.empty()) deps_.providerConfigName = deps_.providerName;
}

std::string Reconciler::apiObjectKey(const std::string& ns, const std::string& name) const {
  journal::ObjectId id{"onboarding", deps_.apiGroup, deps_.apiVersion, deps_.apiKind, ns, name, ""};
  return id.key();
}

bool Reconciler::hasConfig() const {
  std::lock_guard<std::mutex> lock(configMu_);
  return configSeen_.present;
}

Reconciler::Entry* Reconciler::find(const std::string& key) const {
  std::lock_guard<std::mutex> lock(tableMu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second.get();
}

Reconciler::Entry* Reconciler::findOrCreate(const journal::ObjectId& id, const std::string& tenant, bool* created) {
  std::string key = id.key();
  std::lock_guard<std::mutex> lock(tableMu_);
  auto& slot = sortedSlot(entries_, std::move(key));
  *created = !slot;
  if (!slot) {
    slot = std::make_unique<Entry>();
    slot->id = id;
    slot->tenant = tenant;
    slot->state.objectKey = id.ns + "/" + id.name;
  }
  return slot.get();
}

void Reconciler::enqueue(Entry* entry, MailItem item, bool front) {
  // What users did goes first, then retries (backoff, not-ready requeues of objects on
  // their way to Ready), then the periodic polls of Ready objects.
  const auto* timer = std::get_if<TimerItem>(&item);
  const auto priority =
      !timer ? WorkQueue::Priority::kUser : (timer->poll ? WorkQueue::Priority::kPoll : WorkQueue::Priority::kRetry);
  {
    std::lock_guard<std::mutex> lock(entry->mu);
    if (front) {
      entry->mailbox.push_front(std::move(item));
    } else {
      entry->mailbox.push_back(std::move(item));
    }
  }
  deps_.queue->add(entry->id.key(), priority);
}

void Reconciler::fatal(const Status& status) {
  if (fatal_.exchange(true)) return;
  stopping_ = true;
  log::error("operator stops acting", {{"error", status.toString()}});
  if (deps_.onFatal) deps_.onFatal(status);
}

Result<uint64_t> Reconciler::appendOne(journal::Record record, journal::Sync sync) {
  journal::AppendBatch batch;
  batch.records.push_back(std::move(record));
  batch.sync = sync;
  auto seqs = appendBatch(std::move(batch));
  if (!seqs) return seqs.status();
  return seqs->front();
}

Result<std::vector<uint64_t>> Reconciler::appendBatch(journal::AppendBatch batch) {
  if (fatal_) return Status(Code::kIoError, "journal failed earlier; not appending");
  uint64_t bytes = 0;
  for (const auto& [k, v] : batch.states) bytes += k.size() + v.size();
  size_t n = batch.records.size();
  bool synced = batch.sync == journal::Sync::kSync;
  auto t0 = std::chrono::steady_clock::now();
  auto seqs = deps_.journal->append(std::move(batch));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!seqs) {
    fatal(seqs.status());
    return seqs.status();
  }
  deps_.metrics->journalAppend(n, bytes, secs, synced);
  return seqs;
}

journal::Record Reconciler::newRecord(const Entry& entry) const {
  journal::Record record;
  record.wallUnixNanos = deps_.clock->nowUnixNanos();
  record.object = entry.id;
  record.tenant = entry.tenant;
  return record;
}

void Reconciler::noteUnfolded(uint64_t seq) { unfolded_.insert(seq); }  // REQUIRES: lowMu_ held

void Reconciler::noteFolded(uint64_t seq) {
  std::lock_guard<std::mutex> lock(lowMu_);
  auto it = unfolded_.find(seq);
  if (it != unfolded_.end()) unfolded_.erase(it);
}

std::string Reconciler::lowWater() const {
  std::lock_guard<std::mutex> lock(lowMu_);
  return std::to_string(unfolded_.empty() ? deps_.journal->nextSeq() : *unfolded_.begin());
}

Status Reconciler::observeApiObject(journal::WatchType type, const json& object, const std::string& resourceVersion) {
  const json& meta = object["metadata"];
  journal::ObjectId id{
      "onboarding",           deps_.apiGroup,       deps_.apiVersion, deps_.apiKind, meta.value("namespace", ""),
      meta.value("name", ""), meta.value("uid", "")};
  bool created = false;
  Entry* entry = findOrCreate(id, id.ns, &created);
  journal::Record record = newRecord(*entry);
  record.object.uid = id.uid;
  journal::Observed observed{"onboarding", type, deps_.redact(object), resourceVersion, generationOf(object)};
  record.payload = observed;
  journal::AppendBatch batch;
  batch.records.push_back(std::move(record));
  if (!resourceVersion.empty())  // empty for a DELETED synthesized after a re-list
    batch.meta.emplace_back(watchRvKey("onboarding", deps_.apiGroup, deps_.apiResource), resourceVersion);
  uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> lock(lowMu_);
    auto seqs = appendBatch(std::move(batch));
    if (!seqs) return seqs.status();
    seq = seqs->front();
    noteUnfolded(seq);
  }
  if (created) {
    std::lock_guard<std::mutex> lock(configMu_);
    enqueue(entry, ConfigItem{configSeq_, configSeen_});
  }
  enqueue(entry, ObservedItem{seq, fold::objectInputOf(type, object), object, resourceVersion, watchEpoch_.load()});
  return Status();
}

void Reconciler::watchResynced() {
  ++watchEpoch_;
  std::vector<Entry*> all;
  {
    std::lock_guard<std::mutex> lock(tableMu_);
    for (auto& [key, e] : entries_)
      if (e->awaiting) all.push_back(e.get());  // only objects waiting for their own write
  }
  for (Entry* e : all) enqueue(e, ResyncItem{});
}

lc::ConfigSeen Reconciler::configSeen(const json& object, journal::WatchType type) const {
  return fold::configSeenOf(type, object);
}

Status Reconciler::observeConfig(journal::WatchType type, const json& object, const std::string& resourceVersion) {
  const json& meta = object["metadata"];
  if (meta.value("name", "") != deps_.providerConfigName) return Status();
  return observeOwnConfig(type, object, resourceVersion);  // reconciler_config.cpp
}

Status Reconciler::listSynced(const std::set<std::string>& presentKeys) {
  std::vector<Entry*> gone;
  {
    std::lock_guard<std::mutex> lock(tableMu_);
    for (auto& [key, e] : entries_)
      if (!presentKeys.count(key)) gone.push_back(e.get());
  }
  for (Entry* e : gone) {
    bool deleted = false;
    {
      std::lock_guard<std::mutex> lock(viewMu_);
      auto it = views_.find(e->id.key());
      deleted = it != views_.end() && it->second.deleted;
    }
    if (deleted) continue;
    json last = json::object();
    last["metadata"] = {{"namespace", e->id.ns}, {"name", e->id.name}};
    SPR_RETURN_IF_ERROR(observeApiObject(journal::WatchType::kDeleted, last, ""));
  }
  return Status();
}

Status Reconciler::configListSynced(bool listed) {
  if (listed) {
    // A restart after a `reconcile` was journaled but before its annotation was removed.
    json config;
    {
      std::lock_guard<std::mutex> lock(configMu_);
      config = config_;
    }
    if (operationOf(config) == "reconcile") clearConfigReconcile(config);
    return Status();
  }
  if (!hasConfig()) return Status();
  json gone = {{"metadata", {{"name", deps_.providerConfigName}}}};
  return observeConfig(journal::WatchType::kDeleted, gone, "");
}

void Reconciler::bookmark(const std::string& cluster, const std::string& group, const std::string& resource,
                          const std::string& resourceVersion) {
  journal::AppendBatch batch;
  batch.meta.emplace_back(watchRvKey(cluster, group, resource), resourceVersion);
  (void)appendBatch(std::move(batch));
}

}  // namespace spr::runtime
