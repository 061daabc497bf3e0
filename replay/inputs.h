// Replay's names for the record -> fold-input mapping. The mapping itself lives in
// core/fold/fold_input.h, shared with the runtime that writes the records, so the two can
// never disagree. Pure functions; thread-safe.
#pragma once

#include "core/fold/fold_input.h"

namespace spr::replay {

using fold::commandOf;
using fold::inputOf;
using fold::isConfigRecord;
using fold::opFromName;

}  // namespace spr::replay
