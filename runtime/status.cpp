#include "runtime/status.h"

#include <algorithm>
#include <cstdint>
#include <ctime>

namespace spr::runtime {

using nlohmann::json;

std::string rfc3339(int64_t unixNanos) {
  std::time_t secs = static_cast<std::time_t>(unixNanos / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

json previousCondition(const json& previous, const std::string& type) {
  if (!previous.is_object() || !previous.contains("conditions") || !previous["conditions"].is_array()) return json();
  for (const auto& c : previous["conditions"])
    if (c.is_object() && c.value("type", "") == type) return c;
  return json();
}

// The condition `type` with `flag`, keeping the previous lastTransitionTime unless it flipped.
json condition(const std::string& type, const std::string& flag, const std::string& reason, const std::string& message,
               const json& previous, int64_t nowUnixNanos, int64_t generation) {
  json old = previousCondition(previous, type);
  std::string since = rfc3339(nowUnixNanos);
  if (old.is_object() && old.value("status", "") == flag && old.contains("lastTransitionTime") &&
      old["lastTransitionTime"].is_string())
    since = old["lastTransitionTime"].get<std::string>();
  return {{"type", type},
          {"status", flag},
          {"reason", reason},
          {"message", conditionMessage(message)},
          {"lastTransitionTime", since},
          {"observedGeneration", generation}};
}

// Length of the UTF-8 sequence starting at text[i] and its code point; 0 when invalid.
size_t decodeUtf8(const std::string& text, size_t i, uint32_t* cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b = byte(i);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > text.size()) return 0;
  uint32_t value = len == 1 ? b : b & (0xFF >> (len + 1));
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    value = (value << 6) | (byte(i + k) & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kMin[len] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  *cp = value;
  return len;
}

bool hidden(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string conditionMessage(const std::string& text) {
  std::string clean;
  clean.reserve(std::min(text.size(), kMaxConditionMessage));
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t len = decodeUtf8(text, i, &cp);
    if (len == 0) {
      clean += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
      i += 1;
      continue;
    }
    if (cp == '\n' || cp == '\t' || cp == '\r')
      clean += ' ';
    else if (!hidden(cp))
      clean.append(text, i, len);
    i += len;
  }
  if (clean.size() <= kMaxConditionMessage) return clean;
  std::string marker = "... [" + std::to_string(clean.size()) + " bytes, cut]";
  size_t keep = kMaxConditionMessage - marker.size();
  while (keep > 0 && (static_cast<unsigned char>(clean[keep]) & 0xC0) == 0x80) --keep;  // whole characters
  return clean.substr(0, keep) + marker;
}

json buildStatus(const lifecycle::StatusView& view, const json& previous, int64_t nowUnixNanos) {
  const std::string reason = view.reason.empty() ? std::string(view.ready ? "Ready" : "Progressing") : view.reason;
  json ready = condition("Ready", view.ready ? "True" : "False", reason, view.message, previous, nowUnixNanos,
                         view.observedGeneration);
  json status = previous.is_object() ? previous : json::object();
  status["observedGeneration"] = view.observedGeneration;
  status["phase"] = view.phase.empty() ? "Progressing" : view.phase;
  json conditions = json::array();
  if (previous.is_object() && previous.contains("conditions") && previous["conditions"].is_array())
    for (const auto& c : previous["conditions"])
      if (c.is_object() && c.value("type", "") != "Ready" && c.value("type", "") != kConditionDeletionBlocked)
        conditions.push_back(c);
  conditions.push_back(ready);
  if (view.reason == lifecycle::kReasonUserResourcesPresent)
    conditions.push_back(condition(kConditionDeletionBlocked, "True", view.reason, view.message, previous, nowUnixNanos,
                                   view.observedGeneration));
  status["conditions"] = conditions;
  return status;
}

bool deletionBlockedIn(const json& status) {
  json c = previousCondition(status, kConditionDeletionBlocked);
  return c.is_object() && c.value("status", "") == "True";
}

std::string configNotFoundMessage(const std::string& providerName, const std::string& configGroupVersion) {
  return "ProviderConfig \"" + providerName + "\" (" + configGroupVersion +
         ", cluster-scoped) not found on the platform cluster; create it to offer this service";
}

}  // namespace spr::runtime
