// Journal::salvage(): RocksDB's repair on a scratch copy of a damaged journal, then the
// newest unbroken piece of its hash chain, copied byte for byte into a new journal. See
// schema/JOURNAL.md ("Repair") for how the salvaged chain relates to the original.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>

#include "core/journal/codec.h"
#include "core/journal/journal.h"
#include "core/journal/journal_impl.h"

namespace spr::journal {
namespace {

// The repaired scratch copy, open read-only, its column families by name.
struct Source {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> byName;
  ~Source() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  rocksdb::ColumnFamilyHandle* cf(const std::string& name) const {
    auto it = byName.find(name);
    return it == byName.end() ? nullptr : it->second;
  }
  std::optional<std::string> get(const std::string& cfName, const std::string& key) const {
    std::string v;
    if (cf(cfName) == nullptr || !db->Get({}, cf(cfName), key, &v).ok()) return std::nullopt;
    return v;
  }
};

Status repairAndOpen(const std::string& dir, Source* src) {
  std::vector<rocksdb::ColumnFamilyDescriptor> own = {{rocksdb::kDefaultColumnFamilyName, {}}};
  for (const char* n : {kCfLog, kCfByObject, kCfByTenant, kCfState, kCfMeta})
    own.emplace_back(n, rocksdb::ColumnFamilyOptions());
  rocksdb::Options o;
  rocksdb::Status s = rocksdb::RepairDB(dir, o, own, rocksdb::ColumnFamilyOptions());
  if (!s.ok()) return Status(Code::kCorruption, "RocksDB's repair of the copy in " + dir + " failed: " + s.ToString());
  std::vector<std::string> names;
  s = rocksdb::DB::ListColumnFamilies(o, dir, &names);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  rocksdb::DB* raw = nullptr;
  if (s.ok()) s = rocksdb::DB::OpenForReadOnly(o, dir, descriptors, &src->handles, &raw);
  if (!s.ok()) return Status(Code::kCorruption, "cannot read the repaired copy in " + dir + ": " + s.ToString());
  src->db.reset(raw);
  for (size_t i = 0; i < names.size(); ++i) src->byName[names[i]] = src->handles[i];
  return Status::ok();
}

// An unbroken piece of the chain: consecutive sequences, each record intact and linked.
struct Run {
  uint64_t first = 0, last = 0;
  std::string firstPrevHash, lastHash;
};

// Walks the log in key order and cuts it into unbroken runs.
std::vector<Run> findRuns(const Source& src) {
  std::vector<Run> runs;
  if (src.cf(kCfLog) == nullptr) return runs;
  std::unique_ptr<rocksdb::Iterator> it(src.db->NewIterator({}, src.cf(kCfLog)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8) continue;
    const uint64_t seq = fromBe64(it->key());
    auto rec = decodeRecord(it->value().data(), it->value().size());
    if (!rec || rec->seq != seq) continue;  // unreadable: a gap
    auto hash = computeHash(*rec);
    if (!hash || *hash != rec->hash) continue;  // edited: a gap
    if (runs.empty() || runs.back().last + 1 != seq || runs.back().lastHash != rec->prevHash) {
      runs.push_back(Run{seq, seq, rec->prevHash, rec->hash});
    } else {
      runs.back().last = seq;
      runs.back().lastHash = rec->hash;
    }
  }
  return runs;
}

// Copies records [run.first, run.last] verbatim with their index entries.
Status copyRecords(const Source& src, Journal::Impl& im, const Run& run) {
  rocksdb::WriteBatch wb;
  for (uint64_t seq = run.first; seq <= run.last && run.last >= run.first; ++seq) {
    auto value = src.get(kCfLog, be64(seq));
    if (!value) return Status(Code::kCorruption, "record " + std::to_string(seq) + " vanished while salvaging");
    auto rec = decodeRecord(*value);
    if (!rec) return rec.status();
    wb.Put(im.log, be64(seq), *value);
    if (indexedByObject(*rec)) wb.Put(im.byObject, indexKey(rec->object.key(), seq), "");
    if (indexedByTenant(*rec)) wb.Put(im.byTenant, indexKey(rec->tenant, seq), "");
    if (wb.Count() >= 4096 || seq == run.last) {
      rocksdb::Status s = im.db->Write({}, &wb);
      if (!s.ok()) return Status(Code::kIoError, "writing the salvaged journal " + im.dir + ": " + s.ToString());
      wb.Clear();
    }
  }
  return Status::ok();
}

// Copies every entry of a column family verbatim (states, and any family this code does
// not interpret); for meta only the runtime's user/ keys. Returns how many.
Result<uint64_t> copyFamily(const Source& src, const std::string& name, Journal::Impl& im) {
  rocksdb::ColumnFamilyHandle* to = nullptr;
  for (auto* h : im.handles) {
    if (h->GetName() == name) to = h;
  }
  if (src.cf(name) == nullptr || to == nullptr) return uint64_t{0};
  const bool metaOnlyUser = name == kCfMeta;
  rocksdb::WriteBatch wb;
  uint64_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it(src.db->NewIterator({}, src.cf(name)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (metaOnlyUser && !it->key().starts_with(kMetaUserPrefix)) continue;
    wb.Put(to, it->key(), it->value());
    ++n;
  }
  rocksdb::Status s = im.db->Write({}, &wb);
  if (!s.ok()) return Result<uint64_t>(Code::kIoError, "writing the salvaged journal " + im.dir + ": " + s.ToString());
  return n;
}

// The original chain's extent (from its metadata where that survived) and what is lost.
void account(const Source& src, const std::vector<Run>& runs, const Run& kept, SalvageReport* r) {
  auto first = src.get(kCfMeta, kMetaFirstSeq);
  auto last = src.get(kCfMeta, kMetaLastSeq);
  r->originalFirst = first && first->size() == 8 ? fromBe64(*first) : 1;
  r->lastKnown = last && last->size() == 8;
  r->originalLast = r->lastKnown ? fromBe64(*last) : 0;
  if (!runs.empty()) r->originalLast = std::max(r->originalLast, runs.back().last);
  r->firstKept = kept.first;
  r->lastKept = kept.last;
  auto addLost = [r](uint64_t a, uint64_t b) {
    if (a <= b) r->lost.emplace_back(a, b);
  };
  if (r->lastKept < r->firstKept) {
    addLost(r->originalFirst, r->originalLast);
  } else {
    addLost(r->originalFirst, r->firstKept - 1);
    addLost(r->lastKept + 1, r->originalLast);
  }
  for (const Run& run : runs) {
    if (run.first != kept.first) r->readableButCutOff.emplace_back(run.first, run.last);
  }
}

}  // namespace

Result<SalvageReport> Journal::salvage(const std::string& scratchCopy, const std::string& target) {
  Source src;
  SPR_RETURN_IF_ERROR(repairAndOpen(scratchCopy, &src));
  std::vector<Run> runs = findRuns(src);
  Run kept;
  if (!runs.empty()) {
    kept = runs.back();  // the newest: what the operator resumes from
  } else {
    auto last = src.get(kCfMeta, kMetaLastSeq);
    kept.first = (last && last->size() == 8 ? fromBe64(*last) : 0) + 1;
    kept.last = kept.first - 1;
    kept.firstPrevHash = kept.lastHash = std::string(kHashSize, '\0');
  }
  SalvageReport report;
  account(src, runs, kept, &report);
  auto j = Journal::open(target);
  if (!j) return j.status();
  Impl& im = *(*j)->impl_;
  std::lock_guard<std::mutex> lock(im.mu);
  SPR_RETURN_IF_ERROR(copyRecords(src, im, kept));
  for (const auto& [name, handle] : src.byName) {
    if (name == kCfLog || name == kCfByObject || name == kCfByTenant || name == rocksdb::kDefaultColumnFamilyName)
      continue;
    auto n = copyFamily(src, name, im);
    if (!n) return n.status();
    if (name == kCfMeta) report.metaKeys += *n;
    if (name == kCfState) report.states += *n;
  }
  rocksdb::WriteBatch wb;
  wb.Put(im.meta, kMetaLastSeq, be64(kept.last));
  wb.Put(im.meta, kMetaHead, kept.lastHash);
  wb.Put(im.meta, kMetaFirstSeq, be64(kept.first));
  wb.Put(im.meta, kMetaFirstPrevHash, kept.firstPrevHash);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = im.db->Write(wo, &wb);
  if (!s.ok()) return Status(Code::kIoError, "writing the salvaged journal " + target + ": " + s.ToString());
  im.nextSeq = kept.last + 1;
  im.head = kept.lastHash;
  im.firstSeq = kept.first;
  im.firstPrevHash = kept.firstPrevHash;
  return report;
}

}  // namespace spr::journal
