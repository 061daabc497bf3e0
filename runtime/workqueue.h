// A controller-runtime style work queue of object keys plus a timer list and a global
// token-bucket rate limiter. A key is handed to at most one worker at a time; a key
// re-added while being processed is handed out again after done(). Keys added for a user
// (new request, spec change, deletion) go first, then retries (backoff, not-ready
// requeues), then periodic polls, of which at most `pollCap` run at once, so neither
// retries nor polls starve users. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace spr::runtime {

class WorkQueue {
 public:
  enum class Priority { kUser = 0, kRetry = 1, kPoll = 2 };  // handed out in this order
  // 0 = no cap on concurrent polls.
  void setPollCap(size_t cap);
  void add(const std::string& key, Priority priority = Priority::kUser);
  // Blocks until a key is available (returns true) or the queue is shut down (false).
  bool get(std::string* key);
  void done(const std::string& key);
  void shutdown();
  size_t depth() const;
  uint64_t adds() const;

 private:
  bool pollAllowed() const { return pollCap_ == 0 || pollsRunning_.size() < pollCap_; }  // REQUIRES: mu_
  void push(const std::string& key, Priority priority);                                  // REQUIRES: mu_

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queues_[3];      // by Priority; guarded by mu_
  std::map<std::string, Priority> dirty_;  // queued or re-added while processing (best priority); mu_
  std::set<std::string> processing_;       // guarded by mu_
  std::set<std::string> pollsRunning_;     // handed out from poll_; guarded by mu_
  size_t pollCap_ = 0;                     // guarded by mu_
  uint64_t adds_ = 0;                      // guarded by mu_
  bool shutdown_ = false;                  // guarded by mu_
};

// One thread firing callbacks at their due time (steady clock). Callbacks run on the
// timer thread and must be short (they enqueue work).
class TimerList {
 public:
  using Callback = std::function<void()>;
  TimerList();
  ~TimerList();
  TimerList(const TimerList&) = delete;
  TimerList& operator=(const TimerList&) = delete;
  void schedule(std::chrono::milliseconds delay, Callback callback);
  void stop();

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, Callback> timers_;  // guarded by mu_
  bool stop_ = false;                                                      // guarded by mu_
  std::thread thread_;
};

// Token bucket: acquire() blocks until a token is available or stop() was called.
class RateLimiter {
 public:
  RateLimiter(double qps, int burst);
  // Returns false if stopped while waiting.
  bool acquire();
  void stop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  double qps_, tokens_, burst_;                 // guarded by mu_
  std::chrono::steady_clock::time_point last_;  // guarded by mu_
  bool stop_ = false;                           // guarded by mu_
};

}  // namespace spr::runtime
