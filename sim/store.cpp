#include "sim/store.h"

namespace spr::sim {

using nlohmann::json;

namespace {

std::string metaString(const json& object, const char* field) {
  const json& meta = object.at("metadata");
  return meta.contains(field) && meta[field].is_string() ? meta[field].get<std::string>() : "";
}

}  // namespace

const json* ObjectStore::get(const std::string& key, const std::string& ns, const std::string& name) const {
  auto c = objects_.find(key);
  if (c == objects_.end()) return nullptr;
  auto o = c->second.find(id(ns, name));
  return o == c->second.end() ? nullptr : &o->second;
}

std::vector<const json*> ObjectStore::list(const std::string& key, const std::string& ns) const {
  std::vector<const json*> out;
  auto c = objects_.find(key);
  if (c == objects_.end()) return out;
  auto it = ns.empty() ? c->second.begin() : c->second.lower_bound(ns + "/");
  for (; it != c->second.end(); ++it) {
    if (!ns.empty() && it->first.compare(0, ns.size() + 1, ns + "/") != 0) break;
    out.push_back(&it->second);
  }
  return out;
}

const json& ObjectStore::put(const std::string& key, json object) {
  ++rv_;
  object["metadata"]["resourceVersion"] = std::to_string(rv_);
  std::string oid = id(metaString(object, "namespace"), metaString(object, "name"));
  auto& coll = objects_[key];
  bool isNew = coll.find(oid) == coll.end();
  json& slot = coll[oid];
  slot = std::move(object);
  log(key, {rv_, isNew ? "ADDED" : "MODIFIED", slot});
  return slot;
}

json ObjectStore::remove(const std::string& key, const std::string& ns, const std::string& name) {
  auto& coll = objects_[key];
  auto it = coll.find(id(ns, name));
  if (it == coll.end()) return nullptr;
  json last = std::move(it->second);
  coll.erase(it);
  ++rv_;
  last["metadata"]["resourceVersion"] = std::to_string(rv_);
  log(key, {rv_, "DELETED", last});
  return last;
}

void ObjectStore::dropCollection(const std::string& key) {
  auto c = objects_.find(key);
  if (c == objects_.end()) return;
  std::vector<std::pair<std::string, std::string>> ids;
  for (const auto& [oid, obj] : c->second) ids.emplace_back(metaString(obj, "namespace"), metaString(obj, "name"));
  for (const auto& [ns, name] : ids) remove(key, ns, name);
}

bool ObjectStore::namespaceEmpty(const std::string& ns) const {
  for (const auto& [key, coll] : objects_) {
    if (key == "/namespaces") continue;
    auto it = coll.lower_bound(ns + "/");
    if (it != coll.end() && it->first.compare(0, ns.size() + 1, ns + "/") == 0) return false;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> ObjectStore::objectsInNamespace(const std::string& ns) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, coll] : objects_) {
    if (key == "/namespaces") continue;
    for (auto it = coll.lower_bound(ns + "/"); it != coll.end(); ++it) {
      if (it->first.compare(0, ns.size() + 1, ns + "/") != 0) break;
      out.emplace_back(key, it->first.substr(ns.size() + 1));
    }
  }
  return out;
}

bool ObjectStore::expired(const std::string& key, uint64_t rv) const {
  auto it = compactedUpTo_.find(key);
  return it != compactedUpTo_.end() && rv < it->second;
}

std::vector<const StoredEvent*> ObjectStore::eventsAfter(const std::string& key, uint64_t rv) const {
  std::vector<const StoredEvent*> out;
  auto it = events_.find(key);
  if (it == events_.end()) return out;
  const auto& log = it->second;
  // Binary search on the (rv-ordered) log for the first event after rv.
  size_t lo = 0, hi = log.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (log[mid].rv <= rv)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (size_t i = lo; i < log.size(); ++i) out.push_back(&log[i]);
  return out;
}

void ObjectStore::log(const std::string& key, StoredEvent event) {
  auto& log = events_[key];
  log.push_back(std::move(event));
  while (log.size() > window_) {
    compactedUpTo_[key] = log.front().rv;
    log.pop_front();
  }
}

}  // namespace spr::sim
