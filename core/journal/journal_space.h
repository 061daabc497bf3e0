// Internal to core/journal: the free-space guard (appends refused below a reserve, without
// poisoning) and RocksDB's background-error listener (a failed flush or compaction poisons
// the journal; RocksDB's automatic resume is switched off). Thread-safe as noted per call.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "core/journal/journal_impl.h"

namespace spr::journal {

// Options::reserveBytes, or its default for the filesystem holding `dir`.
uint64_t reserveFor(const std::string& dir, uint64_t configured);
// Free bytes on the filesystem holding `dir`; UINT64_MAX when it cannot be read.
uint64_t freeBytes(const std::string& dir);
// Refuses (kUnavailable) an append of about `incoming` bytes that would leave less than
// the reserve free. REQUIRES: im.mu held.
[[nodiscard]] Status checkSpace(Journal::Impl& im, uint64_t incoming);
// Refuses to open `dir` for writing with less than `reserve` free (recovery flushes need it).
[[nodiscard]] Status checkSpaceToOpen(const std::string& dir, uint64_t reserve);
// The listener for Impl::listener; it shares im->background.
std::shared_ptr<rocksdb::EventListener> makeErrorListener(Journal::Impl* im);

}  // namespace spr::journal
