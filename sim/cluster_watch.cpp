// Cluster's watches: the initial state, events after a resourceVersion, bookmarks, 410.
#include "sim/cluster.h"

namespace spr::sim {

using nlohmann::json;

namespace {

std::string line(const std::string& type, const json& object) {
  return wireJson(json{{"type", type}, {"object", object}}) + "\n";
}

// An event's line; for a Table watch its object is a one-row Table, with the column
// definitions in the first event only (as kube-apiserver sends them).
std::string eventLine(WatchCursor& c, const std::string& type, const json& object) {
  if (!c.table) return line(type, object);
  json table = toTable({&object}, {{"resourceVersion", object["metadata"].value("resourceVersion", "")}}, *c.table);
  c.table->noHeaders = true;
  return line(type, table);
}

std::string expiredLine(uint64_t requested, uint64_t current) {
  json status = {
      {"kind", "Status"},
      {"apiVersion", "v1"},
      {"metadata", json::object()},
      {"status", "Failure"},
      {"message", "too old resource version: " + std::to_string(requested) + " (" + std::to_string(current) + ")"},
      {"reason", "Expired"},
      {"code", 410}};
  return line("ERROR", status);
}

}  // namespace

std::optional<ApiResponse> Cluster::openWatch(const ApiRequest& r, WatchCursor& c) {
  std::lock_guard<std::mutex> lock(mu_);
  Target t;
  if (auto err = parseTarget(r.path, t)) return err;
  if (t.status) return methodNotAllowed("watch is not supported on the status subresource");
  auto labels = LabelSelector::parse(r.param("labelSelector"));
  if (!labels) return badRequest(labels.status().message());
  std::string fieldText = r.param("fieldSelector");
  if (!t.name.empty()) fieldText = "metadata.name=" + t.name + (fieldText.empty() ? "" : "," + fieldText);
  auto fields = FieldSelector::parse(fieldText);
  if (!fields) return badRequest(fields.status().message());
  c.key = t.type->key();
  c.ns = t.ns;
  c.kind = t.type->kind;
  c.apiVersion = t.type->apiVersion();
  c.custom = t.type->custom;
  c.labels = std::move(*labels);
  c.fields = std::move(*fields);
  c.bookmarks = r.flag("allowWatchBookmarks");
  c.table = tableOptions(t, r);
  std::string rv = r.param("resourceVersion");
  if (rv.empty() || rv == "0") {
    for (const json* obj : store_.list(c.key, c.ns))
      if (c.labels->matches((*obj)["metadata"].value("labels", json())) && c.fields->matches(*obj))
        c.initialLines.push_back(eventLine(c, "ADDED", outputObject(*t.type, *obj)));
    c.rv = store_.currentRv();
    if (r.flag("sendInitialEvents") && c.bookmarks) {
      json bm = {
          {"kind", c.kind},
          {"apiVersion", c.apiVersion},
          {"metadata",
           {{"resourceVersion", std::to_string(c.rv)}, {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}};
      c.initialLines.push_back(line("BOOKMARK", bm));
    }
    return std::nullopt;
  }
  char* end = nullptr;
  uint64_t n = std::strtoull(rv.c_str(), &end, 10);
  if (!end || *end != '\0')
    return badRequest("resourceVersion: Invalid value: \"" + rv + "\": must be an unsigned integer");
  if (store_.expired(c.key, n) || (expireRvs_ && n < store_.currentRv())) {
    c.initialLines.push_back(expiredLine(n, store_.currentRv()));
    c.finished = true;
    return std::nullopt;
  }
  c.rv = n;
  return std::nullopt;
}

std::vector<std::string> Cluster::pollWatch(WatchCursor& c, std::chrono::milliseconds maxWait, bool& ended) {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<std::string> out;
  auto collect = [&]() {
    bool known = false;
    for (const auto& t : types_) known = known || (t.key() == c.key && t.kind == c.kind);
    if (!known) {
      ended = true;
      return;
    }
    if (store_.expired(c.key, c.rv)) {
      out.push_back(expiredLine(c.rv, store_.currentRv()));
      ended = true;
      return;
    }
    for (const StoredEvent* e : store_.eventsAfter(c.key, c.rv)) {
      c.rv = e->rv;
      const json& meta = e->object["metadata"];
      if (!c.ns.empty() && meta.value("namespace", "") != c.ns) continue;
      if (!c.labels->matches(meta.value("labels", json())) || !c.fields->matches(e->object)) continue;
      json obj = e->object;
      if (c.custom) obj["apiVersion"] = c.apiVersion;
      out.push_back(eventLine(c, e->type, obj));
    }
  };
  collect();
  if (out.empty() && !ended) {
    changed_.wait_for(lock, maxWait);
    collect();
  }
  return out;
}

std::string Cluster::bookmarkLine(WatchCursor& c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (store_.eventsAfter(c.key, c.rv).empty()) c.rv = std::max(c.rv, store_.currentRv());
  json bm = {{"kind", c.kind}, {"apiVersion", c.apiVersion}, {"metadata", {{"resourceVersion", std::to_string(c.rv)}}}};
  return line("BOOKMARK", bm);
}

void Cluster::wakeWatchers() {
  std::lock_guard<std::mutex> lock(mu_);
  changed_.notify_all();
}

}  // namespace spr::sim
