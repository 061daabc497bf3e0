#include "adapters/k8s/watch_stream.h"

namespace spr::k8s {

using nlohmann::json;

void LineSplitter::feed(const char* data, size_t size, const std::function<void(const std::string&)>& onLine) {
  pending_.append(data, size);
  size_t start = 0;
  for (size_t nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n', start)) {
    size_t end = nl;
    if (end > start && pending_[end - 1] == '\r') --end;
    if (end > start) onLine(pending_.substr(start, end - start));
    start = nl + 1;
  }
  pending_.erase(0, start);
}

namespace {

std::string metaString(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto it = meta->find(key);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string objectKey(const json& object) { return metaString(object, "namespace") + "/" + metaString(object, "name"); }

Result<WatchEvent> decodeWatchEvent(const std::string& line) {
  json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("type") || !parsed["type"].is_string())
    return Status(Code::kInternal, "watch stream: not a watch event: " + line.substr(0, 200));
  WatchEvent event;
  event.type = parsed["type"].get<std::string>();
  event.object = parsed.value("object", json());
  if (event.type != "ERROR") event.resourceVersion = metaString(event.object, "resourceVersion");
  return event;
}

void KnownObjects::apply(const WatchEvent& event) {
  if (event.type == "ADDED" || event.type == "MODIFIED")
    rvs_[objectKey(event.object)] = event.resourceVersion;
  else if (event.type == "DELETED")
    rvs_.erase(objectKey(event.object));
}

std::vector<WatchEvent> KnownObjects::relist(const json& items, const std::string& apiVersion,
                                             const std::string& kind) {
  std::vector<WatchEvent> events;
  std::map<std::string, std::string> now;
  for (const json& item : items) {
    json object = item;
    // List items of built-in types carry no apiVersion/kind; give them the list's.
    if (object.is_object() && !object.contains("kind") && !kind.empty()) object["kind"] = kind;
    if (object.is_object() && !object.contains("apiVersion") && !apiVersion.empty()) object["apiVersion"] = apiVersion;
    std::string key = objectKey(object);
    std::string rv = metaString(object, "resourceVersion");
    now[key] = rv;
    auto known = rvs_.find(key);
    if (known == rvs_.end())
      events.push_back({"ADDED", std::move(object), rv});
    else if (known->second != rv)
      events.push_back({"MODIFIED", std::move(object), rv});
  }
  for (const auto& [key, rv] : rvs_) {
    if (now.count(key)) continue;
    auto slash = key.find('/');
    json meta = {{"name", key.substr(slash + 1)}, {"resourceVersion", rv}};
    if (slash > 0) meta["namespace"] = key.substr(0, slash);
    events.push_back({"DELETED", {{"apiVersion", apiVersion}, {"kind", kind}, {"metadata", meta}}, rv});
  }
  rvs_ = std::move(now);
  return events;
}

}  // namespace spr::k8s
