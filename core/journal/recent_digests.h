// A bounded set of body digests, the least recently used evicted first: what the journal
// remembers of the bodies it holds, so a body repeated every poll is neither looked up nor
// written again. Memory stays within capacity entries however long the process runs
// (a set cleared only when full grew for hours, and its growth read as a leak). Not
// thread-safe (the journal holds its mutex).
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace spr::journal {

class RecentDigests {
 public:
  explicit RecentDigests(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // True when `digest` is held; it becomes the most recently used.
  bool touch(const std::string& digest) {
    auto it = index_.find(digest);
    if (it == index_.end()) return false;
    order_.splice(order_.begin(), order_, it->second);
    return true;
  }

  // Holds `digest` as the most recently used, evicting the least recently used beyond capacity.
  void insert(const std::string& digest) {
    if (touch(digest)) return;
    order_.push_front(digest);
    index_.emplace(order_.front(), order_.begin());
    trim();
  }

  // A new bound (e.g. as the number of objects grows); evicts down to it at once.
  void setCapacity(size_t capacity) {
    capacity_ = capacity == 0 ? 1 : capacity;
    trim();
  }

  void clear() {
    index_.clear();
    order_.clear();
  }
  size_t size() const { return index_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  void trim() {
    while (index_.size() > capacity_) {
      index_.erase(order_.back());
      order_.pop_back();
    }
  }

  size_t capacity_;
  std::list<std::string> order_;                                                  // most recently used first
  std::unordered_map<std::string_view, std::list<std::string>::iterator> index_;  // views into order_
};

}  // namespace spr::journal
