// Journal records as JSON, for repro bundles, archives and `--json` output, plus a
// one-line human summary of a record (timelines, divergence context). Every schema field
// round-trips, hashes as lower-case hex, so a record read back re-hashes to the same value.
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "core/journal/record.h"

namespace spr::replay {

nlohmann::json recordToJson(const journal::Record& record);
// Rejects a malformed record with kInvalidArgument naming the field.
[[nodiscard]] Result<journal::Record> recordFromJson(const nlohmann::json& json);

// "Observed MODIFIED gen=2 rv=15", "Transition Pending -> Observing: ...", ...
std::string summarize(const journal::Record& record);

// "<namespace>/<name>" of an API object record.
std::string nsName(const journal::ObjectId& id);

// JSON text on one line; invalid UTF-8 is replaced rather than thrown on.
std::string dumpLine(const nlohmann::json& json);

}  // namespace spr::replay
