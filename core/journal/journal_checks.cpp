// Opening checks: directory scan, damage messages, the completion marker, and the
// unreferenced-table check (see journal_checks.h).
#include "core/journal/journal_checks.h"

#include <fcntl.h>
#include <rocksdb/env.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "common/killpoint.h"

namespace spr::journal {
namespace {

namespace fs = std::filesystem;

bool startsWith(const std::string& n, const char* p) { return n.rfind(p, 0) == 0; }
bool endsWith(const std::string& n, const std::string& x) {
  return n.size() >= x.size() && n.compare(n.size() - x.size(), x.size(), x) == 0;
}

// Files RocksDB writes in a database directory (besides *.sst).
bool rocksdbName(const std::string& n) {
  return n == "CURRENT" || n == "LOCK" || n == "IDENTITY" || startsWith(n, "LOG") || startsWith(n, "MANIFEST-") ||
         startsWith(n, "OPTIONS-") || endsWith(n, ".log") || endsWith(n, ".dbtmp") || endsWith(n, ".blob");
}

class NullLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};

Status syncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Status(Code::kIoError, "cannot open " + path + " to sync it: " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status(Code::kIoError, "cannot sync " + path + ": " + std::strerror(err));
  return Status::ok();
}

uint64_t seqOfKey(const std::string& cf, const rocksdb::Slice& key) {
  if (cf == kCfLog && key.size() == 8) return fromBe64(key);
  if ((cf == kCfByObject || cf == kCfByTenant) && key.size() >= 9) {
    return fromBe64(rocksdb::Slice(key.data() + key.size() - 8, 8));
  }
  return UINT64_MAX;
}

rocksdb::ColumnFamilyHandle* handleNamed(const Journal::Impl& impl, const std::string& name) {
  for (auto* h : impl.handles) {
    if (h->GetName() == name) return h;
  }
  return nullptr;
}

// Whether every key of the table file at `path` is still in the database (or was
// dropped from the front of the log). Sets *what to the first missing entry.
Status tableIsRedundant(Journal::Impl& impl, const std::string& path, uint64_t firstSeq, std::string* what) {
  rocksdb::SstFileReader reader(inspectOptions(rocksdb::Options()));
  if (!reader.Open(path).ok()) return Status::ok();  // written only in part: a flush a kill cut short
  auto props = reader.GetTableProperties();
  const std::string cf = props ? props->column_family_name : "";
  // The folded states may be deleted later; only the log, indexes and meta never lose keys.
  if (cf != kCfLog && cf != kCfByObject && cf != kCfByTenant && cf != kCfMeta) return Status::ok();
  rocksdb::ColumnFamilyHandle* h = handleNamed(impl, cf);
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid() && what->empty(); it->Next()) {
    const uint64_t seq = seqOfKey(cf, it->key());
    if (seq != UINT64_MAX && seq < firstSeq) continue;
    std::string value;
    rocksdb::Status s = h == nullptr ? rocksdb::Status::NotFound() : impl.db->Get({}, h, it->key(), &value);
    if (s.IsNotFound()) {
      *what = seq == UINT64_MAX ? "an entry of column family '" + cf + "'"
                                : "record " + std::to_string(seq) + " ('" + cf + "')";
    } else if (!s.ok()) {
      return damaged(impl.dir, "reading it failed: " + s.ToString());
    }
  }
  return Status::ok();
}

}  // namespace

Result<DirScan> scanDir(const std::string& dir) {
  DirScan scan;
  std::error_code ec;
  auto st = fs::status(dir, ec);
  scan.exists = fs::exists(st);
  scan.isDir = fs::is_directory(st);
  if (!scan.exists || !scan.isDir) return scan;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    std::error_code sizeEc;
    if (n == "CURRENT") scan.current = true;
    if (n == kMarkerFile) scan.marker = true;
    if (n == kCreatingFile) scan.creating = true;
    if (endsWith(n, ".sst")) scan.tables.push_back(n);
    if (endsWith(n, ".log") && it->file_size(sizeEc) > 0) scan.nonEmptyWal = true;
    const bool ours = n == kMarkerFile || n == kCreatingFile || n == "lost+found";
    if (!ours && !rocksdbName(n) && !endsWith(n, ".sst")) scan.foreign.push_back(n);
  }
  if (ec) return Result<DirScan>(Code::kIoError, "cannot read journal directory " + dir + ": " + ec.message());
  std::sort(scan.tables.begin(), scan.tables.end());
  return scan;
}

Status damaged(const std::string& dir, const std::string& what) {
  return Status(Code::kCorruption, "journal " + dir + " is damaged: " + what +
                                       ". Nothing in it was changed; run `spr journal repair --journal " + dir +
                                       " --backup DIR` to keep it as it is in DIR and salvage what can be salvaged");
}

rocksdb::Options inspectOptions(rocksdb::Options base) {
  base.create_if_missing = false;
  base.create_missing_column_families = false;
  base.info_log = std::make_shared<NullLogger>();
  base.paranoid_checks = true;
  return base;
}

Status clearAbandonedCreate(const std::string& dir) {
  std::error_code ec;
  fs::remove(fs::path(dir) / "CURRENT", ec);  // first: from here on there is no database
  if (ec) return Status(Code::kIoError, "cannot remove " + dir + "/CURRENT: " + ec.message());
  SPR_RETURN_IF_ERROR(syncPath(dir, O_RDONLY | O_DIRECTORY));
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (!rocksdbName(n)) continue;
    std::error_code rmEc;
    fs::remove(it->path(), rmEc);
    if (rmEc) return Status(Code::kIoError, "cannot remove " + it->path().string() + ": " + rmEc.message());
  }
  if (ec) return Status(Code::kIoError, "cannot read journal directory " + dir + ": " + ec.message());
  return Status::ok();
}

Status beginCreate(const std::string& dir) {
  const std::string path = dir + "/" + kCreatingFile;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status(Code::kIoError, "cannot create " + path + ": " + std::strerror(errno));
  const std::string text = "spr journal (schema/JOURNAL.md); renamed to SPR_JOURNAL once created completely\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) return Status(Code::kIoError, "cannot write " + path + ": " + std::strerror(err));
  return syncPath(dir, O_RDONLY | O_DIRECTORY);
}

Status finishCreate(const std::string& dir) {
  const std::string from = dir + "/" + kCreatingFile, to = dir + "/" + kMarkerFile;
  std::error_code ec;
  if (!fs::exists(from, ec)) SPR_RETURN_IF_ERROR(beginCreate(dir));
  killPoint("journal.create.before_marker");
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Status(Code::kIoError, "cannot rename " + from + " to " + to + ": " + std::strerror(errno));
  }
  return syncPath(dir, O_RDONLY | O_DIRECTORY);
}

Status checkUnreferencedTables(Journal::Impl& impl, const DirScan& scan) {
  std::vector<rocksdb::LiveFileMetaData> live;
  impl.db->GetLiveFilesMetaData(&live);
  std::set<std::string> referenced;
  for (const auto& f : live) referenced.insert(fs::path(f.name).filename().string());
  uint64_t firstSeq = 1;
  std::string first;
  if (impl.meta != nullptr && impl.db->Get({}, impl.meta, kMetaFirstSeq, &first).ok() && first.size() == 8) {
    firstSeq = fromBe64(first);
  }
  for (const auto& table : scan.tables) {
    if (referenced.count(table) > 0) continue;
    std::string what;
    SPR_RETURN_IF_ERROR(tableIsRedundant(impl, impl.dir + "/" + table, firstSeq, &what));
    if (!what.empty()) {
      return damaged(impl.dir, "its MANIFEST no longer references " + table + ", which holds " + what +
                                   " that the database lacks (a truncated or replaced MANIFEST)");
    }
  }
  return Status::ok();
}

}  // namespace spr::journal
