// The pieces of a watch that need no network: splitting a streamed body into lines,
// decoding one line into a WatchEvent, and the per-watch set of known objects (ns/name ->
// resourceVersion) that turns a re-list into ADDED/MODIFIED/DELETED events. Not
// thread-safe: each instance belongs to one watch on the Watcher's thread.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adapters/k8s/watch.h"
#include "common/status.h"

namespace spr::k8s {

// Accumulates chunks and calls `onLine` for every complete, non-empty line ('\n'-terminated,
// a trailing '\r' dropped). A partial last line waits for the next chunk.
class LineSplitter {
 public:
  void feed(const char* data, size_t size, const std::function<void(const std::string&)>& onLine);
  void clear() { pending_.clear(); }
  const std::string& pending() const { return pending_; }

 private:
  std::string pending_;
};

// {"type":..., "object":{...}} -> WatchEvent (resourceVersion from object.metadata). kInternal
// naming the line when it is not a watch event.
[[nodiscard]] Result<WatchEvent> decodeWatchEvent(const std::string& line);

// "ns/name" of an object ("/name" when cluster-scoped).
std::string objectKey(const nlohmann::json& object);

class KnownObjects {
 public:
  // Records an ADDED/MODIFIED/DELETED event (other types are ignored).
  void apply(const WatchEvent& event);
  // Turns a complete list (items) into the events that bring a watcher that has seen the
  // known set up to date: ADDED for new keys, MODIFIED for a changed resourceVersion and a
  // synthesized DELETED (object: apiVersion, kind, metadata name/namespace/resourceVersion)
  // for every known key absent from the list. Updates the known set.
  std::vector<WatchEvent> relist(const nlohmann::json& items, const std::string& apiVersion, const std::string& kind);
  size_t size() const { return rvs_.size(); }
  bool contains(const std::string& key) const { return rvs_.count(key) > 0; }
  void seed(std::map<std::string, std::string> known) { rvs_ = std::move(known); }

 private:
  std::map<std::string, std::string> rvs_;  // objectKey -> resourceVersion
};

}  // namespace spr::k8s
