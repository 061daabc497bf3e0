#include "runtime/object_util.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "runtime/status.h"

namespace spr::runtime {

using nlohmann::json;

namespace {

// Durations are capped at a year: anything longer is a typo, and the cap keeps the
// millisecond arithmetic far from overflow.
constexpr double kMaxDurationMs = 365.0 * 24 * 3600 * 1000;

// A decimal number (digits and at most one '.'); nullopt if malformed or not finite.
bool parseNumber(const std::string& text, double* out) {
  if (text.empty() || text == "." || std::count(text.begin(), text.end(), '.') > 1) return false;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

int64_t integerOr0(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return 0;
  // Parsed JSON holds non-negative integers as unsigned.
  return it->is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT64_MAX))
                                  : it->get<int64_t>();
}

std::string stringOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// status.phase, status.observedGeneration and the Ready condition, as the fold compares them.
void readStatus(const json& object, lifecycle::ObjectSeen& seen) {
  auto status = object.find("status");
  if (status == object.end() || !status->is_object()) return;
  seen.hasStatus = true;
  seen.statusPhase = stringOr(*status, "phase");
  seen.statusObservedGeneration = integerOr0(*status, "observedGeneration");
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return;
  for (const auto& c : *conditions) {
    if (!c.is_object() || stringOr(c, "type") != "Ready") continue;
    seen.statusReady = stringOr(c, "status") == "True";
    seen.statusReason = stringOr(c, "reason");
  }
}

}  // namespace

int64_t generationOf(const json& object) {
  if (!object.is_object()) return 0;
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return 0;
  auto g = meta->find("generation");
  if (g == meta->end() || !g->is_number_integer()) return 0;
  return g->is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(g->get<uint64_t>(), INT64_MAX))
                                 : g->get<int64_t>();
}

lifecycle::ObjectSeen objectSeenOf(const json& object) {
  lifecycle::ObjectSeen seen;
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) return seen;
  const json& meta = object["metadata"];
  seen.generation = generationOf(object);
  seen.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
  if (meta.contains("finalizers") && meta["finalizers"].is_array())
    for (const auto& f : meta["finalizers"])
      if (f.is_string() && f.get<std::string>() == kFinalizer) seen.hasFinalizer = true;
  readStatus(object, seen);
  if (meta.contains("annotations") && meta["annotations"].is_object()) {
    auto it = meta["annotations"].find(kOperationAnnotation);
    if (it != meta["annotations"].end() && it->is_string()) seen.operation = it->get<std::string>();
  }
  return seen;
}

int64_t parseDurationMs(const json& value, int64_t fallbackMs) {
  if (value.is_number()) {
    double ms = value.get<double>() * 1000;
    return std::isfinite(ms) && ms > 0 && ms <= kMaxDurationMs ? static_cast<int64_t>(ms) : fallbackMs;
  }
  if (!value.is_string()) return fallbackMs;
  const std::string text = value.get<std::string>();
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) return fallbackMs;
    double number = 0;
    if (!parseNumber(text.substr(start, i - start), &number)) return fallbackMs;
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
  return total > 0 && total <= kMaxDurationMs ? static_cast<int64_t>(total) : fallbackMs;
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
