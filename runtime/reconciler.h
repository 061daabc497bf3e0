// The per-object heart of the operator: the object table, each object's mailbox of
// journaled inputs, and process(key), which folds inputs, journals Transition +
// EffectRequested (synced) before running each command, and journals EffectCompleted
// after. Thread-safe: watch threads call observe*(); workers call process() for keys the
// WorkQueue hands them, so one object is never processed by two threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "core/journal/journal.h"
#include "core/statemachine/lifecycle.h"
#include "runtime/effect_types.h"
#include "runtime/metrics.h"
#include "runtime/types.h"
#include "runtime/workqueue.h"

namespace spr::runtime {

struct ReconcilerDeps {
  journal::Journal* journal = nullptr;  // all pointers must outlive the Reconciler
  EffectRunner* runner = nullptr;
  Metrics* metrics = nullptr;
  Clock* clock = nullptr;
  WorkQueue* queue = nullptr;
  TimerList* timers = nullptr;
  RateLimiter* limiter = nullptr;
  double delayScale = 1.0;
  std::string providerName;
  std::string providerConfigName;                          // the ProviderConfig spr reads; "" = providerName
  std::string apiGroup, apiVersion, apiKind, apiResource;  // the ServiceProviderAPI kind
  std::string configGroup, configVersion, configKind, configResource;  // the ProviderConfig kind
  std::function<void(const Status&)> onFatal;
  // Serializes an object for the journal with Secret data and credentials redacted.
  std::function<std::string(const nlohmann::json&)> redact;
  // spr's namespace on the platform cluster (POD_NAMESPACE): where caBundleRef ConfigMaps live.
  std::string podNamespace = "default";
  // Removes the ProviderConfig's `openmcp.cloud/operation: reconcile` (EffectExecutor::
  // clearConfigOperation); empty = not removed (tests without clusters).
  std::function<EffectOutput(const nlohmann::json& config)> clearConfigOperation;
  // Tests only: called at the points a kill -9 matters ("requested": a fold's effect
  // requests are durable, none ran, `command` is the first; "completed": `command`'s
  // EffectCompleted is durable, not folded). Returning true "kills" the reconciler there:
  // it journals and runs nothing more.
  std::function<bool(const char* point, const lifecycle::Command& command)> crashAt;
};

// Meta keys in the journal (see RECORDS.md).
std::string watchRvKey(const std::string& cluster, const std::string& group, const std::string& resource);
inline constexpr const char* kMetaConfigSeq = "runtime/config-seq";
inline constexpr const char* kMetaLowWater = "runtime/fold-low-water";
inline constexpr const char* kMetaConfigIgnored = "runtime/config-ignored";  // "1": the latest config event said ignore

class Reconciler {
 public:
  explicit Reconciler(ReconcilerDeps deps);

  // Startup: loads every object's state, re-arms timers, resumes an interrupted Create
  // (Observe first) and resolves any other in-flight effect as Unknown, re-queues Observed
  // records journaled but not folded before a crash.
  [[nodiscard]] Status restore();
  // A watch event for the API kind (type ADDED/MODIFIED/DELETED). Journals it, then queues it.
  [[nodiscard]] Status observeApiObject(journal::WatchType type, const nlohmann::json& object,
                                        const std::string& resourceVersion);
  // A watch event for a ProviderConfig (only the one named after the provider matters).
  [[nodiscard]] Status observeConfig(journal::WatchType type, const nlohmann::json& object,
                                     const std::string& resourceVersion);
  // After a (re-)list: API objects in the table but not in `present` are gone.
  [[nodiscard]] Status listSynced(const std::set<std::string>& presentKeys);
  // A watch event for a ConfigMap in spr's namespace. Once they are listed, a change of the
  // one the ProviderConfig's caBundleRef names (or its appearance) journals the config again,
  // stamped with the new bundle digest, which re-reconciles every request (ca_bundle.h).
  [[nodiscard]] Status observeConfigMap(journal::WatchType type, const nlohmann::json& object);
  [[nodiscard]] Status configMapsListed();
  // After the first list of ProviderConfigs: if ours was not in it but the journal still
  // has it as present, it was deleted while spr was down.
  [[nodiscard]] Status configListSynced(bool listed);
  // After every complete (re-)list of the API kind: a new watch begins, so an object
  // waiting for the watch to catch up with its own write takes the list's version.
  void watchResynced();
  // Persists a bookmark's resourceVersion.
  void bookmark(const std::string& cluster, const std::string& group, const std::string& resource,
                const std::string& resourceVersion);
  // Worker: drains the object's mailbox and pending commands.
  void process(const std::string& key);
  // Stop acting: no further effects are started (an effect already running completes).
  void stop() { stopping_ = true; }

  std::vector<ObjectView> views() const;
  std::string apiObjectKey(const std::string& ns, const std::string& name) const;
  bool hasConfig() const;

 private:
  struct ObservedItem {
    uint64_t seq = 0;
    lifecycle::Input input;
    nlohmann::json object;
    std::string resourceVersion{};
    uint64_t watchEpoch = 0;  // which (re-)list of the watch delivered it
  };
  struct ConfigItem {
    uint64_t seq = 0;
    lifecycle::ConfigSeen config;
  };
  struct TimerItem {
    uint64_t token = 0;
    int64_t dueUnixNanos = 0;
    bool poll = false;  // a Ready object's periodic poll (backoff and not-ready requeues are not)
  };
  struct ResolveItem {  // restart: an in-flight effect with no EffectCompleted
    uint64_t effectId = 0;
    lifecycle::Op op = lifecycle::Op::kObserve;
  };
  struct ResyncItem {};  // the watch re-listed (see watchResynced)
  using MailItem = std::variant<ObservedItem, ConfigItem, TimerItem, ResolveItem, ResyncItem>;
  // A command the fold asked for, with the ProviderConfig in force when it was requested
  // (the one its EffectRequested names), so the effect does not see a later one.
  struct PendingCommand {
    lifecycle::Command command;
    nlohmann::json config;
    uint64_t configSeq = 0;
  };

  struct Entry {
    journal::ObjectId id;
    std::string tenant;
    // Lists, not deques: a std::deque allocates ~1 KB at construction, and restore makes
    // one Entry per object (47,619 of them on a 1M-record journal).
    std::mutex mu;                // guards mailbox only
    std::list<MailItem> mailbox;  // guarded by mu
    // Owned by the worker processing this key:
    lifecycle::State state;
    nlohmann::json object;  // latest API object (unredacted)
    std::list<PendingCommand> pending;
    uint64_t lastObservedSeq = 0;
    uint64_t timerToken = 0;
    int64_t timerDueUnixNanos = 0;
    // Ordered folding: after one of our writes returned version awaitRv, watch events of
    // the same watch that arrive before it are older and are not folded (the latest of
    // them is kept in `skipped` until the watch catches up or re-lists).
    std::string awaitRv;
    std::atomic<bool> awaiting{false};  // !awaitRv.empty(), readable by the watch thread
    uint64_t awaitEpoch = 0;
    std::optional<ObservedItem> skipped;
    int skips = 0;           // events skipped in the current wait
    std::string lastSeenRv;  // resourceVersion of the latest watch event handled
  };

  // map[key], in O(1) when key sorts after every key present (restore inserts the state
  // table in key order; a lookup of one of its long shared-prefix keys costs ~16 compares).
  template <class Map>
  static typename Map::mapped_type& sortedSlot(Map& map, std::string key) {
    auto it = !map.empty() && map.rbegin()->first < key ? map.end() : map.lower_bound(key);
    if (it == map.end() || it->first != key) it = map.emplace_hint(it, std::move(key), typename Map::mapped_type());
    return it->second;
  }
  Entry* findOrCreate(const journal::ObjectId& id, const std::string& tenant, bool* created);
  Entry* find(const std::string& key) const;
  void enqueue(Entry* entry, MailItem item, bool front = false);
  bool step(Entry* entry);
  [[nodiscard]] Status handle(Entry* entry, const ObservedItem& item);
  [[nodiscard]] Status handle(Entry* entry, const ConfigItem& item);
  [[nodiscard]] Status handle(Entry* entry, const TimerItem& item);
  [[nodiscard]] Status handle(Entry* entry, const ResolveItem& item);
  [[nodiscard]] Status handle(Entry* entry, const ResyncItem& item);
  bool staleObserved(Entry* entry, const ObservedItem& item);
  void awaitOwnWrite(Entry* entry, const nlohmann::json& updated, uint64_t epochAtStart);
  [[nodiscard]] Result<std::optional<journal::Record>> findCompletion(const Entry& entry, uint64_t effectId) const;
  [[nodiscard]] Status foldCompletion(Entry* entry, const journal::Record& record);
  bool crashed(const char* point, const lifecycle::Command& command);
  void addEffectRequests(const Entry& entry, const std::vector<lifecycle::Command>& commands, uint64_t inputSeq,
                         uint64_t configSeq, journal::AppendBatch* batch) const;
  void logFold(const Entry& entry, const lifecycle::FoldResult& result, const std::string& from, uint64_t inputSeq,
               const std::string& cause) const;
  [[nodiscard]] Status foldInput(Entry* entry, const lifecycle::Input& input, uint64_t inputSeq,
                                 const std::string& cause);
  [[nodiscard]] Status runCommand(Entry* entry, const PendingCommand& command, bool resume = false);
  journal::AppendBatch completionBatch(const Entry& entry, EffectOutput* out) const;
  [[nodiscard]] Result<uint64_t> appendOne(journal::Record record, journal::Sync sync);
  [[nodiscard]] Result<std::vector<uint64_t>> appendBatch(journal::AppendBatch batch);
  void armTimer(Entry* entry, const lifecycle::RequeueAfter& requeue);
  std::string stateBlob(const Entry& entry) const;
  void publishView(const Entry& entry);
  void fatal(const Status& status);
  journal::Record newRecord(const Entry& entry) const;
  lifecycle::ConfigSeen configSeen(const nlohmann::json& object, journal::WatchType type) const;
  // reconciler_config.cpp: the ProviderConfig's operation annotation and CA bundle stamps.
  [[nodiscard]] Status observeOwnConfig(journal::WatchType type, const nlohmann::json& object,
                                        const std::string& resourceVersion);
  // REQUIRES: configMu_ held. Journals `object` stamped, makes it the config in force and
  // queues a ConfigSeen for every object; `advanceWatchRv` also records the watch's version.
  [[nodiscard]] Status journalConfig(journal::WatchType type, const nlohmann::json& object,
                                     const std::string& resourceVersion, bool advanceWatchRv);
  [[nodiscard]] Status restampConfig();  // REQUIRES: configMu_ held
  void clearConfigReconcile(const nlohmann::json& config);
  void noteUnfolded(uint64_t seq);
  void noteFolded(uint64_t seq);
  std::string lowWater() const;
  // One state-table row as restore decodes it: pure, so restore decodes rows on two threads.
  struct DecodedState {
    Status status;  // not ok: the row is not a runtime state blob
    lifecycle::State state;
    std::string uid;
    std::optional<std::string> tenant;
    nlohmann::json object;
    uint64_t lastObservedSeq = 0, timerToken = 0;
    int64_t timerDueUnixNanos = 0;
  };
  static DecodedState decodeState(const std::string& key, const std::string& blob);
  // Deleted objects are not restored: `forgotten` gets their key -> uid.
  [[nodiscard]] Status restoreEntry(const std::string& key, DecodedState row,
                                    std::map<std::string, std::string>* forgotten);
  [[nodiscard]] Status forgetDeleted(const std::map<std::string, std::string>& forgotten);
  [[nodiscard]] Status restoreConfig();
  [[nodiscard]] Status recoverUnfolded(const std::map<std::string, std::string>& forgotten);

  ReconcilerDeps deps_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> fatal_{false};
  std::atomic<uint64_t> watchEpoch_{0};  // complete (re-)lists of the API kind so far

  mutable std::mutex tableMu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;  // guarded by tableMu_ (map only)

  mutable std::mutex configMu_;
  nlohmann::json config_;                             // guarded by configMu_; null when absent
  lifecycle::ConfigSeen configSeen_;                  // guarded by configMu_
  uint64_t configSeq_ = 0;                            // guarded by configMu_
  nlohmann::json rawConfig_;                          // guarded by configMu_: the ProviderConfig acted on, unstamped
  std::map<std::string, nlohmann::json> configMaps_;  // guarded by configMu_: spr's ConfigMaps, name -> data
  bool configMapsListed_ = false;                     // guarded by configMu_
  bool configIgnored_ = false;                        // guarded by configMu_: the latest event said operation ignore
  std::string caStamp_;                               // guarded by configMu_: the CA bundle stamp in force
  uint64_t reconcileEpoch_ = 0;                       // guarded by configMu_: `reconcile` requests seen

  mutable std::mutex lowMu_;
  std::multiset<uint64_t> unfolded_;  // guarded by lowMu_: Observed seqs not yet folded

  mutable std::mutex viewMu_;
  std::map<std::string, ObjectView> views_;  // guarded by viewMu_
};

}  // namespace spr::runtime
