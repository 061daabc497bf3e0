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
#include "core/journal/journal_impl.h"

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
  if (options.env != nullptr) o.env = options.env;
  return o;
}

// True when `dir` is empty or holds only what RocksDB writes before CURRENT exists
// (a create interrupted by a crash), so a journal may be created there.
bool onlyAbandonedCreate(const std::string& dir, std::error_code& ec) {
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    auto startsWith = [&n](const char* p) { return n.rfind(p, 0) == 0; };
    auto endsWith = [&n](const std::string& x) { return n.size() >= x.size() && n.compare(n.size() - x.size(), x.size(), x) == 0; };
    if (!(n == "LOCK" || n == "IDENTITY" || startsWith("LOG") || startsWith("MANIFEST-") || startsWith("OPTIONS-") ||
          endsWith(".log") || endsWith(".dbtmp"))) {
      return false;
    }
  }
  return true;
}

// Checks that `dir` can hold a journal; sets *fresh when a new one is to be created.
Status checkDir(const std::string& dir, const Options& options, bool* fresh) {
  std::error_code ec;
  auto st = fs::status(dir, ec);
  bool create = options.createIfMissing && !options.readOnly;
  if (!fs::exists(st)) {
    if (!create) return Status(Code::kNotFound, "journal directory " + dir + " does not exist");
    fs::create_directories(dir, ec);
    if (ec) return Status(Code::kIoError, "cannot create journal directory " + dir + ": " + ec.message());
    *fresh = true;
    return Status::ok();
  }
  if (!fs::is_directory(st)) return Status(Code::kInvalidArgument, dir + " is not a directory");
  if (fs::exists(fs::path(dir) / "CURRENT", ec)) return Status::ok();
  bool empty = onlyAbandonedCreate(dir, ec);
  if (ec) return Status(Code::kIoError, "cannot read journal directory " + dir + ": " + ec.message());
  if (empty && create) {
    *fresh = true;
    return Status::ok();
  }
  return Status(Code::kInvalidArgument, dir + " is not an spr journal (no RocksDB database in it)");
}

// The column families to open: ours plus any others already in the database.
Result<std::vector<std::string>> familiesToOpen(const std::string& dir, bool fresh, const Options& options) {
  if (fresh) {
    std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName};
    names.insert(names.end(), kOwnFamilies.begin(), kOwnFamilies.end());
    names.push_back(kCfBodies);
    return names;
  }
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(dbOptions(options), dir, &names);
  if (!s.ok()) return Result<std::vector<std::string>>(Code::kIoError, "cannot read journal " + dir + ": " + s.ToString());
  for (const auto& own : kOwnFamilies) {
    if (std::find(names.begin(), names.end(), own) == names.end()) {
      return Result<std::vector<std::string>>(
          Code::kInvalidArgument, dir + " is a RocksDB database but not an spr journal (no spr metadata)");
    }
  }
  // A schema-1 journal gets its bodies family when first opened for writing.
  bool hasBodies = std::find(names.begin(), names.end(), kCfBodies) != names.end();
  if (!hasBodies && !options.readOnly) names.push_back(kCfBodies);
  return names;
}

// Per-family storage settings, chosen by measurement on a soak journal (JOURNAL.md,
// "Compression"): zstd everywhere; the log and the bodies in 64 KiB blocks (records of
// one poll resemble their neighbours), and a zstd dictionary where data settles.
rocksdb::ColumnFamilyOptions familyOptions(const std::string& name) {
  rocksdb::ColumnFamilyOptions o;
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

Status openDb(Journal::Impl& impl, const std::vector<std::string>& names) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, familyOptions(n));
  rocksdb::DB* raw = nullptr;
  rocksdb::Options o = dbOptions(impl.options);
  rocksdb::Status s = impl.options.readOnly
                          ? rocksdb::DB::OpenForReadOnly(o, impl.dir, descriptors, &impl.handles, &raw)
                          : rocksdb::DB::Open(o, impl.dir, descriptors, &impl.handles, &raw);
  if (!s.ok() && s.ToString().find("lock") != std::string::npos) {
    return Status(Code::kUnavailable, "journal " + impl.dir + " is in use by another process (" + s.ToString() +
                                          "); stop it first, or open the journal read-only");
  }
  if (!s.ok()) {
    Code code = s.IsIOError() ? Code::kIoError : (s.IsCorruption() ? Code::kCorruption : Code::kInvalidArgument);
    return Status(code, "cannot open journal " + impl.dir + ": " + s.ToString());
  }
  impl.db.reset(raw);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == kCfLog) impl.log = impl.handles[i];
    if (names[i] == kCfByObject) impl.byObject = impl.handles[i];
    if (names[i] == kCfByTenant) impl.byTenant = impl.handles[i];
    if (names[i] == kCfState) impl.state = impl.handles[i];
    if (names[i] == kCfMeta) impl.meta = impl.handles[i];
    if (names[i] == kCfBodies) impl.bodies = impl.handles[i];
  }
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

Status checkSchemaVersion(Journal::Impl& impl, bool fresh) {
  auto version = impl.get(impl.meta, kMetaSchemaVersion);
  if (!version) return version.status();
  if (!version->has_value()) {
    if ((fresh || neverInitialised(impl)) && impl.options.createIfMissing && !impl.options.readOnly) {
      return writeFreshMeta(impl);
    }
    return Status(Code::kInvalidArgument, impl.dir + " is not an spr journal (no spr metadata)");
  }
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

Result<std::unique_ptr<Journal>> Journal::open(const std::string& dir, const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  bool fresh = false;
  SPR_RETURN_IF_ERROR(checkDir(dir, options, &fresh));
  auto names = familiesToOpen(dir, fresh, options);
  if (!names) return names.status();
  SPR_RETURN_IF_ERROR(openDb(*impl, *names));
  SPR_RETURN_IF_ERROR(checkSchemaVersion(*impl, fresh));
  SPR_RETURN_IF_ERROR(recoverHead(*impl));
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

// Writes `wb`; a failure poisons the journal for good. REQUIRES: im.mu held.
Status commit(Journal::Impl& im, rocksdb::WriteBatch& wb, Sync sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync == Sync::kSync;
  rocksdb::Status s = im.failNextWrite.exchange(false) ? rocksdb::Status::IOError("injected write failure (test hook)")
                                                       : im.db->Write(wo, &wb);
  if (s.ok()) return Status::ok();
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
  if (im.poisoned) return Status(Code::kIoError, im.poisonReason);
  rocksdb::WriteBatch wb;
  uint64_t seq = im.nextSeq;
  std::string head = im.head;
  std::vector<uint64_t> seqs;
  SPR_RETURN_IF_ERROR(stageRecords(im, batch.records, wb, &seq, &head, &seqs));
  for (const auto& [key, blob] : batch.states) wb.Put(im.state, key, blob);
  for (const auto& key : batch.deleteStates) wb.Delete(im.state, key);
  for (const auto& [key, value] : batch.meta) wb.Put(im.meta, kMetaUserPrefix + key, value);
  if (!im.schemaStamped) wb.Put(im.meta, kMetaSchemaVersion, std::to_string(kSchemaVersion));
  wb.Put(im.meta, kMetaLastSeq, be64(seq - 1));
  wb.Put(im.meta, kMetaHead, head);
  SPR_RETURN_IF_ERROR(commit(im, wb, batch.sync));
  im.schemaStamped = true;
  im.nextSeq = seq;
  im.head = head;
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
