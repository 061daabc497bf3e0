// Journal::open: what the directory holds (nothing, an interrupted create, a damaged or a
// whole journal) decided read-only first; then creating it crash-atomically, or opening
// it for writing. See schema/JOURNAL.md ("Creating and opening").
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>

#include "common/killpoint.h"
#include "core/journal/journal.h"
#include "core/journal/journal_checks.h"
#include "core/journal/journal_impl.h"
#include "core/journal/journal_space.h"

namespace spr::journal {
namespace {

const std::vector<std::string> kOwnFamilies = {kCfLog, kCfByObject, kCfByTenant, kCfState, kCfMeta, kCfBodies};
// What every journal ever written has: a journal lacking one of these is damaged. A family
// added to kOwnFamilies later is created at the next write-mode open of an older journal.
const std::vector<std::string> kFamiliesOfEveryJournal = {kCfLog, kCfByObject, kCfByTenant, kCfState, kCfMeta};

rocksdb::Options dbOptions(const Options& options) {
  rocksdb::Options o;
  o.create_if_missing = options.createIfMissing && !options.readOnly;
  // Writable opens add the families a newer build has (e.g. `bodies` in a schema-1 journal).
  o.create_missing_column_families = !options.readOnly;
  o.keep_log_file_num = 3;
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  o.paranoid_checks = true;
  // A kill -9 can only cut the WAL's last record short; damage anywhere else fails the
  // open instead of silently dropping every later write (kPointInTimeRecovery would).
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  // No automatic resume after a background error (see journal_space.cpp), and no WAL
  // preallocation: the space the journal takes is the space its data takes, which the
  // free-space guard can reason about.
  o.max_bgerror_resume_count = 0;
  o.allow_fallocate = false;
  // A bounded WAL: small memtables, and RocksDB flushes the column families that pin the
  // oldest WAL once all WALs pass max_total_wal_size, so the WAL on disk stays within a
  // small multiple of the memtables and a read-only open replays little (schema/JOURNAL.md).
  o.write_buffer_size = kWriteBufferBytes;
  o.max_total_wal_size = kMaxTotalWalBytes;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (options.env != nullptr) o.env = options.env;
  return o;
}

void assignHandles(Journal::Impl& impl, const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == kCfLog) impl.log = impl.handles[i];
    if (names[i] == kCfByObject) impl.byObject = impl.handles[i];
    if (names[i] == kCfByTenant) impl.byTenant = impl.handles[i];
    if (names[i] == kCfState) impl.state = impl.handles[i];
    if (names[i] == kCfMeta) impl.meta = impl.handles[i];
    if (names[i] == kCfBodies) impl.bodies = impl.handles[i];
  }
}

// Per-family storage settings, chosen by measurement on a soak journal (JOURNAL.md,
// "Compression"): zstd everywhere; the log and the bodies in 64 KiB blocks (records of
// one poll resemble their neighbours), and a zstd dictionary where data settles.
rocksdb::ColumnFamilyOptions familyOptions(const std::string& name, const rocksdb::Options& base) {
  rocksdb::ColumnFamilyOptions o(base);
  o.compression = rocksdb::kZSTD;
  // The overwritten families (each object's latest state, the meta keys) compact as soon
  // as a flush lands, so the directory keeps one copy of each value, not one per flush
  // until four accumulate (JOURNAL.md, "Live growth").
  if (name == kCfState || name == kCfMeta) o.level0_file_num_compaction_trigger = 1;
  if (name != kCfLog && name != kCfBodies) return o;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = base.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>()->block_cache;  // shared
  table.block_size = 64 * 1024;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  o.bottommost_compression = rocksdb::kZSTD;
  o.bottommost_compression_opts.enabled = true;
  o.bottommost_compression_opts.max_dict_bytes = 16 * 1024;
  o.bottommost_compression_opts.zstd_max_train_bytes = 1 << 20;
  return o;
}

// Closes what openDb opened (after a read-only inspection, before the write-mode open).
void closeDb(Journal::Impl& impl) {
  for (auto* h : impl.handles) impl.db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  impl.handles.clear();
  impl.db->Close().PermitUncheckedError();
  impl.db.reset();
  impl.log = impl.byObject = impl.byTenant = impl.state = impl.meta = impl.bodies = nullptr;
}

// Opens the database: read-only without writing a byte (inspecting), or for writing.
Status openDb(Journal::Impl& impl, const std::vector<std::string>& names, bool forWriting) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  rocksdb::Options o = dbOptions(impl.options);
  for (const auto& n : names) descriptors.emplace_back(n, familyOptions(n, o));
  rocksdb::DB* raw = nullptr;
  if (forWriting) {
    SPR_RETURN_IF_ERROR(checkSpaceToOpen(impl.dir, impl.reserveBytes));
    if (!impl.listener) impl.listener = makeErrorListener(&impl);
    o.listeners.push_back(impl.listener);
  }
  rocksdb::Status s = forWriting
                          ? rocksdb::DB::Open(o, impl.dir, descriptors, &impl.handles, &raw)
                          : rocksdb::DB::OpenForReadOnly(inspectOptions(o), impl.dir, descriptors, &impl.handles, &raw);
  if (!s.ok() && s.ToString().find("lock") != std::string::npos) {
    return Status(Code::kUnavailable, "journal " + impl.dir + " is in use by another process (" + s.ToString() +
                                          "); stop it first, or open the journal read-only");
  }
  if (!s.ok() && !forWriting) return damaged(impl.dir, "RocksDB cannot read it (" + s.ToString() + ")");
  if (!s.ok() && s.IsNoSpace()) {
    return Status(Code::kUnavailable, "journal " + impl.dir + " cannot be opened for writing: its disk is full (" +
                                          s.ToString() +
                                          "); every synced record is intact: free space or grow "
                                          "the volume, then start again");
  }
  if (!s.ok()) {
    Code code = s.IsIOError() ? Code::kIoError : (s.IsCorruption() ? Code::kCorruption : Code::kInvalidArgument);
    return Status(code, "cannot open journal " + impl.dir + ": " + s.ToString());
  }
  impl.db.reset(raw);
  assignHandles(impl, names);
  return Status::ok();
}

Status writeFreshMeta(Journal::Impl& impl) {
  rocksdb::WriteBatch wb;
  wb.Put(impl.meta, kMetaSchemaVersion, std::to_string(kSchemaVersion));
  wb.Put(impl.meta, kMetaLastSeq, be64(0));
  wb.Put(impl.meta, kMetaHead, std::string(kHashSize, '\0'));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = impl.db->Write(wo, &wb);
  if (!s.ok()) return Status(Code::kIoError, "cannot initialise journal " + impl.dir + ": " + s.ToString());
  return Status::ok();
}

// A crash between creating the column families and writing the metadata leaves a
// database with our families, all empty: finish creating it.
bool neverInitialised(const Journal::Impl& impl) {
  for (auto* cf : {impl.log, impl.meta, impl.byObject, impl.byTenant, impl.state}) {
    std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(rocksdb::ReadOptions(), cf));
    it->SeekToFirst();
    if (it->Valid() || !it->status().ok()) return false;
  }
  return true;
}

Status checkSchemaVersion(Journal::Impl& impl) {
  auto version = impl.get(impl.meta, kMetaSchemaVersion);
  if (!version) return version.status();
  if (!version->has_value()) return damaged(impl.dir, "its metadata has no schema version (no spr metadata)");
  unsigned long v = 0;
  try {
    v = std::stoul(**version);
  } catch (const std::exception&) {
    return Status(Code::kCorruption, "journal " + impl.dir + " has an unreadable schema version '" + **version + "'");
  }
  if (v > kSchemaVersion) {
    return Status(Code::kVersionMismatch, "journal " + impl.dir + " was written by schema version " +
                                              std::to_string(v) + "; this build of spr reads schema versions up to " +
                                              std::to_string(kSchemaVersion) + "; use a newer spr");
  }
  return Status::ok();
}

// Opens an existing database read-only, writing nothing, and checks it is a whole spr
// journal. Sets *abandoned for a create a kill interrupted (no data in it to lose).
Status inspect(Journal::Impl& impl, const DirScan& scan, std::vector<std::string>* names, bool* abandoned) {
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(inspectOptions(dbOptions(impl.options)), impl.dir, names);
  if (!s.ok()) return damaged(impl.dir, "its MANIFEST cannot be read (" + s.ToString() + ")");
  std::vector<std::string> missing;
  for (const auto& own : kFamiliesOfEveryJournal) {
    if (std::find(names->begin(), names->end(), own) == names->end()) missing.push_back(own);
  }
  const bool ours = scan.marker || scan.creating || missing.size() < kFamiliesOfEveryJournal.size();
  if (!ours) {
    return Status(Code::kInvalidArgument, impl.dir + " is a RocksDB database but not an spr journal (no spr metadata)");
  }
  if (!missing.empty() && !scan.marker && !scan.hasData()) {
    *abandoned = true;
    return Status::ok();
  }
  if (!missing.empty()) return damaged(impl.dir, "its MANIFEST lists no column family '" + missing.front() + "'");
  SPR_RETURN_IF_ERROR(openDb(impl, *names, /*forWriting=*/false));
  SPR_RETURN_IF_ERROR(checkUnreferencedTables(impl, scan));
  auto version = impl.get(impl.meta, kMetaSchemaVersion);
  if (!version) return version.status();
  *abandoned = !version->has_value() && !scan.marker && scan.tables.empty() && neverInitialised(impl);
  return Status::ok();
}

// Creates a journal in `impl.dir` (empty, or cleared of an abandoned create): a kill at
// any point leaves either a directory that is created afresh next time, or a journal.
Status createJournal(Journal::Impl& impl) {
  SPR_RETURN_IF_ERROR(beginCreate(impl.dir));
  killPoint("journal.create.begun");
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName};
  names.insert(names.end(), kOwnFamilies.begin(), kOwnFamilies.end());
  SPR_RETURN_IF_ERROR(openDb(impl, names, /*forWriting=*/true));
  killPoint("journal.create.db_created");
  SPR_RETURN_IF_ERROR(writeFreshMeta(impl));
  killPoint("journal.create.meta_written");
  SPR_RETURN_IF_ERROR(finishCreate(impl.dir));
  killPoint("journal.create.done");
  return Status::ok();
}

// Recovers nextSeq, head and the chain start from the meta column family.
Status recoverHead(Journal::Impl& impl) {
  auto last = impl.get(impl.meta, kMetaLastSeq);
  auto head = impl.get(impl.meta, kMetaHead);
  auto first = impl.get(impl.meta, kMetaFirstSeq);
  auto firstPrev = impl.get(impl.meta, kMetaFirstPrevHash);
  for (const auto* r : {&last, &head, &first, &firstPrev}) {
    if (!*r) return r->status();
  }
  if (!last->has_value() || (*last)->size() != 8 || !head->has_value() || (*head)->size() != kHashSize) {
    return Status(Code::kCorruption, "journal " + impl.dir + " has no valid chain head in its metadata");
  }
  impl.nextSeq = fromBe64(**last) + 1;
  impl.head = **head;
  impl.firstSeq = (first->has_value() && (*first)->size() == 8) ? fromBe64(**first) : 1;
  impl.firstPrevHash = firstPrev->has_value() ? **firstPrev : std::string(kHashSize, '\0');
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::openForReading(const std::string& dir) {
  Options options;
  options.createIfMissing = false;
  options.readOnly = true;
  return open(dir, options);
}

Journal::~Journal() = default;

namespace {

// What a directory without a database holds: nothing (create), what a kill during a
// create left (clear it, create), data files without CURRENT, or something else.
Status classifyWithoutDatabase(const std::string& dir, const DirScan& scan, bool create, bool* fresh) {
  if (scan.hasData() || scan.marker) {
    return damaged(dir, "it has data files (" + std::to_string(scan.tables.size()) + " table files" +
                            (scan.nonEmptyWal ? ", a write-ahead log" : "") +
                            ") but no CURRENT file (RocksDB's pointer to its MANIFEST)");
  }
  if (!scan.foreign.empty()) {
    return Status(Code::kInvalidArgument,
                  dir + " is not an spr journal (no RocksDB database in it; it holds " + scan.foreign.front() + ")");
  }
  if (!create) {
    return Status(Code::kInvalidArgument, dir + " is not an spr journal (no RocksDB database in it" +
                                              std::string(scan.creating ? ": its creation was interrupted; `spr run` "
                                                                          "creates it afresh"
                                                                        : "") +
                                              ")");
  }
  SPR_RETURN_IF_ERROR(clearAbandonedCreate(dir));
  *fresh = true;
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::open(const std::string& dir, const Options& options) {
  killPoint("journal.open.begin");
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  const bool create = options.createIfMissing && !options.readOnly;
  impl->reserveBytes = reserveFor(
      std::filesystem::exists(dir) ? dir : std::filesystem::path(dir).parent_path().string(), options.reserveBytes);
  auto scan = scanDir(dir);
  if (!scan) return scan.status();
  bool fresh = false;
  if (!scan->exists) {
    if (!create) return Status(Code::kNotFound, "journal directory " + dir + " does not exist");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status(Code::kIoError, "cannot create journal directory " + dir + ": " + ec.message());
    fresh = true;
  } else if (!scan->isDir) {
    return Status(Code::kInvalidArgument, dir + " is not a directory");
  } else if (!scan->current) {
    SPR_RETURN_IF_ERROR(classifyWithoutDatabase(dir, *scan, create, &fresh));
  }
  if (!fresh) {
    std::vector<std::string> names;
    bool abandoned = false;
    SPR_RETURN_IF_ERROR(inspect(*impl, *scan, &names, &abandoned));
    if (abandoned) {
      if (impl->db) closeDb(*impl);
      if (!create)
        return Status(Code::kInvalidArgument, dir +
                                                  " is not an spr journal yet: its creation was "
                                                  "interrupted and it holds no records; `spr run` creates it afresh");
      SPR_RETURN_IF_ERROR(clearAbandonedCreate(dir));
      fresh = true;
    } else if (!options.readOnly) {
      closeDb(*impl);
      for (const auto& own : kOwnFamilies) {  // newer families, created by this open
        if (std::find(names.begin(), names.end(), own) == names.end()) names.push_back(own);
      }
      killPoint("journal.open.inspected");
      SPR_RETURN_IF_ERROR(openDb(*impl, names, /*forWriting=*/true));
      killPoint("journal.open.opened");
    }
  }
  if (fresh) SPR_RETURN_IF_ERROR(createJournal(*impl));
  SPR_RETURN_IF_ERROR(checkSchemaVersion(*impl));
  SPR_RETURN_IF_ERROR(recoverHead(*impl));
  if (!fresh && !options.readOnly && !scan->marker) SPR_RETURN_IF_ERROR(finishCreate(dir));  // an older journal
  return std::unique_ptr<Journal>(new Journal(std::move(impl)));
}

}  // namespace spr::journal
