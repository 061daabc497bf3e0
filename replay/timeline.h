// Time travel over one object: its timeline (every record: time, input, transition,
// commands, effect outcome — "why did it reconcile?") and its state as of a record
// (folded state, last API object, pending commands) computed by replay.
// Functions; the journal may be appended to concurrently.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/journal/record.h"
#include "replay/replayer.h"

namespace spr::replay {

// One row per record of the object, oldest first, each {"seq","time","record","detail",...}.
// `configRecords` are the ProviderConfig events the object's Transitions folded; a
// Transition's row names its input from them or from the object's own records.
std::vector<nlohmann::json> timelineRows(const std::vector<journal::Record>& records);
std::string timelineTable(const std::vector<nlohmann::json>& rows);

// The object's state as of the last record replayed: {"object","seq","phase","state",
// "apiObject","pendingCommands","producedNotJournaled"}.
nlohmann::json stateView(const ObjectReplay& object, uint64_t asOfSeq);
std::string stateViewText(const nlohmann::json& view);

}  // namespace spr::replay
