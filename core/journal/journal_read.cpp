// Journal reads: by sequence, by object, by tenant, folded states, metadata, stats.
#include <rocksdb/iterator.h>
#include <rocksdb/snapshot.h>

#include <filesystem>

#include "core/journal/bodies.h"
#include "core/journal/codec.h"
#include "core/journal/journal.h"
#include "core/journal/journal_impl.h"

namespace spr::journal {
namespace {

// For walks over a range (stats, distinct ids, readRange, scan, the states at restore) and
// the retention check's wallTimeAt: their blocks are read once, so they stay out of the
// block cache. Cached, each such read of a file compaction later replaced stayed there
// (heaptrack on `spr run`: RSS grew 50-90 KB a minute until the caches were full).
rocksdb::ReadOptions scanOptions() {
  rocksdb::ReadOptions o;
  o.fill_cache = false;
  return o;
}

Status iterStatus(const rocksdb::Iterator& it, const std::string& what) {
  if (it.status().ok()) return Status::ok();
  return Status(Code::kIoError, "reading " + what + ": " + it.status().ToString());
}

Result<Record> decodeAt(uint64_t seq, const rocksdb::Slice& value) {
  auto rec = decodeRecord(value.data(), value.size());
  if (!rec) return Result<Record>(rec.status().code(), "record " + std::to_string(seq) + ": " + rec.status().message());
  return rec;
}

uint64_t directoryBytes(const std::string& dir) {
  std::error_code ec;
  uint64_t total = 0;
  namespace fs = std::filesystem;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code fileEc;
    if (it->is_regular_file(fileEc)) {
      uint64_t size = it->file_size(fileEc);
      if (!fileEc) total += size;
    }
  }
  return total;
}

}  // namespace

Result<std::optional<std::string>> Journal::Impl::get(rocksdb::ColumnFamilyHandle* cf, const std::string& key,
                                                      const rocksdb::Snapshot* snapshot, bool fillCache) const {
  std::string value;
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.fill_cache = fillCache;
  rocksdb::Status s = db->Get(ro, cf, key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return Result<std::optional<std::string>>(Code::kIoError, "journal " + dir + ": " + s.ToString());
  return std::optional<std::string>(std::move(value));
}

Result<Record> Journal::Impl::decodeWhole(uint64_t seq, const rocksdb::Slice& value,
                                          const rocksdb::Snapshot* snapshot) const {
  auto rec = decodeAt(seq, value);
  if (!rec) return rec;
  SPR_RETURN_IF_ERROR(hydrate(*rec, [&](const std::string& digest) -> Result<std::optional<std::string>> {
    if (bodies == nullptr) return std::optional<std::string>();
    return get(bodies, digest, snapshot);
  }));
  return rec;
}

Result<Record> Journal::Impl::readSeq(uint64_t seq, const rocksdb::Snapshot* snapshot) const {
  auto value = get(log, be64(seq), snapshot);
  if (!value) return value.status();
  if (!value->has_value()) {
    return Result<Record>(Code::kCorruption, "record " + std::to_string(seq) + " is indexed but missing from the log");
  }
  return decodeWhole(seq, **value, snapshot);
}

Result<std::vector<Record>> Journal::Impl::readIndex(rocksdb::ColumnFamilyHandle* cf, const std::string& id,
                                                     Order order, size_t limit) const {
  const std::string prefix = id + std::string(1, '\0');
  rocksdb::ManagedSnapshot snapshot(db.get());  // the index and the log seen at one moment
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
  if (order == Order::kOldestFirst) {
    it->Seek(prefix);
  } else {
    it->SeekForPrev(prefix + std::string(8, '\xff'));
  }
  std::vector<Record> out;
  for (; it->Valid() && out.size() < limit; order == Order::kOldestFirst ? it->Next() : it->Prev()) {
    rocksdb::Slice key = it->key();
    // Exact id match: the key is the id, a NUL, and exactly 8 bytes of sequence.
    if (key.size() != prefix.size() + 8 || !key.starts_with(prefix)) break;
    auto rec = readSeq(fromBe64(rocksdb::Slice(key.data() + prefix.size(), 8)), ro.snapshot);
    if (!rec) return rec.status();
    out.push_back(std::move(rec).value());
  }
  SPR_RETURN_IF_ERROR(iterStatus(*it, "index of " + id));
  return out;
}

Result<std::vector<std::string>> Journal::Impl::distinctIds(rocksdb::ColumnFamilyHandle* cf) const {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(scanOptions(), cf));
  std::vector<std::string> ids;
  it->SeekToFirst();
  while (it->Valid()) {
    rocksdb::Slice key = it->key();
    if (key.size() < 9)
      return Result<std::vector<std::string>>(Code::kCorruption, "malformed index key in journal " + dir);
    ids.emplace_back(key.data(), key.size() - 9);
    it->Seek(ids.back() + std::string(1, '\x01'));  // skip the rest of this id
  }
  SPR_RETURN_IF_ERROR(iterStatus(*it, "an index"));
  return ids;
}

Result<std::vector<Record>> Journal::readRange(uint64_t fromSeq, uint64_t toSeqInclusive, size_t limit) const {
  std::vector<Record> out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(scanOptions(), impl_->log));
  for (it->Seek(be64(fromSeq)); it->Valid() && out.size() < limit; it->Next()) {
    if (it->key().size() != 8)
      return Result<std::vector<Record>>(Code::kCorruption, "malformed log key in journal " + impl_->dir);
    const uint64_t seq = fromBe64(it->key());
    if (seq > toSeqInclusive) break;
    auto rec = impl_->decodeWhole(seq, it->value());
    if (!rec) return rec.status();
    out.push_back(std::move(rec).value());
  }
  SPR_RETURN_IF_ERROR(iterStatus(*it, "the log"));
  return out;
}

Result<int64_t> Journal::wallTimeAt(uint64_t seq) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(scanOptions(), impl_->log));
  it->Seek(be64(seq));
  if (!it->Valid()) {
    SPR_RETURN_IF_ERROR(iterStatus(*it, "the log"));
    return int64_t{0};
  }
  if (it->key().size() != 8) return Result<int64_t>(Code::kCorruption, "malformed log key in journal " + impl_->dir);
  auto rec = decodeAt(fromBe64(it->key()), it->value());  // the stored form: bodies not read
  if (!rec) return rec.status();
  return rec->wallUnixNanos;
}

Status Journal::scan(uint64_t fromSeq, const std::function<bool(const Record&)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(scanOptions(), impl_->log));
  for (it->Seek(be64(fromSeq)); it->Valid(); it->Next()) {
    if (it->key().size() != 8) return Status(Code::kCorruption, "malformed log key in journal " + impl_->dir);
    auto rec = impl_->decodeWhole(fromBe64(it->key()), it->value());
    if (!rec) return rec.status();
    if (!visit(*rec)) break;
  }
  return iterStatus(*it, "the log");
}

Result<std::vector<Record>> Journal::readObject(const std::string& objectKey, Order order, size_t limit) const {
  return impl_->readIndex(impl_->byObject, objectKey, order, limit);
}

Result<std::vector<Record>> Journal::readTenant(const std::string& tenant, Order order, size_t limit) const {
  return impl_->readIndex(impl_->byTenant, tenant, order, limit);
}

Result<std::optional<std::string>> Journal::latestState(const std::string& objectKey) const {
  return impl_->get(impl_->state, objectKey);
}

Result<std::vector<std::pair<std::string, std::string>>> Journal::allStates() const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(scanOptions(), impl_->state));
  std::vector<std::pair<std::string, std::string>> out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
  SPR_RETURN_IF_ERROR(iterStatus(*it, "states"));
  return out;
}

Result<std::optional<std::string>> Journal::meta(const std::string& key) const {
  return impl_->get(impl_->meta, kMetaUserPrefix + key);
}

Result<std::vector<std::string>> Journal::tenants() const { return impl_->distinctIds(impl_->byTenant); }

Result<bool> Journal::hasTenant(const std::string& tenant) const {
  const std::string prefix = tenant + std::string(1, '\0');  // index keys: id, NUL, 8 bytes of sequence
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->byTenant));
  it->Seek(prefix);
  const bool found = it->Valid() && it->key().size() == prefix.size() + 8 && it->key().starts_with(prefix);
  SPR_RETURN_IF_ERROR(iterStatus(*it, "the tenant index"));
  return found;
}

MemoryUse Journal::memory() const {
  MemoryUse m;
  if (impl_->poisoned || impl_->rocksdbFailed) return m;  // ask nothing of a database that failed a write
  auto& db = *impl_->db;
  db.GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &m.memtables);
  db.GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimateTableReadersMem, &m.tableReaders);
  // Every family shares one cache: ask one of them, not the sum.
  db.GetIntProperty(impl_->log, rocksdb::DB::Properties::kBlockCacheUsage, &m.blockCache);
  std::lock_guard<std::mutex> lock(impl_->mu);
  m.knownBodies = impl_->knownBodies.size();
  return m;
}

uint64_t Journal::diskBytes() const { return directoryBytes(impl_->dir); }

Result<Stats> Journal::stats() const {
  Stats st;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(scanOptions(), impl_->log));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8) return Result<Stats>(Code::kCorruption, "malformed log key in journal " + impl_->dir);
    uint64_t seq = fromBe64(it->key());
    if (st.records == 0) st.firstSeq = seq;
    st.lastSeq = seq;
    ++st.records;
    st.bytes += it->value().size();
  }
  SPR_RETURN_IF_ERROR(iterStatus(*it, "the log"));
  auto objects = impl_->distinctIds(impl_->byObject);
  if (!objects) return objects.status();
  auto tenants = impl_->distinctIds(impl_->byTenant);
  if (!tenants) return tenants.status();
  st.objects = objects->size();
  st.tenants = tenants->size();
  st.diskBytes = directoryBytes(impl_->dir);
  return st;
}

}  // namespace spr::journal
