// Whitebox kill points for crash tests: killPoint("journal.append.before_write") raises
// SIGKILL in this process when the environment variable SPR_KILL_POINT names that point
// ("NAME", or "NAME@N" for its Nth hit). Unset, a call costs one string compare at most.
// Thread-safe: the variable is read once; hits are counted atomically.
#pragma once

namespace spr {

// The environment variable that arms a kill point.
inline constexpr const char* kKillPointEnv = "SPR_KILL_POINT";

// Kills this process with SIGKILL when `name` is the armed point (at its Nth hit).
void killPoint(const char* name);

}  // namespace spr
