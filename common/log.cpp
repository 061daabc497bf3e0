#include "common/log.h"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace spr::log {
namespace {

std::atomic<int> gMinLevel{static_cast<int>(Level::kInfo)};
std::atomic<bool> gJson{true};
std::mutex gMutex;          // guards writes so lines never interleave
std::FILE* gOut = nullptr;  // guarded by gMutex; null = stderr

const char* levelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

std::string nowRfc3339() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void configure(Level minLevel, bool json) {
  gMinLevel = static_cast<int>(minLevel);
  gJson = json;
}

Level parseLevel(std::string value) {
  for (auto& c : value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (value == "DEBUG" || value == "TRACE") return Level::kDebug;
  if (value == "WARN" || value == "WARNING") return Level::kWarn;
  if (value == "ERROR") return Level::kError;
  return Level::kInfo;
}

bool logToFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return false;
  std::lock_guard<std::mutex> lock(gMutex);
  if (gOut) std::fclose(gOut);
  gOut = f;
  return true;
}

bool enabled(Level level) { return static_cast<int>(level) >= gMinLevel.load(); }

void write(Level level, std::string_view message, const nlohmann::json& fields) {
  if (!enabled(level)) return;
  std::string line;
  if (gJson) {
    nlohmann::json j = {{"ts", nowRfc3339()}, {"level", levelName(level)}, {"msg", message}};
    if (fields.is_object()) {
      for (auto it = fields.begin(); it != fields.end(); ++it) j[it.key()] = it.value();
    }
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = nowRfc3339() + " " + levelName(level) + " " + std::string(message);
    if (fields.is_object() && !fields.empty()) {
      line += " " + fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  std::lock_guard<std::mutex> lock(gMutex);
  std::FILE* out = gOut ? gOut : stderr;
  std::fputs(line.c_str(), out);
  std::fputc('\n', out);
  if (gOut) std::fflush(gOut);
}

}  // namespace spr::log
