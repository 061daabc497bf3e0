// `spr journal compact`: moves the history older than a time into an archive bundle and
// leaves, in the live journal, one Snapshot per object (its folded state as of the cut,
// pending commands, and any input record a later Transition still refers to), so the live
// journal replays from the snapshots and the chain stays verifiable across the cut.
// Needs the journal open for writing: run by `spr journal compact` (operator stopped) or
// by `spr run` itself (runtime/retention.h).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "core/journal/journal.h"

namespace spr::replay {

struct CompactResult {
  bool nothingToDo = false;
  uint64_t archivedFrom = 0, archivedTo = 0;  // sequences moved to the archive
  uint64_t keptFrom = 0;                      // the live journal's first sequence
  size_t snapshots = 0;
  std::string archiveHeadHash;  // hex hash of the last archived record (= prevHash of keptFrom)
};

// Cuts before the first record at or after `beforeUnixNanos`, moved back so that no fold's
// batch is split and no input the operator has not folded yet (meta
// runtime/fold-low-water) is archived. An effect in flight across the cut is snapshotted
// whole (command, status, request time), so its EffectCompleted replays against its tape. The ProviderConfig in force
// at the cut is carried in the config snapshot. `archivePath` "" drops the history unarchived. Safe beside the
// operator's own appends (automatic retention in `spr run`). Refuses (kFailedPrecondition-like kInvalidArgument) when
// replay of the archived part diverges: such an archive would not replay.
[[nodiscard]] Result<CompactResult> compactJournal(journal::Journal& journal, int64_t beforeUnixNanos,
                                                   const std::string& archivePath);

}  // namespace spr::replay
