#include <chrono>

#include "runtime/types.h"

namespace spr::runtime {
namespace {

class SystemClock : public Clock {
 public:
  int64_t nowUnixNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

std::unique_ptr<Clock> systemClock() { return std::make_unique<SystemClock>(); }

}  // namespace spr::runtime
