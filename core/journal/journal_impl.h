// Internal to core/journal: the state behind Journal (RocksDB handles, chain head,
// poison flag) and the key encodings shared by journal*.cpp. Not for other folders.
// Thread-safety: `mu` guards nextSeq, head and poisonReason; the rest is set at open.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/listener.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/journal/journal.h"
#include "core/journal/recent_digests.h"

namespace spr::journal {

// Column families (see schema/JOURNAL.md).
inline constexpr const char* kCfLog = "log";
inline constexpr const char* kCfByObject = "by_object";
inline constexpr const char* kCfByTenant = "by_tenant";
inline constexpr const char* kCfState = "state";
inline constexpr const char* kCfMeta = "meta";
// Content-addressed bodies (bodies.h): SHA-256 -> text. Absent in schema-1 journals
// until they are first opened for writing.
inline constexpr const char* kCfBodies = "bodies";

// Keys in the meta column family.
inline constexpr const char* kMetaSchemaVersion = "sys/schema_version";   // decimal text
inline constexpr const char* kMetaLastSeq = "sys/last_seq";               // big-endian u64
inline constexpr const char* kMetaHead = "sys/head";                      // 32 raw bytes
inline constexpr const char* kMetaFirstSeq = "sys/first_seq";             // be64, after compaction
inline constexpr const char* kMetaFirstPrevHash = "sys/first_prev_hash";  // raw, after compaction
inline constexpr const char* kMetaUserPrefix = "user/";

constexpr size_t kHashSize = 32;

// WAL bounds (see dbOptions in journal.cpp and schema/JOURNAL.md).
constexpr uint64_t kWriteBufferBytes = 8ull << 20;   // per column family
constexpr uint64_t kMaxTotalWalBytes = 16ull << 20;  // then the oldest WAL's families flush
// Known body digests kept: per object with state (a poll of a crossplane request stores
// ~13 bodies), within these bounds (~120 bytes each).
constexpr size_t kKnownBodiesPerObject = 32;
constexpr size_t kMinKnownBodies = 1024;
constexpr size_t kMaxKnownBodies = 1 << 16;
// One block cache for every column family (RocksDB gives each table factory its own 8 MiB
// one by default): reads at restore and lookups fill it; it holds no more than this.
constexpr size_t kBlockCacheBytes = 8ull << 20;

std::string be64(uint64_t v);
uint64_t fromBe64(const rocksdb::Slice& s);  // REQUIRES: s.size() >= 8 (reads the first 8)
// "<id>\0<be64 seq>": the by_object / by_tenant index key.
std::string indexKey(const std::string& id, uint64_t seq);
// Which indexes a record has entries in: by_object when it names an object (kind or
// name set), by_tenant when its tenant is not empty.
bool indexedByObject(const Record& r);
bool indexedByTenant(const Record& r);

struct Journal::Impl {
  std::string dir;
  Options options;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // owned; destroyed before db
  rocksdb::ColumnFamilyHandle* log = nullptr;
  rocksdb::ColumnFamilyHandle* byObject = nullptr;
  rocksdb::ColumnFamilyHandle* byTenant = nullptr;
  rocksdb::ColumnFamilyHandle* state = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* bodies = nullptr;    // null: a schema-1 journal opened read-only
  mutable std::mutex mu;                            // serializes appends and dropBefore
  uint64_t firstSeq = 1;                            // guarded by mu; where the chain starts (1 unless dropped)
  std::string firstPrevHash;                        // guarded by mu; prevHash of firstSeq (zeros unless dropped)
  uint64_t nextSeq = 1;                             // guarded by mu
  std::string head;                                 // guarded by mu; hash of record nextSeq-1
  std::string poisonReason;                         // guarded by mu
  std::chrono::steady_clock::time_point lastFlush;  // guarded by mu
  // Digests known to be in `bodies` (so an unchanged body is neither looked up nor
  // rewritten on every poll): the most recently used, bounded by kKnownBodiesPerObject per
  // object; cleared when dropBefore deletes bodies.
  RecentDigests knownBodies{kMinKnownBodies};  // guarded by mu
  // SHA-256 of the state blob last written per objectKey since open, so an unchanged
  // blob is not written again (AppendBatch::states); erased when the state is deleted.
  std::unordered_map<std::string, std::string> stateDigests;  // guarded by mu
  StateWrites stateWrites;                                    // guarded by mu
  bool schemaStamped = false;                                 // guarded by mu; sys/schema_version is kSchemaVersion
  std::atomic<bool> poisoned{false};
  uint64_t reserveBytes = 0;  // set at open
  std::atomic<uint64_t> refusedAppends{0};
  std::atomic<bool> refusing{false};
  // True once RocksDB failed a write for lack of space: the database must then never be
  // closed (see ~Impl); it is left to the process's exit, so Options::env must outlive it.
  std::atomic<bool> rocksdbFailed{false};
  // Set by RocksDB's background-error listener (its own thread, maybe inside a Write under
  // mu, so it takes only its own mutex); shared, since the listener may outlive the Impl.
  struct Background {
    std::atomic<bool> failed{false};
    std::atomic<bool> noSpace{false};  // the failure was a full disk (see rocksdbFailed)
    std::mutex mu;
    std::string error;  // guarded by mu
  };
  std::shared_ptr<Background> background = std::make_shared<Background>();
  std::shared_ptr<rocksdb::EventListener> listener;
  std::atomic<bool> failNextWrite{false};

  ~Impl();
  // Reads see `snapshot` when given, else the latest state.
  // Decodes a log value and reads its bodies back (whole record); errors name `seq`.
  [[nodiscard]] Result<Record> decodeWhole(uint64_t seq, const rocksdb::Slice& value,
                                           const rocksdb::Snapshot* snapshot = nullptr) const;
  [[nodiscard]] Result<Record> readSeq(uint64_t seq, const rocksdb::Snapshot* snapshot = nullptr) const;
  // fillCache false: a lookup unlikely to repeat (is this new body stored?) leaves the block
  // cache alone, so it does not fill with blocks of files compaction has since replaced.
  [[nodiscard]] Result<std::optional<std::string>> get(rocksdb::ColumnFamilyHandle* cf, const std::string& key,
                                                       const rocksdb::Snapshot* snapshot = nullptr,
                                                       bool fillCache = true) const;
  // Records referenced by an index (by_object/by_tenant) for exact id `id`.
  [[nodiscard]] Result<std::vector<Record>> readIndex(rocksdb::ColumnFamilyHandle* cf, const std::string& id,
                                                      Order order, size_t limit) const;
  // Distinct ids of an index, in key order.
  [[nodiscard]] Result<std::vector<std::string>> distinctIds(rocksdb::ColumnFamilyHandle* cf) const;
};

}  // namespace spr::journal
