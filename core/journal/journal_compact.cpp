// Journal::dropBefore() and compactStorage(): shortening the journal from the front
// while keeping the remaining chain verifiable (for `spr journal compact`).
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include "common/killpoint.h"
#include "core/journal/codec.h"
#include "core/journal/journal.h"
#include "core/journal/journal_impl.h"

namespace spr::journal {

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
    auto kept = im.readSeq(firstKeptSeq);
    if (!kept) return kept.status();
    keptPrevHash = kept->prevHash;
  }
  rocksdb::WriteBatch wb;
  for (uint64_t seq = im.firstSeq; seq < firstKeptSeq; ++seq) {
    auto rec = im.readSeq(seq);
    if (!rec) return Status(rec.status().code(), "refusing to drop a damaged journal: " + rec.status().message());
    wb.Delete(im.log, be64(seq));
    if (indexedByObject(*rec)) wb.Delete(im.byObject, indexKey(rec->object.key(), seq));
    if (indexedByTenant(*rec)) wb.Delete(im.byTenant, indexKey(rec->tenant, seq));
  }
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
