#include "runtime/workqueue.h"

#include <algorithm>

namespace spr::runtime {

void WorkQueue::add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return;
  ++adds_;
  if (!dirty_.insert(key).second) return;  // already queued or pending re-add
  if (processing_.count(key)) return;      // handed out again by done()
  queue_.push_back(key);
  cv_.notify_one();
}

bool WorkQueue::get(std::string* key) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return shutdown_ || !queue_.empty(); });
  if (shutdown_) return false;
  *key = queue_.front();
  queue_.pop_front();
  processing_.insert(*key);
  dirty_.erase(*key);
  return true;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key) && !shutdown_) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

size_t WorkQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

uint64_t WorkQueue::adds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return adds_;
}

TimerList::TimerList() : thread_([this] { run(); }) {}

TimerList::~TimerList() { stop(); }

void TimerList::schedule(std::chrono::milliseconds delay, Callback callback) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return;
  timers_.emplace(std::chrono::steady_clock::now() + delay, std::move(callback));
  cv_.notify_one();
}

void TimerList::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void TimerList::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (timers_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto due = timers_.begin()->first;
    if (std::chrono::steady_clock::now() < due) {
      cv_.wait_until(lock, due);
      continue;
    }
    Callback callback = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    lock.unlock();
    callback();
    lock.lock();
  }
}

RateLimiter::RateLimiter(double qps, int burst)
    : qps_(qps > 0 ? qps : 1e9),
      tokens_(std::max(1, burst)),
      burst_(std::max(1, burst)),
      last_(std::chrono::steady_clock::now()) {}

bool RateLimiter::acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    if (tokens_ >= 1) {
      tokens_ -= 1;
      return true;
    }
    auto wait = std::chrono::duration<double>((1 - tokens_) / qps_);
    cv_.wait_for(lock, std::chrono::duration_cast<std::chrono::microseconds>(wait) + std::chrono::microseconds(100));
  }
  return false;
}

void RateLimiter::stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = true;
  cv_.notify_all();
}

}  // namespace spr::runtime
