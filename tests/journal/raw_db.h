// Direct RocksDB access to a closed journal, for tests that tamper with it the way an
// attacker or a broken disk would. Not thread-safe.
#pragma once

#include <rocksdb/db.h>

#include <string>
#include <vector>

namespace spr::journal::testing {

class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    std::vector<std::string> names;
    ok_ = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok();
    if (!ok_) return;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    ok_ = rocksdb::DB::Open(rocksdb::Options(), dir, descriptors, &handles_, &db_).ok();
    names_ = names;
  }
  ~RawDb() {
    if (db_ == nullptr) return;
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    delete db_;
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  bool ok() const { return ok_; }
  std::string get(const std::string& cf, const std::string& key) {
    std::string v;
    db_->Get(rocksdb::ReadOptions(), handle(cf), key, &v).PermitUncheckedError();
    return v;
  }
  bool put(const std::string& cf, const std::string& key, const std::string& value) {
    return db_->Put(rocksdb::WriteOptions(), handle(cf), key, value).ok();
  }
  bool del(const std::string& cf, const std::string& key) {
    return db_->Delete(rocksdb::WriteOptions(), handle(cf), key).ok();
  }

 private:
  rocksdb::ColumnFamilyHandle* handle(const std::string& cf) {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == cf) return handles_[i];
    }
    return nullptr;
  }
  bool ok_ = false;
  rocksdb::DB* db_ = nullptr;
  std::vector<std::string> names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

inline std::string seqKey(uint64_t seq) {
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i, seq >>= 8) k[i] = static_cast<char>(seq & 0xff);
  return k;
}

}  // namespace spr::journal::testing
