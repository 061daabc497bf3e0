// ObjectStore: one simulated cluster's objects as JSON, keyed by collection
// ("<group>/<resource>") and "<namespace>/<name>", with one resourceVersion counter for
// the whole cluster (like etcd) and a bounded log of watch events per collection.
// NOT thread-safe: the owning Cluster guards every call with its mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace spr::sim {

struct StoredEvent {
  uint64_t rv = 0;
  std::string type;  // ADDED, MODIFIED, DELETED
  nlohmann::json object;
};

class ObjectStore {
 public:
  explicit ObjectStore(size_t window) : window_(window) {}

  const nlohmann::json* get(const std::string& key, const std::string& ns, const std::string& name) const;
  // Objects of a collection in (namespace, name) order; ns "" = all namespaces.
  std::vector<const nlohmann::json*> list(const std::string& key, const std::string& ns) const;
  // Stores `object` (ADDED when new, else MODIFIED) under a fresh resourceVersion, which it
  // also writes into object.metadata.resourceVersion. Returns the stored object.
  const nlohmann::json& put(const std::string& key, nlohmann::json object);
  // Removes the object, logging DELETED with its last state under a fresh resourceVersion.
  // Returns that last state (with the new resourceVersion).
  nlohmann::json remove(const std::string& key, const std::string& ns, const std::string& name);
  // Drops a whole collection (a deleted CRD's objects), logging DELETED for each.
  void dropCollection(const std::string& key);
  // Namespaced collections holding anything in `ns`.
  bool namespaceEmpty(const std::string& ns) const;
  std::vector<std::pair<std::string, std::string>> objectsInNamespace(const std::string& ns) const;  // (key, name)

  uint64_t currentRv() const { return rv_; }
  // True when events after `rv` in `key` were dropped from the log (the watch must get 410).
  bool expired(const std::string& key, uint64_t rv) const;
  // Events in `key` with resourceVersion > rv, oldest first.
  std::vector<const StoredEvent*> eventsAfter(const std::string& key, uint64_t rv) const;

 private:
  static std::string id(const std::string& ns, const std::string& name) { return ns + "/" + name; }
  void log(const std::string& key, StoredEvent event);

  size_t window_;
  uint64_t rv_ = 1;
  std::map<std::string, std::map<std::string, nlohmann::json>> objects_;
  std::map<std::string, std::deque<StoredEvent>> events_;
  std::map<std::string, uint64_t> compactedUpTo_;  // highest rv dropped from each log
};

}  // namespace spr::sim
