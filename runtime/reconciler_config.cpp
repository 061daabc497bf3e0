// Reconciler: the ProviderConfig side. Journals each event of the provider's ProviderConfig
// (stamped with the CA bundle it names and the count of `reconcile` requests, ca_bundle.h),
// honours its openmcp.cloud/operation annotation (`ignore`: its changes are not acted on;
// `reconcile`: every request is reconciled once, then the annotation is removed), and
// watches spr's ConfigMaps so a changed bundle re-reconciles every request.
#include "common/log.h"
#include "core/fold/fold_input.h"
#include "runtime/ca_bundle.h"
#include "runtime/object_util.h"
#include "runtime/reconciler.h"

namespace spr::runtime {

using nlohmann::json;
namespace lc = lifecycle;

Status Reconciler::observeOwnConfig(journal::WatchType type, const json& object, const std::string& resourceVersion) {
  const bool gone = type == journal::WatchType::kDeleted;
  const std::string operation = gone ? "" : operationOf(object);
  {
    std::lock_guard<std::mutex> lock(configMu_);
    if (operation == "ignore") {
      // Not acted on, so not journaled as an input: only the watch's version advances.
      configIgnored_ = true;
      log::info("ProviderConfig ignored (openmcp.cloud/operation: ignore): its changes are not acted on",
                {{"name", deps_.providerConfigName}, {"resourceVersion", resourceVersion}});
      journal::AppendBatch batch;
      batch.meta.emplace_back(kMetaConfigIgnored, "1");  // a restart keeps ignoring ConfigMap changes too
      if (!resourceVersion.empty())
        batch.meta.emplace_back(watchRvKey("platform", deps_.configGroup, deps_.configResource), resourceVersion);
      auto ok = appendBatch(std::move(batch));
      return ok ? Status() : ok.status();
    }
    configIgnored_ = false;
    if (operation == "reconcile" && operationOf(rawConfig_) != "reconcile") ++reconcileEpoch_;
    rawConfig_ = gone ? json() : object;
    if (configMapsListed_) caStamp_ = caBundleStamp(caBundleRefOf(rawConfig_), configMaps_);
    SPR_RETURN_IF_ERROR(journalConfig(type, object, resourceVersion, true));
  }
  // Every request now has a ConfigSeen with the new epoch queued: the request is served.
  if (operation == "reconcile") clearConfigReconcile(object);
  return Status();
}

Status Reconciler::journalConfig(journal::WatchType type, const json& object, const std::string& resourceVersion,
                                 bool advanceWatchRv) {
  const bool gone = type == journal::WatchType::kDeleted;
  const json stamped = gone ? object : stampConfig(object, caStamp_, deps_.podNamespace, reconcileEpoch_);
  const json& meta = object["metadata"];
  journal::Record record;
  record.wallUnixNanos = deps_.clock->nowUnixNanos();
  record.object = journal::ObjectId{"platform", deps_.configGroup,        deps_.configVersion,  deps_.configKind,
                                    "",         deps_.providerConfigName, meta.value("uid", "")};
  record.payload = journal::Observed{"platform", type, deps_.redact(stamped), resourceVersion, generationOf(object)};
  journal::AppendBatch batch;
  batch.records.push_back(std::move(record));
  if (advanceWatchRv && !resourceVersion.empty())
    batch.meta.emplace_back(watchRvKey("platform", deps_.configGroup, deps_.configResource), resourceVersion);
  auto seqs = appendBatch(std::move(batch));
  if (!seqs) return seqs.status();
  configSeq_ = seqs->front();
  configSeen_ = configSeen(stamped, type);
  config_ = configSeen_.present ? stamped : json();
  journal::AppendBatch pointer;
  pointer.meta.emplace_back(kMetaConfigSeq, std::to_string(configSeq_));
  pointer.meta.emplace_back(kMetaConfigIgnored, "0");
  auto ok = appendBatch(std::move(pointer));
  if (!ok) return ok.status();
  log::info("ProviderConfig observed", {{"name", deps_.providerConfigName},
                                        {"present", configSeen_.present},
                                        {"seq", configSeq_},
                                        {"pollIntervalMs", configSeen_.pollIntervalMs},
                                        {"caBundle", caStamp_},
                                        {"reconcileEpoch", reconcileEpoch_}});
  std::vector<Entry*> all;
  {
    std::lock_guard<std::mutex> tl(tableMu_);
    for (auto& [key, e] : entries_) all.push_back(e.get());
  }
  for (Entry* e : all) enqueue(e, ConfigItem{configSeq_, configSeen_});
  return Status();
}

Status Reconciler::observeConfigMap(journal::WatchType type, const json& object) {
  const std::string name = object.value("metadata", json::object()).value("name", std::string());
  std::lock_guard<std::mutex> lock(configMu_);
  if (type == journal::WatchType::kDeleted) {
    configMaps_.erase(name);
  } else {
    configMaps_[name] = object.value("data", json::object());
  }
  return configMapsListed_ ? restampConfig() : Status();
}

Status Reconciler::configMapsListed() {
  std::lock_guard<std::mutex> lock(configMu_);
  configMapsListed_ = true;
  return restampConfig();
}

Status Reconciler::restampConfig() {
  if (configIgnored_ || !configSeen_.present || !rawConfig_.is_object()) return Status();
  auto ref = caBundleRefOf(rawConfig_);
  std::string stamp = caBundleStamp(ref, configMaps_);
  if (stamp == caStamp_) return Status();
  log::info("CA bundle changed: every request is reconciled again",
            {{"configMap", ref ? deps_.podNamespace + "/" + ref->name : ""},
             {"key", ref ? ref->key : ""},
             {"from", caStamp_},
             {"to", stamp}});
  caStamp_ = stamp;
  const std::string rv = rawConfig_["metadata"].value("resourceVersion", std::string());
  return journalConfig(journal::WatchType::kModified, rawConfig_, rv, false);
}

// Journaled like a request's ClearOperationAnnotation: an EffectRequested (synced) before the
// write and its EffectCompleted with the tape after, on the ProviderConfig's object id. A
// failure leaves the annotation; the next event still carrying it tries again.
void Reconciler::clearConfigReconcile(const json& config) {
  if (!deps_.clearConfigOperation || stopping_) return;
  uint64_t causeSeq = 0;
  {
    std::lock_guard<std::mutex> lock(configMu_);
    causeSeq = configSeq_;
  }
  journal::Record request;
  request.wallUnixNanos = deps_.clock->nowUnixNanos();
  request.object = journal::ObjectId{"platform",
                                     deps_.configGroup,
                                     deps_.configVersion,
                                     deps_.configKind,
                                     "",
                                     deps_.providerConfigName,
                                     config.value("metadata", json::object()).value("uid", std::string())};
  lc::Command command{lc::Op::kClearOperationAnnotation, deps_.journal->nextSeq(), {}};
  request.payload = fold::requestedOf(command, {{"configSeq", causeSeq}}, causeSeq);
  journal::Record completion = request;
  auto requested = appendOne(std::move(request), journal::Sync::kSync);
  if (!requested) return;
  EffectOutput out = deps_.clearConfigOperation(config);
  out.done.effectId = command.effectId;
  out.done.op = command.op;
  completion.wallUnixNanos = deps_.clock->nowUnixNanos();
  completion.payload = fold::completedOf(out.done, out.errorClass, out.result, std::move(out.tape));
  auto done = appendOne(std::move(completion), journal::Sync::kNone);
  if (!done) return;
  log::info("ProviderConfig reconcile requested: every request reconciled again; annotation removal",
            {{"name", deps_.providerConfigName},
             {"outcome", lc::outcomeName(out.done.outcome)},
             {"message", out.done.message}});
}

}  // namespace spr::runtime
