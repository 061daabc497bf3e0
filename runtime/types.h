// Small shared runtime types: the wall Clock (the only source of time for records and
// timers; the fold never sees it) and ObjectView (the live per-object view for progress
// displays). Clock implementations must be thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace spr::runtime {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t nowUnixNanos() const = 0;
};
std::unique_ptr<Clock> systemClock();

// One object as the operator currently sees it (for progress displays).
struct ObjectView {
  std::string key, ns, name, tenant;
  std::string phase;        // lifecycle phase name ("Pending", "Ready", ...)
  std::string statusPhase;  // Progressing | Ready | Terminating
  std::string reason, message;
  bool ready = false;
  bool deleted = false;
};

}  // namespace spr::runtime
