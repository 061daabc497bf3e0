#include "runtime/status.h"

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

json previousReady(const json& previous) {
  if (!previous.is_object() || !previous.contains("conditions") || !previous["conditions"].is_array()) return json();
  for (const auto& c : previous["conditions"])
    if (c.is_object() && c.value("type", "") == "Ready") return c;
  return json();
}

}  // namespace

json buildStatus(const lifecycle::StatusView& view, const json& previous, int64_t nowUnixNanos) {
  std::string flag = view.ready ? "True" : "False";
  json old = previousReady(previous);
  std::string since = rfc3339(nowUnixNanos);
  if (old.is_object() && old.value("status", "") == flag && old.contains("lastTransitionTime") &&
      old["lastTransitionTime"].is_string())
    since = old["lastTransitionTime"].get<std::string>();
  json ready = {{"type", "Ready"},
                {"status", flag},
                {"reason", view.reason.empty() ? std::string(view.ready ? "Ready" : "Progressing") : view.reason},
                {"message", view.message},
                {"lastTransitionTime", since},
                {"observedGeneration", view.observedGeneration}};
  json status = previous.is_object() ? previous : json::object();
  status["observedGeneration"] = view.observedGeneration;
  status["phase"] = view.phase.empty() ? "Progressing" : view.phase;
  json conditions = json::array();
  if (previous.is_object() && previous.contains("conditions") && previous["conditions"].is_array())
    for (const auto& c : previous["conditions"])
      if (c.is_object() && c.value("type", "") != "Ready") conditions.push_back(c);
  conditions.push_back(ready);
  status["conditions"] = conditions;
  return status;
}

std::string configNotFoundMessage(const std::string& providerName, const std::string& configGroupVersion) {
  return "ProviderConfig \"" + providerName + "\" (" + configGroupVersion +
         ", cluster-scoped) not found on the platform cluster; create it to offer this service";
}

}  // namespace spr::runtime
