#include "sim/patch.h"

namespace spr::sim {

using nlohmann::json;

namespace {

bool namedObjects(const json& list) {
  if (!list.is_array() || list.empty()) return false;
  for (const auto& item : list)
    if (!item.is_object() || !item.contains("name")) return false;
  return true;
}

json strategicMerge(const json& target, const json& patch);

json mergeNamedLists(const json& target, const json& patch) {
  json out = target;
  for (const auto& p : patch) {
    bool merged = false;
    for (auto& t : out) {
      if (t.value("name", json()) == p["name"]) {
        if (p.value("$patch", "") == "delete")
          t = nullptr;
        else
          t = strategicMerge(t, p);
        merged = true;
        break;
      }
    }
    if (!merged && p.value("$patch", "") != "delete") out.push_back(p);
  }
  json compact = json::array();
  for (auto& t : out)
    if (!t.is_null()) compact.push_back(std::move(t));
  return compact;
}

json strategicMerge(const json& target, const json& patch) {
  if (!patch.is_object()) return patch;
  json out = target.is_object() ? target : json::object();
  for (const auto& [k, v] : patch.items()) {
    if (k == "$patch" || k.rfind("$setElementOrder", 0) == 0 || k.rfind("$retainKeys", 0) == 0) continue;
    if (v.is_null())
      out.erase(k);
    else if (v.is_object())
      out[k] = strategicMerge(out.contains(k) ? out[k] : json(), v);
    else if (namedObjects(v) && out.contains(k) && namedObjects(out[k]))
      out[k] = mergeNamedLists(out[k], v);
    else
      out[k] = v;
  }
  return out;
}

}  // namespace

std::optional<PatchType> patchTypeOf(const std::string& contentType) {
  if (contentType == "application/merge-patch+json") return PatchType::kMerge;
  if (contentType == "application/json-patch+json") return PatchType::kJson;
  if (contentType == "application/strategic-merge-patch+json") return PatchType::kStrategic;
  if (contentType == "application/apply-patch+yaml") return PatchType::kApply;
  return std::nullopt;
}

PatchResult applyPatch(const json& original, PatchType type, const std::string& body) {
  json patch = json::parse(body, nullptr, false);
  if (patch.is_discarded()) return {nullptr, badRequest("error decoding patch: invalid JSON in the request body")};
  PatchResult r;
  switch (type) {
    case PatchType::kJson:
      if (!patch.is_array())
        return {nullptr, badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")};
      try {
        r.object = original.patch(patch);
      } catch (const json::exception& e) {
        return {nullptr,
                failure(422, "Invalid",
                        std::string("the server rejected our request due to an error in our request: ") + e.what())};
      }
      return r;
    case PatchType::kMerge:
    case PatchType::kApply:
      if (!patch.is_object()) return {nullptr, badRequest("error decoding patch: the patch must be a JSON object")};
      r.object = original;
      r.object.merge_patch(patch);
      return r;
    case PatchType::kStrategic:
      if (!patch.is_object()) return {nullptr, badRequest("error decoding patch: the patch must be a JSON object")};
      r.object = strategicMerge(original, patch);
      return r;
  }
  return r;
}

}  // namespace spr::sim
