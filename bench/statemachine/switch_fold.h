// Benchmark baseline: a hand-written `switch` fold over the same State/Input/Command
// types as lifecycle::fold, implementing the main path of the same rules (finalizer,
// observe/create/update, ready polling, transient backoff, spec changes in flight,
// deletion). No Boost.MSM, no routing layer. Pure; safe from any thread.
#pragma once

#include "core/statemachine/lifecycle.h"

namespace spr::lifecycle::bench {

FoldResult switchFold(const State& state, const Input& input);

}  // namespace spr::lifecycle::bench
