// Waiting on a condition in tests: polls `done` until it holds or `seconds` pass (generous
// bounds; a test never sleeps to synchronize). Header-only; thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace spr::testing {

inline bool eventually(const std::function<bool()>& done, int seconds = 60) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace spr::testing
