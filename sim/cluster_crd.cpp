// Cluster's CRD registry and the namespace lifecycle.
#include "sim/cluster.h"

namespace spr::sim {

using nlohmann::json;

namespace {

json condition(const std::string& type, const std::string& reason, const std::string& message) {
  return {{"type", type},
          {"status", "True"},
          {"lastTransitionTime", nowTimestamp()},
          {"reason", reason},
          {"message", message}};
}

}  // namespace

void Cluster::prepareCrd(json& crd) {
  json& spec = crd["spec"];
  json& names = spec["names"];
  std::string kind = names.value("kind", "");
  if (!names.contains("listKind")) names["listKind"] = kind + "List";
  if (!names.contains("singular")) {
    std::string s;
    for (char c : kind) s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    names["singular"] = s;
  }
  if (!spec.contains("conversion")) spec["conversion"] = {{"strategy", "None"}};
  for (auto& v : spec["versions"])
    if (v.is_object() && !v.contains("served")) v["served"] = true;
  json stored = json::array();
  for (const auto& v : spec["versions"])
    if (v.is_object() && v.value("storage", false)) stored.push_back(v.value("name", ""));
  json status = crd.value("status", json::object());
  if (!status.is_object()) status = json::object();
  bool established = false;
  if (status.contains("conditions") && status["conditions"].is_array())
    for (const auto& c : status["conditions"]) established = established || c.value("type", "") == "Established";
  if (!established)
    status["conditions"] =
        json::array({condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                     condition("Established", "InitialNamesAccepted", "the initial names have been accepted")});
  status["acceptedNames"] = names;
  if (!status.contains("storedVersions") || !status["storedVersions"].is_array()) status["storedVersions"] = stored;
  crd["status"] = status;
}

void Cluster::onCrdWritten(const json& crd) {
  std::string name = crd["metadata"].value("name", "");
  types_.remove_if([&](const ResourceType& t) { return t.custom && t.crdName == name; });
  for (auto& t : typesFromCrd(crd)) types_.push_back(std::move(t));
}

void Cluster::onCrdDeleted(const json& crd) {
  std::string name = crd["metadata"].value("name", "");
  std::string key;
  for (const auto& t : types_)
    if (t.custom && t.crdName == name) key = t.key();
  types_.remove_if([&](const ResourceType& t) { return t.custom && t.crdName == name; });
  if (!key.empty()) store_.dropCollection(key);
}

void Cluster::deleteNamespaceContents(const std::string& ns) {
  for (const auto& [key, name] : store_.objectsInNamespace(ns)) {
    const json* obj = store_.get(key, ns, name);
    if (!obj) continue;
    const json& meta = (*obj)["metadata"];
    bool finalizers = meta.contains("finalizers") && meta["finalizers"].is_array() && !meta["finalizers"].empty();
    if (!finalizers) {
      store_.remove(key, ns, name);
    } else if (!meta.contains("deletionTimestamp")) {
      json marked = *obj;
      marked["metadata"]["deletionTimestamp"] = nowTimestamp();
      marked["metadata"]["deletionGracePeriodSeconds"] = 0;
      store_.put(key, std::move(marked));
    }
  }
}

void Cluster::finalizeNamespaces() {
  bool wrote = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> done;
    for (const auto& name : terminating_)
      if (store_.namespaceEmpty(name)) done.push_back(name);
    for (const auto& n : done) {
      store_.remove("/namespaces", "", n);
      terminating_.erase(n);
    }
    wrote = !done.empty();
  }
  if (wrote) {
    changed_.notify_all();
    if (onChange_) onChange_(Change{name_, "namespaces", "", ""});
  }
}

}  // namespace spr::sim
