// Journal: appends (sealing, the free-space guard, commit and poisoning), key encodings, closing.
#include "core/journal/journal.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "common/killpoint.h"
#include "core/journal/bodies.h"
#include "core/journal/codec.h"
#include "core/journal/journal_impl.h"
#include "core/journal/journal_space.h"

namespace spr::journal {
namespace {

int64_t systemNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
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
  im.knownBodies.setCapacity(
      std::clamp(kKnownBodiesPerObject * im.stateDigests.size(), kMinKnownBodies, kMaxKnownBodies));
  for (auto& [digest, text] : bodies) {
    if (im.knownBodies.touch(digest)) continue;
    auto stored = im.get(im.bodies, digest, nullptr, /*fillCache=*/false);
    if (!stored) return stored.status();
    if (!stored->has_value()) wb.Put(im.bodies, digest, text);
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

// Puts the state blobs of `batch` that differ from the last one written for their object
// into `wb`; *digests gets the new digest of each blob put. REQUIRES: im.mu held.
Status stageStates(Journal::Impl& im, const AppendBatch& batch, rocksdb::WriteBatch& wb,
                   std::unordered_map<std::string, std::string>* digests, uint64_t* unchanged) {
  for (const auto& [key, blob] : batch.states) {
    std::string digest;
    try {
      digest = bodyDigest(blob);
    } catch (const std::exception& e) {
      return Status(Code::kInternal, std::string("hashing the state of ") + key + ": " + e.what());
    }
    auto staged = digests->find(key);
    auto last = im.stateDigests.find(key);
    const std::string* previous = staged != digests->end()        ? &staged->second
                                  : last != im.stateDigests.end() ? &last->second
                                                                  : nullptr;
    if (previous != nullptr && *previous == digest) {
      ++*unchanged;
      continue;
    }
    wb.Put(im.state, key, blob);
    (*digests)[key] = std::move(digest);
  }
  for (const auto& key : batch.deleteStates) {
    wb.Delete(im.state, key);
    (*digests)[key].clear();  // empty: no state; erased from im.stateDigests once written
  }
  return Status::ok();
}

// Starts a flush of every column family (not waiting) when the last was long ago, so an
// operator that appends slowly does not keep hours of records only in its WAL.
// REQUIRES: im.mu held.
void flushIfDue(Journal::Impl& im) {
  const auto now = std::chrono::steady_clock::now();
  if (im.lastFlush == std::chrono::steady_clock::time_point{}) im.lastFlush = now;
  if (now - im.lastFlush < im.options.flushEvery) return;
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
  std::unordered_map<std::string, std::string> stateDigests;
  uint64_t unchangedStates = 0;
  SPR_RETURN_IF_ERROR(stageStates(im, batch, wb, &stateDigests, &unchangedStates));
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
  for (auto& [key, digest] : stateDigests) {
    if (digest.empty()) {
      im.stateDigests.erase(key);
    } else {
      im.stateDigests[key] = std::move(digest);
      ++im.stateWrites.written;
    }
  }
  im.stateWrites.unchanged += unchangedStates;
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

StateWrites Journal::stateWrites() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stateWrites;
}

bool Journal::poisoned() const { return impl_->poisoned; }

void Journal::failNextWriteForTesting() { impl_->failNextWrite = true; }

}  // namespace spr::journal
