// Internal to core/journal: what Journal::open checks before it lets RocksDB write in a
// directory (a half-created journal, a damaged one, an unreferenced data file), and the
// completion marker that makes creating a journal crash-atomic. See schema/JOURNAL.md
// ("Opening"). Not thread-safe: used while one Journal is being opened.
#pragma once

#include <rocksdb/options.h>

#include <string>
#include <vector>

#include "common/status.h"
#include "core/journal/journal_impl.h"

namespace spr::journal {

// Creating a journal writes kCreatingFile first and renames it to kMarkerFile last
// (each fsync'ed with the directory): a directory with kCreatingFile, no kMarkerFile and
// no data was never finished and may be created afresh.
inline constexpr const char* kMarkerFile = "SPR_JOURNAL";
inline constexpr const char* kCreatingFile = "SPR_JOURNAL.creating";

// What a journal directory holds, from its file names and sizes alone.
struct DirScan {
  bool exists = false, isDir = false;
  bool current = false;              // RocksDB's CURRENT (the pointer to its MANIFEST)
  bool marker = false;               // kMarkerFile: creation was completed
  bool creating = false;             // kCreatingFile: a create by spr began
  bool nonEmptyWal = false;          // a *.log file with bytes in it
  std::vector<std::string> tables;   // *.sst file names
  std::vector<std::string> foreign;  // names neither RocksDB nor spr writes
  bool hasData() const { return nonEmptyWal || !tables.empty(); }
};

[[nodiscard]] Result<DirScan> scanDir(const std::string& dir);

// "journal DIR is damaged: WHAT. Nothing in it was changed; ..." with the next step.
Status damaged(const std::string& dir, const std::string& what);

// RocksDB options for inspecting without writing a byte: no info log in the directory.
rocksdb::Options inspectOptions(rocksdb::Options base);

// Removes what an interrupted create left (RocksDB's files only, CURRENT first).
// REQUIRES: the scan found no data and no marker.
[[nodiscard]] Status clearAbandonedCreate(const std::string& dir);

// Writes kCreatingFile durably: the first step of creating a journal.
[[nodiscard]] Status beginCreate(const std::string& dir);
// Renames kCreatingFile (written first if missing) to kMarkerFile, durably: the last step.
[[nodiscard]] Status finishCreate(const std::string& dir);

// With impl.db open read-only on an existing database: every table file in the
// directory that the MANIFEST does not reference must hold nothing the database lacks
// (a flush or compaction a kill interrupted); otherwise the MANIFEST lost data.
[[nodiscard]] Status checkUnreferencedTables(Journal::Impl& impl, const DirScan& scan);

}  // namespace spr::journal
