// Test helper: a RocksDB FileSystem that remembers what a power cut would leave of every
// file it writes (the bytes up to its last Sync/Fsync; a new file or a rename only once its
// directory was fsynced) and copies exactly that image to another directory on crashImage().
// Modelled on leveldb's db/fault_injection_test.cc. Thread-safe: one mutex serializes every
// tracked call with crashImage(), so an image is a consistent cut.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace spr::journal::testing {

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  FaultFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "SprFaultFs"; }

  // What each written file holds durably and which names are durable, as one cut.
  struct FileState {
    uint64_t written = 0, synced = 0;
  };

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* d) override {
    std::lock_guard<std::mutex> lock(mu_);
    const bool existed = std::filesystem::exists(f);
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, d);
    if (!s.ok()) return s;
    if (!existed) undurableNames_.insert(f);
    files_[f] = FileState{};
    *r = std::make_unique<File>(std::move(*r), this, f);
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* d) override {
    std::lock_guard<std::mutex> lock(mu_);
    const bool existed = std::filesystem::exists(f);
    rocksdb::IOStatus s = target()->ReopenWritableFile(f, o, r, d);
    if (!s.ok()) return s;
    if (!existed) undurableNames_.insert(f);
    if (!files_.count(f)) {
      const uint64_t size = existed ? std::filesystem::file_size(f) : 0;
      files_[f] = FileState{size, size};
    }
    *r = std::make_unique<File>(std::move(*r), this, f);
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string&, const std::string&, const rocksdb::FileOptions&,
                                      std::unique_ptr<rocksdb::FSWritableFile>*, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("FaultFs: WAL recycling is not modelled");
  }
  rocksdb::IOStatus NewRandomRWFile(const std::string&, const rocksdb::FileOptions&,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>*, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("FaultFs: random writes are not modelled");
  }
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r, rocksdb::IODebugContext* d) override {
    rocksdb::IOStatus s = target()->NewDirectory(name, o, r, d);
    if (s.ok()) *r = std::make_unique<Dir>(std::move(*r), this, name);
    return s;
  }
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* d) override {
    std::lock_guard<std::mutex> lock(mu_);
    // Until the directory is synced, a crash shows the old name and the old target.
    if (!pendingRenames_.count(dst)) {
      Pending p;
      p.src = src;
      p.srcDurable = !undurableNames_.count(src);
      if (std::filesystem::exists(dst) && !undurableNames_.count(dst)) p.oldDst = durableBytes(dst);
      pendingRenames_[dst] = std::move(p);
    }
    rocksdb::IOStatus s = target()->RenameFile(src, dst, o, d);
    if (!s.ok()) return s;
    if (files_.count(src)) files_[dst] = files_[src];
    files_.erase(src);
    undurableNames_.erase(src);
    undurableNames_.erase(dst);  // the pending rename decides what the image shows
    return s;
  }
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(f);
    pendingRenames_.erase(f);  // a delete counts as durable at once (an older file may also reappear on a real disk)
    undurableNames_.erase(f);
    return target()->DeleteFile(f, o, d);
  }

  // Copies what a power cut right now would leave of `dir` into `imageDir` (created; must
  // not exist). Files this FileSystem did not write count as durable.
  void crashImage(const std::string& dir, const std::string& imageDir) {
    std::lock_guard<std::mutex> lock(mu_);
    std::filesystem::create_directories(imageDir);
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const std::string path = entry.path().string();
      const std::string out = imageDir + "/" + entry.path().filename().string();
      auto pending = pendingRenames_.find(path);
      if (pending != pendingRenames_.end()) {
        if (pending->second.oldDst) writeFile(out, *pending->second.oldDst);
        if (pending->second.srcDurable) {
          writeFile(imageDir + "/" + std::filesystem::path(pending->second.src).filename().string(),
                    durableBytes(path));
        }
        continue;
      }
      if (undurableNames_.count(path) || !entry.is_regular_file()) continue;
      writeFile(out, durableBytes(path));
    }
  }

 private:
  struct Pending {
    std::string src;
    bool srcDurable = false;
    std::optional<std::string> oldDst;
  };

  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> t, FaultFs* fs, std::string name)
        : FSWritableFileOwnerWrapper(std::move(t)), fs_(fs), name_(std::move(name)) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* d) override {
      std::lock_guard<std::mutex> lock(fs_->mu_);
      rocksdb::IOStatus s = target()->Append(data, o, d);
      if (s.ok()) fs_->state(name_).written += data.size();
      return s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo&, rocksdb::IODebugContext* d) override {
      return Append(data, o, d);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t, const rocksdb::IOOptions&,
                                       rocksdb::IODebugContext*) override {
      return rocksdb::IOStatus::NotSupported("FaultFs: positioned appends are not modelled");
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t, const rocksdb::IOOptions&,
                                       const rocksdb::DataVerificationInfo&, rocksdb::IODebugContext*) override {
      return rocksdb::IOStatus::NotSupported("FaultFs: positioned appends are not modelled");
    }
    rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      std::lock_guard<std::mutex> lock(fs_->mu_);
      rocksdb::IOStatus s = target()->Truncate(size, o, d);
      FileState& st = fs_->state(name_);
      if (s.ok()) st.written = size, st.synced = std::min(st.synced, size);
      return s;
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      std::lock_guard<std::mutex> lock(fs_->mu_);
      return synced(target()->Sync(o, d));
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      std::lock_guard<std::mutex> lock(fs_->mu_);
      return synced(target()->Fsync(o, d));
    }
    // sync_file_range makes no promise about metadata or order: not a sync here.
    rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
      return rocksdb::IOStatus::OK();
    }

   private:
    // REQUIRES: fs_->mu_, held across the sync so no append slips in between.
    rocksdb::IOStatus synced(rocksdb::IOStatus s) {
      FileState& st = fs_->state(name_);
      if (s.ok()) st.synced = st.written;
      return s;
    }
    FaultFs* fs_;
    const std::string name_;
  };

  class Dir : public rocksdb::FSDirectoryWrapper {
   public:
    Dir(std::unique_ptr<rocksdb::FSDirectory> t, FaultFs* fs, std::string name)
        : FSDirectoryWrapper(std::move(t)), fs_(fs), name_(std::move(name)) {}
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      rocksdb::IOStatus s = FSDirectoryWrapper::Fsync(o, d);
      if (s.ok()) fs_->dirSynced(name_);
      return s;
    }
    rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d,
                                          const rocksdb::DirFsyncOptions& opts) override {
      rocksdb::IOStatus s = FSDirectoryWrapper::FsyncWithDirOptions(o, d, opts);
      if (s.ok()) fs_->dirSynced(name_);
      return s;
    }

   private:
    FaultFs* fs_;
    const std::string name_;
  };

  // REQUIRES: mu_.
  FileState& state(const std::string& name) { return files_[name]; }

  void dirSynced(const std::string& dir) {
    std::lock_guard<std::mutex> lock(mu_);
    auto inDir = [&](const std::string& path) {
      return std::filesystem::path(path).parent_path() == std::filesystem::path(dir).lexically_normal() ||
             std::filesystem::path(path).parent_path() == std::filesystem::path(dir);
    };
    for (auto it = undurableNames_.begin(); it != undurableNames_.end();)
      it = inDir(*it) ? undurableNames_.erase(it) : ++it;
    for (auto it = pendingRenames_.begin(); it != pendingRenames_.end();) {
      it = inDir(it->first) ? pendingRenames_.erase(it) : ++it;
    }
  }

  // REQUIRES: mu_. The bytes of `path` a power cut would keep.
  std::string durableBytes(const std::string& path) const {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto it = files_.find(path);
    if (it != files_.end() && bytes.size() > it->second.synced) bytes.resize(it->second.synced);
    return bytes;
  }
  static void writeFile(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }

  std::mutex mu_;
  std::map<std::string, FileState> files_;         // guarded by mu_: files written through us
  std::set<std::string> undurableNames_;           // guarded by mu_: created, directory not synced since
  std::map<std::string, Pending> pendingRenames_;  // guarded by mu_: by target, directory not synced since
};

}  // namespace spr::journal::testing
