// Running a Replayer over a source: a live journal (all of it, or one object through the
// object index) or the records of a bundle/archive. Restores from the snapshots that
// `spr journal compact` left when the journal's history starts after seq 1.
// Functions; each uses only its arguments (the journal may be read by others meanwhile).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/journal/journal.h"
#include "replay/replayer.h"

namespace spr::replay {

// Meta key (under the journal's user/ prefix) naming the snapshot records of the last
// compaction: "<firstSeq>-<lastSeq>".
inline constexpr const char* kMetaSnapshots = "replay/snapshots";

using Progress = std::function<void(uint64_t recordsReplayed)>;

// Replays `journal` into `replayer` (honouring its objectKey / untilSeq). At the end of a
// full replay (no untilSeq) the folded states are compared with the state table.
// Fails only when the journal cannot be read; a divergence is replayer.divergence().
[[nodiscard]] Status replayJournal(const journal::Journal& journal, Replayer& replayer, const ReplayOptions& options,
                                   const Progress& progress = nullptr);

// Replays records (any order; sorted by seq here). Snapshots older than the first
// non-snapshot record restore their objects first.
[[nodiscard]] Status replayRecords(std::vector<journal::Record> records, Replayer& replayer,
                                   const ReplayOptions& options);

// Resolves "NS/NAME" to the object key of an API object in the journal (via the state
// table, else the log). kInvalidArgument without a slash, kNotFound when absent.
[[nodiscard]] Result<std::string> resolveObject(const journal::Journal& journal, const std::string& nsName);

}  // namespace spr::replay
