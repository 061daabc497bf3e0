#include "runtime/object_util.h"

#include <cctype>
#include <cstdio>

#include "runtime/status.h"

namespace spr::runtime {

using nlohmann::json;

lifecycle::ObjectSeen objectSeenOf(const json& object) {
  lifecycle::ObjectSeen seen;
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) return seen;
  const json& meta = object["metadata"];
  seen.generation = meta.value("generation", int64_t{0});
  seen.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
  if (meta.contains("finalizers") && meta["finalizers"].is_array())
    for (const auto& f : meta["finalizers"])
      if (f.is_string() && f.get<std::string>() == kFinalizer) seen.hasFinalizer = true;
  if (meta.contains("annotations") && meta["annotations"].is_object()) {
    auto it = meta["annotations"].find(kOperationAnnotation);
    if (it != meta["annotations"].end() && it->is_string()) seen.operation = it->get<std::string>();
  }
  return seen;
}

int64_t parseDurationMs(const json& value, int64_t fallbackMs) {
  if (value.is_number()) return static_cast<int64_t>(value.get<double>() * 1000);
  if (!value.is_string()) return fallbackMs;
  const std::string text = value.get<std::string>();
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) return fallbackMs;
    double number = std::stod(text.substr(start, i - start));
    size_t unitStart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(unitStart, i - unitStart);
    if (unit == "ms")
      total += number;
    else if (unit == "s" || unit.empty())
      total += number * 1000;
    else if (unit == "m")
      total += number * 60000;
    else if (unit == "h")
      total += number * 3600000;
    else
      return fallbackMs;
  }
  return total > 0 ? static_cast<int64_t>(total) : fallbackMs;
}

std::string fnv1aHex(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

}  // namespace spr::runtime
