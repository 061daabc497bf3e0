// The RocksDB journal: an append-only, hash-chained log of Records with indexes by
// object and by tenant, the latest folded state per object, and metadata. See
// schema/JOURNAL.md for the on-disk layout. Thread-safe: appends are serialized by an
// internal mutex; reads may run concurrently with appends and with each other.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "core/journal/record.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace spr::journal {

enum class Sync { kNone, kSync };  // kSync: the WAL is fsync'ed before append returns
enum class Order { kOldestFirst, kNewestFirst };

struct Options {
  bool createIfMissing = true;
  bool readOnly = false;        // OpenForReadOnly: works beside a running writer
  rocksdb::Env* env = nullptr;  // for fault injection in tests; must outlive the Journal
  // Wall clock for records appended with wallUnixNanos==0; empty means the system clock.
  std::function<int64_t()> nowUnixNanos;
  // Free bytes kept on the journal's filesystem: appends below it are refused (kUnavailable,
  // not poisoning), so RocksDB's own flushes and compactions never meet a full disk.
  // 0: an eighth of the filesystem, between 1 MiB and 256 MiB; kNoReserve: no guard (for
  // tests that make RocksDB itself meet a full disk).
  uint64_t reserveBytes = 0;
  static constexpr uint64_t kNoReserve = UINT64_MAX;
  // An append this long after the last flush starts a flush of every column family, so
  // the WAL holds at most about this much of the appends (schema/JOURNAL.md, "Live growth").
  std::chrono::milliseconds flushEvery{std::chrono::minutes(1)};
};

// The free-space guard (Options::reserveBytes), for readiness and metrics.
struct SpaceStatus {
  uint64_t freeBytes = 0;  // on the journal's filesystem, now
  uint64_t reserveBytes = 0;
  uint64_t refusedAppends = 0;  // appends refused for space since open
  bool refusing = false;        // the last append was refused for space
};

// Folded-state writes since open (Journal::stateWrites): a state blob equal to the one last
// written for its object is not written again (its Put would only grow the WAL and the tables).
struct StateWrites {
  uint64_t written = 0;    // state Puts that reached RocksDB
  uint64_t unchanged = 0;  // state blobs skipped: equal to the last one written for that object
};

struct AppendBatch {
  std::vector<Record> records;
  // (objectKey, folded-state blob): latest state per object, written in the same WriteBatch
  // (skipped when equal to the blob this Journal last wrote for the object).
  std::vector<std::pair<std::string, std::string>> states;
  // objectKeys whose state is removed (the object is gone), in the same WriteBatch.
  std::vector<std::string> deleteStates;
  // (key, value): e.g. watch resourceVersions, written in the same WriteBatch.
  std::vector<std::pair<std::string, std::string>> meta;
  Sync sync = Sync::kNone;
};

struct VerifyReport {
  bool ok = false;
  uint64_t recordsChecked = 0;
  uint64_t firstBadSeq = 0;  // 0 when ok, or when the damage is in metadata, not a record
  std::string reason;        // e.g. "record 17: hash mismatch (content edited)"
  std::string headHash;      // hex of the last good record's hash
};

// What the open journal holds in memory (RocksDB's estimates), for /metrics.
struct MemoryUse {
  uint64_t memtables = 0;     // unflushed writes, all column families
  uint64_t blockCache = 0;    // the shared block cache (bounded)
  uint64_t tableReaders = 0;  // index blocks of the open table files
  uint64_t knownBodies = 0;   // body digests remembered (entries, bounded per object)
};

struct Stats {
  uint64_t records = 0, objects = 0, tenants = 0;
  uint64_t bytes = 0;                  // encoded record bytes in the log
  uint64_t diskBytes = 0;              // files in the journal directory (SST, WAL, ...)
  uint64_t firstSeq = 0, lastSeq = 0;  // 0 when empty
};

// What Journal::salvage carried from a damaged journal into a new one.
struct SalvageReport {
  uint64_t firstKept = 0, lastKept = 0;          // the salvaged chain; lastKept < firstKept: none
  uint64_t originalFirst = 0, originalLast = 0;  // the damaged journal's chain, as far as known
  bool lastKnown = true;                         // false: its metadata naming the last sequence was lost too
  // Inclusive ranges of the original's sequences not in the salvaged chain, and among
  // them those still readable (intact in the backup, but cut off by a gap or bad record).
  std::vector<std::pair<uint64_t, uint64_t>> lost, readableButCutOff;
  uint64_t states = 0, metaKeys = 0;  // folded states and runtime meta keys carried over
};

class Journal {
 public:
  // Opens (or with createIfMissing creates) the journal in `dir`. Fails with kNotFound
  // for a missing dir, kInvalidArgument for a dir that is not an spr journal,
  // kVersionMismatch for a journal written by a newer schema.
  [[nodiscard]] static Result<std::unique_ptr<Journal>> open(const std::string& dir, const Options& options = {});
  // An existing journal, read-only (works beside a running writer): what the inspecting
  // commands (verify, stats, replay, audit, export) open.
  [[nodiscard]] static Result<std::unique_ptr<Journal>> openForReading(const std::string& dir);
  // `spr journal repair`: runs RocksDB's repair on `scratchCopy` (a copy of a damaged
  // journal, which it rewrites), then creates a new journal at `target` holding, byte for
  // byte, the newest unbroken piece of the original chain (like a compacted journal), its
  // indexes rebuilt, and the surviving states and meta. REQUIRES: `target` holds no journal.
  [[nodiscard]] static Result<SalvageReport> salvage(const std::string& scratchCopy, const std::string& target);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Assigns seq, schemaVersion, prevHash and hash to each record in order;
  // wallUnixNanos==0 means "now". Returns the assigned sequence numbers. Records,
  // index entries, states and meta go in one atomic WriteBatch. After any failed
  // write/sync every later append fails with kIoError (poisoned).
  [[nodiscard]] Result<std::vector<uint64_t>> append(AppendBatch batch);
  [[nodiscard]] Result<uint64_t> append(Record record, Sync sync);

  [[nodiscard]] Result<std::vector<Record>> readRange(uint64_t fromSeq, uint64_t toSeqInclusive, size_t limit) const;
  // The wall time of the first record at or after `seq` (0 when there is none), read without
  // its bodies and leaving the block cache alone: what the retention check asks each minute.
  [[nodiscard]] Result<int64_t> wallTimeAt(uint64_t seq) const;
  // Visits records from fromSeq in order; visit returns false to stop.
  [[nodiscard]] Status scan(uint64_t fromSeq, const std::function<bool(const Record&)>& visit) const;
  [[nodiscard]] Result<std::vector<Record>> readObject(const std::string& objectKey, Order order, size_t limit) const;
  // Exact tenant match: "acme" never returns records of "acme-2".
  [[nodiscard]] Result<std::vector<Record>> readTenant(const std::string& tenant, Order order, size_t limit) const;
  [[nodiscard]] Result<std::optional<std::string>> latestState(const std::string& objectKey) const;
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> allStates() const;
  [[nodiscard]] Result<std::optional<std::string>> meta(const std::string& key) const;
  [[nodiscard]] Result<std::vector<std::string>> tenants() const;
  // Whether the tenant index lists `tenant` (exact match): one seek, where tenants() walks
  // every tenant (10,000 seeks on a 1M-record journal).
  [[nodiscard]] Result<bool> hasTenant(const std::string& tenant) const;

  // Walks the whole chain: sequence continuity, prevHash links, recomputed hashes,
  // decodability, and the stored chain head / last sequence.
  VerifyReport verify() const;
  [[nodiscard]] Result<Stats> stats() const;  // walks the whole log and both indexes
  // The bytes of the files in the journal directory (Stats::diskBytes), without a walk.
  uint64_t diskBytes() const;

  // Drops the records before firstKeptSeq with their index entries (states and meta are
  // kept), atomically and synced. The chain then starts at firstKeptSeq: its prevHash is
  // kept in meta, so verify() still checks every remaining link. For `spr journal
  // compact`, after a Snapshot. REQUIRES: firstKeptSeq <= nextSeq().
  [[nodiscard]] Status dropBefore(uint64_t firstKeptSeq);
  // Asks RocksDB to compact every column family now (reclaims space after dropBefore).
  [[nodiscard]] Status compactStorage();
  uint64_t firstSeq() const;  // the first record still in the journal (1 unless dropped)

  uint64_t nextSeq() const;
  std::string chainHeadHex() const;
  bool poisoned() const;
  // The folded-state writes since open (what an unchanged poll costs the state table).
  StateWrites stateWrites() const;
  // Reads the free space now (statvfs) and the guard's counters.
  SpaceStatus space() const;
  MemoryUse memory() const;

  // Test hook: the next write fails as if the disk had failed (poisons the journal).
  void failNextWriteForTesting();

  struct Impl;  // opaque; defined in core/journal/journal_impl.h

 private:
  explicit Journal(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace spr::journal
