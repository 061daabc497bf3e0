// Journal: opening (layout and schema checks, recovery of the chain head) and appends.
#include "core/journal/journal.h"

#include <rocksdb/convenience.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "core/journal/bodies.h"
#include "core/journal/codec.h"
#include "common/killpoint.h"
#include "core/journal/journal_impl.h"
#include "core/journal/journal_open.h"
#include "core/journal/journal_space.h"

namespace spr::journal {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kOwnFamilies = {kCfLog, kCfByObject, kCfByTenant, kCfState, kCfMeta};

int64_t systemNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

rocksdb::Options dbOptions(const Options& options) {
  rocksdb::Options o;
  o.create_if_missing = options.createIfMissing && !options.readOnly;
  // Writable opens may add the `bodies` family to a schema-1 journal (familiesToOpen).
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
  if (name != kCfLog && name != kCfBodies) return o;
  rocksdb::BlockBasedTableOptions table;
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
  rocksdb::Status s = forWriting ? rocksdb::DB::Open(o, impl.dir, descriptors, &impl.handles, &raw)
                                 : rocksdb::DB::OpenForReadOnly(inspectOptions(o), impl.dir, descriptors,
                                                                &impl.handles, &raw);
  if (!s.ok() && s.ToString().find("lock") != std::string::npos) {
    return Status(Code::kUnavailable, "journal " + impl.dir + " is in use by another process (" + s.ToString() +
                                          "); stop it first, or open the journal read-only");
  }
  if (!s.ok() && !forWriting) return damaged(impl.dir, "RocksDB cannot read it (" + s.ToString() + ")");
  if (!s.ok() && s.IsNoSpace()) {
    return Status(Code::kUnavailable, "journal " + impl.dir + " cannot be opened for writing: its disk is full (" +
                                          s.ToString() + "); every synced record is intact: free space or grow "
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
  for (const auto& own : kOwnFamilies) {
    if (std::find(names->begin(), names->end(), own) == names->end()) missing.push_back(own);
  }
  const bool ours = scan.marker || scan.creating || missing.size() < kOwnFamilies.size();
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
  names.push_back(kCfBodies);
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

std::string be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

uint64_t fromBe64(const rocksdb::Slice& s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

std::string indexKey(const std::string& id, uint64_t seq) {
  std::string k = id;
  k.push_back('\0');
  k += be64(seq);
  return k;
}

bool indexedByObject(const Record& r) { return !r.object.kind.empty() || !r.object.name.empty(); }
bool indexedByTenant(const Record& r) { return !r.tenant.empty(); }

Journal::Impl::~Impl() {
  if (!db) return;
  if (rocksdbFailed || background->noSpace) {
    // Closing would flush the WAL writer that failed, which Debian's librocksdb (assertions
    // on) answers with SIGABRT. Nothing more can be written anyway: leave the database to
    // the process's exit; every synced append is already on disk.
    (void)db.release();
    return;
  }
  if (!options.readOnly && !poisoned) {
    // A graceful stop leaves no WAL to replay: read-only commands then open at once.
    rocksdb::FlushOptions fo;
    db->Flush(fo, handles).PermitUncheckedError();
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  db->Close().PermitUncheckedError();
}

Journal::Journal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

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
    return damaged(dir, "it has data files (" + std::to_string(scan.tables.size()) +
                            " table files" + (scan.nonEmptyWal ? ", a write-ahead log" : "") +
                            ") but no CURRENT file (RocksDB's pointer to its MANIFEST)");
  }
  if (!scan.foreign.empty()) {
    return Status(Code::kInvalidArgument,
                  dir + " is not an spr journal (no RocksDB database in it; it holds " + scan.foreign.front() + ")");
  }
  if (!create) {
    return Status(Code::kInvalidArgument, dir + " is not an spr journal (no RocksDB database in it" +
                                              std::string(scan.creating ? ": its creation was interrupted; `spr run` "
                                                                          "creates it afresh" : "") + ")");
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
  impl->reserveBytes = reserveFor(std::filesystem::exists(dir) ? dir : std::filesystem::path(dir).parent_path().string(),
                                  options.reserveBytes);
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
      if (!create) return Status(Code::kInvalidArgument, dir + " is not an spr journal yet: its creation was "
                                                               "interrupted and it holds no records; `spr run` creates it afresh");
      SPR_RETURN_IF_ERROR(clearAbandonedCreate(dir));
      fresh = true;
    } else if (!options.readOnly) {
      closeDb(*impl);
      killPoint("journal.open.inspected");
      // A schema-1 journal gets its bodies family when first opened for writing.
      if (std::find(names.begin(), names.end(), kCfBodies) == names.end()) names.push_back(kCfBodies);
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

namespace {

Status validateRecord(const Record& r) {
  if (r.tenant.find('\0') != std::string::npos) {
    return Status(Code::kInvalidArgument, "tenant '" + r.tenant + "' contains a NUL byte");
  }
  if (r.object.key().find('\0') != std::string::npos) {
    return Status(Code::kInvalidArgument, "object key contains a NUL byte");
  }
  return Status::ok();
}

}  // namespace

namespace {

// Turns `r` into its stored form and puts the bodies not yet in the journal into `wb`
// (content-addressed: a body already stored is not written again). REQUIRES: im.mu held.
Status stageBodies(Journal::Impl& im, Record& r, rocksdb::WriteBatch& wb) {
  std::map<std::string, std::string> bodies;
  try {
    toStoredForm(r, &bodies);
  } catch (const std::exception& e) {
    return Status(Code::kInternal, std::string("storing bodies: ") + e.what());
  }
  if (bodies.empty()) return Status::ok();
  if (im.bodies == nullptr) return Status(Code::kInternal, "journal " + im.dir + " has no bodies column family");
  constexpr size_t kMaxKnownBodies = 1 << 16;
  for (auto& [digest, text] : bodies) {
    if (im.knownBodies.count(digest) != 0) continue;
    auto stored = im.get(im.bodies, digest);
    if (!stored) return stored.status();
    if (!stored->has_value()) wb.Put(im.bodies, digest, text);
    if (im.knownBodies.size() >= kMaxKnownBodies) im.knownBodies.clear();
    im.knownBodies.insert(digest);
  }
  return Status::ok();
}

// Seals `records` (seq, schema version, time, chain) into `wb` with their index
// entries; advances *seq and *head. REQUIRES: im.mu held.
Status stageRecords(Journal::Impl& im, std::vector<Record>& records, rocksdb::WriteBatch& wb, uint64_t* seq,
                    std::string* head, std::vector<uint64_t>* seqs) {
  for (Record& r : records) {
    SPR_RETURN_IF_ERROR(validateRecord(r));
    r.seq = *seq;
    r.schemaVersion = kSchemaVersion;
    if (r.wallUnixNanos == 0) r.wallUnixNanos = im.options.nowUnixNanos ? im.options.nowUnixNanos() : systemNow();
    r.prevHash = *head;
    SPR_RETURN_IF_ERROR(stageBodies(im, r, wb));
    auto bytes = sealRecord(r);
    if (!bytes) return bytes.status();
    wb.Put(im.log, be64(r.seq), *bytes);
    if (indexedByObject(r)) wb.Put(im.byObject, indexKey(r.object.key(), r.seq), "");
    if (indexedByTenant(r)) wb.Put(im.byTenant, indexKey(r.tenant, r.seq), "");
    *head = r.hash;
    seqs->push_back((*seq)++);
  }
  return Status::ok();
}

// Starts a flush of every column family (not waiting) when the last was long ago, so an
// operator that appends slowly does not keep hours of records only in its WAL.
// REQUIRES: im.mu held.
void flushIfDue(Journal::Impl& im) {
  const auto now = std::chrono::steady_clock::now();
  if (im.lastFlush == std::chrono::steady_clock::time_point{}) im.lastFlush = now;
  if (now - im.lastFlush < kPeriodicFlush) return;
  im.lastFlush = now;
  rocksdb::FlushOptions fo;
  fo.wait = false;
  fo.allow_write_stall = true;
  im.db->Flush(fo, im.handles).PermitUncheckedError();
}

// Writes `wb`; a failure poisons the journal for good. REQUIRES: im.mu held.
Status commit(Journal::Impl& im, rocksdb::WriteBatch& wb, Sync sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync == Sync::kSync;
  const bool injected = im.failNextWrite.exchange(false);
  rocksdb::Status s = injected ? rocksdb::Status::IOError("injected write failure (test hook)") : im.db->Write(wo, &wb);
  if (s.ok()) return Status::ok();
  // A write that failed for space leaves RocksDB's WAL writer in a state that closing it
  // turns into SIGABRT (Debian's librocksdb, assertions on): such a database is never closed.
  if (!injected && s.IsNoSpace()) im.rocksdbFailed = true;
  im.poisonReason = "journal " + im.dir + " is poisoned after an earlier write failure (" + s.ToString() +
                    "); nothing more is appended: fix the disk and restart the operator";
  im.poisoned = true;
  return Status(Code::kIoError, "journal write failed: " + s.ToString() + "; the journal refuses further appends");
}

}  // namespace

Result<std::vector<uint64_t>> Journal::append(AppendBatch batch) {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mu);
  if (im.options.readOnly) return Status(Code::kInvalidArgument, "journal " + im.dir + " is open read-only");
  if (im.background->failed && !im.poisoned) {
    std::lock_guard<std::mutex> bg(im.background->mu);
    im.poisonReason = "journal " + im.dir + " is poisoned after a failed background write (" + im.background->error +
                      "); nothing more is appended: fix the disk and restart the operator";
    im.poisoned = true;
  }
  if (im.poisoned) return Status(Code::kIoError, im.poisonReason);
  rocksdb::WriteBatch wb;
  uint64_t seq = im.nextSeq;
  std::string head = im.head;
  std::vector<uint64_t> seqs;
  SPR_RETURN_IF_ERROR(stageRecords(im, batch.records, wb, &seq, &head, &seqs));
  killPoint("journal.append.indexed");
  for (const auto& [key, blob] : batch.states) wb.Put(im.state, key, blob);
  for (const auto& key : batch.deleteStates) wb.Delete(im.state, key);
  for (const auto& [key, value] : batch.meta) wb.Put(im.meta, kMetaUserPrefix + key, value);
  if (!im.schemaStamped) wb.Put(im.meta, kMetaSchemaVersion, std::to_string(kSchemaVersion));
  wb.Put(im.meta, kMetaLastSeq, be64(seq - 1));
  wb.Put(im.meta, kMetaHead, head);
  SPR_RETURN_IF_ERROR(checkSpace(im, wb.GetDataSize()));
  killPoint("journal.append.before_write");
  SPR_RETURN_IF_ERROR(commit(im, wb, batch.sync));
  killPoint("journal.append.after_write");
  im.schemaStamped = true;
  im.nextSeq = seq;
  im.head = head;
  flushIfDue(im);
  return seqs;
}

Result<uint64_t> Journal::append(Record record, Sync sync) {
  AppendBatch batch;
  batch.records.push_back(std::move(record));
  batch.sync = sync;
  auto seqs = append(std::move(batch));
  if (!seqs) return seqs.status();
  return seqs->front();
}

uint64_t Journal::nextSeq() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->nextSeq;
}

std::string Journal::chainHeadHex() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return toHex(impl_->head);
}

bool Journal::poisoned() const { return impl_->poisoned; }

void Journal::failNextWriteForTesting() { impl_->failNextWrite = true; }

}  // namespace spr::journal
