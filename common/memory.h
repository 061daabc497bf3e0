// The process's memory over a months-long run: glibc's allocator set so that memory freed
// after a peak goes back to the system, and the resident size read for /metrics.
#pragma once

#include <cstdint>

namespace spr::memory {

// Sets glibc's allocator for a long-running process (README, "Memory over a long run"). Call once, before
// the threads that allocate start; idempotent.
void configureForLongRun();

// Returns to the system the free memory the allocator still holds (after a compaction, a
// flush). Costs a walk of the free lists: call it once a minute, not per request.
void giveBack();

// This process's resident set size in bytes, from /proc/self/statm (0 where there is none).
uint64_t residentBytes();

}  // namespace spr::memory
