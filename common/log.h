// Structured logging: one JSON object per line on stderr (or human-readable text).
// Fields carry the object, reconcile id and cause. Never pass tokens, keys or Secret
// data here; redact first. Thread-safe: each line is written under one mutex.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace spr::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Process-wide sink settings, set once by main() before threads start.
void configure(Level minLevel, bool json);
// "DEBUG", "INFO", "WARN"/"WARNING", "ERROR" in any case, or openmcp-operator's numeric
// verbosity; anything else is kInfo.
Level parseLevel(std::string value);
// Appends log lines to `path` instead of stderr (e.g. `spr demo`, whose terminal shows a
// progress view). False if the file cannot be opened; logging then stays on stderr.
bool logToFile(const std::string& path);
bool enabled(Level level);
void write(Level level, std::string_view message, const nlohmann::json& fields = nlohmann::json::object());

inline void debug(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kDebug, m, f);
}
inline void info(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) { write(Level::kInfo, m, f); }
inline void warn(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) { write(Level::kWarn, m, f); }
inline void error(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kError, m, f);
}

}  // namespace spr::log
