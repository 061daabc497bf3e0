// Journal::dropBefore() and compactStorage(): shortening the journal from the front
// while keeping the remaining chain verifiable (for `spr journal compact`), and deleting
// the bodies no kept record refers to.
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <set>

#include "common/killpoint.h"
#include "core/journal/bodies.h"
#include "core/journal/codec.h"
#include "core/journal/journal.h"
#include "core/journal/journal_impl.h"

namespace spr::journal {
namespace {

// The stored form of record `seq` (bodies not read back). REQUIRES: im.mu held.
Result<Record> readStored(const Journal::Impl& im, uint64_t seq) {
  auto value = im.get(im.log, be64(seq));
  if (!value) return value.status();
  if (!value->has_value()) return Result<Record>(Code::kCorruption, "record " + std::to_string(seq) + " is missing");
  auto rec = decodeRecord(**value);
  if (!rec) return Result<Record>(rec.status().code(), "record " + std::to_string(seq) + ": " + rec.status().message());
  return rec;
}

// Puts into `wb` the deletion of every body that no record from firstKeptSeq on refers
// to. Bodies are shared, so this needs every kept record's digests. REQUIRES: im.mu held.
Status stageBodyGarbage(const Journal::Impl& im, uint64_t firstKeptSeq, rocksdb::WriteBatch& wb) {
  if (im.bodies == nullptr) return Status::ok();
  std::set<std::string> referenced;
  std::unique_ptr<rocksdb::Iterator> it(im.db->NewIterator(rocksdb::ReadOptions(), im.log));
  for (it->Seek(be64(firstKeptSeq)); it->Valid(); it->Next()) {
    auto rec = decodeRecord(it->value().data(), it->value().size());
    if (!rec)
      return Status(rec.status().code(), "refusing to collect bodies of a damaged journal: record " +
                                             std::to_string(fromBe64(it->key())) + ": " + rec.status().message());
    for (const BodyRef& ref : referencedBodies(*rec)) {
      if (!referenced.insert(ref.digest).second || !ref.tape) continue;
      auto tape = im.get(im.bodies, ref.digest);  // a tape's body names more bodies
      if (!tape) return tape.status();
      if (!tape->has_value()) continue;  // already missing: verify reports it
      auto nested = digestsInTape(**tape);
      if (!nested) return Status(nested.status().code(), "refusing to collect bodies: " + nested.status().message());
      referenced.insert(nested->begin(), nested->end());
    }
  }
  if (!it->status().ok()) return Status(Code::kIoError, "reading the log: " + it->status().ToString());
  std::unique_ptr<rocksdb::Iterator> bodies(im.db->NewIterator(rocksdb::ReadOptions(), im.bodies));
  for (bodies->SeekToFirst(); bodies->Valid(); bodies->Next()) {
    if (referenced.count(bodies->key().ToString()) == 0) wb.Delete(im.bodies, bodies->key());
  }
  if (!bodies->status().ok()) return Status(Code::kIoError, "reading bodies: " + bodies->status().ToString());
  return Status::ok();
}

}  // namespace

uint64_t Journal::firstSeq() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->firstSeq;
}

Status Journal::dropBefore(uint64_t firstKeptSeq) {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mu);
  if (im.options.readOnly) return Status(Code::kInvalidArgument, "journal " + im.dir + " is open read-only");
  if (im.poisoned) return Status(Code::kIoError, im.poisonReason);
  if (firstKeptSeq <= im.firstSeq) return Status::ok();
  if (firstKeptSeq > im.nextSeq) {
    return Status(Code::kInvalidArgument, "cannot drop records before " + std::to_string(firstKeptSeq) +
                                              ": the last record is " + std::to_string(im.nextSeq - 1));
  }
  std::string keptPrevHash = im.head;
  if (firstKeptSeq < im.nextSeq) {
    auto kept = readStored(im, firstKeptSeq);
    if (!kept) return kept.status();
    keptPrevHash = kept->prevHash;
  }
  rocksdb::WriteBatch wb;
  for (uint64_t seq = im.firstSeq; seq < firstKeptSeq; ++seq) {
    auto rec = readStored(im, seq);
    if (!rec) return Status(rec.status().code(), "refusing to drop a damaged journal: " + rec.status().message());
    wb.Delete(im.log, be64(seq));
    if (indexedByObject(*rec)) wb.Delete(im.byObject, indexKey(rec->object.key(), seq));
    if (indexedByTenant(*rec)) wb.Delete(im.byTenant, indexKey(rec->tenant, seq));
  }
  SPR_RETURN_IF_ERROR(stageBodyGarbage(im, firstKeptSeq, wb));
  wb.Put(im.meta, kMetaFirstSeq, be64(firstKeptSeq));
  wb.Put(im.meta, kMetaFirstPrevHash, keptPrevHash);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  killPoint("journal.drop.before_write");
  rocksdb::Status s = im.db->Write(wo, &wb);
  killPoint("journal.drop.after_write");
  if (!s.ok()) {
    if (s.IsNoSpace()) im.rocksdbFailed = true;  // see commit() in journal.cpp
    im.poisonReason = "journal " + im.dir + " is poisoned after a failed drop (" + s.ToString() +
                      "); nothing more is appended: fix the disk and restart the operator";
    im.poisoned = true;
    return Status(Code::kIoError, "journal write failed: " + s.ToString());
  }
  im.firstSeq = firstKeptSeq;
  im.firstPrevHash = keptPrevHash;
  im.knownBodies.clear();
  return Status::ok();
}

Status Journal::compactStorage() {
  if (impl_->options.readOnly) return Status(Code::kInvalidArgument, "journal " + impl_->dir + " is open read-only");
  killPoint("journal.compact_storage.begin");
  for (auto* cf : impl_->handles) {
    rocksdb::Status s = impl_->db->CompactRange(rocksdb::CompactRangeOptions(), cf, nullptr, nullptr);
    if (!s.ok()) return Status(Code::kIoError, "compacting journal " + impl_->dir + ": " + s.ToString());
  }
  return Status::ok();
}

}  // namespace spr::journal
