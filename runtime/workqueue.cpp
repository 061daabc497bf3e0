#include "runtime/workqueue.h"

#include <algorithm>

namespace spr::runtime {

void WorkQueue::setPollCap(size_t cap) {
  std::lock_guard<std::mutex> lock(mu_);
  pollCap_ = cap;
  cv_.notify_all();
}

void WorkQueue::push(const std::string& key, Priority priority) {
  queues_[static_cast<int>(priority)].push_back(key);
  cv_.notify_all();
}

void WorkQueue::add(const std::string& key, Priority priority) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return;
  ++adds_;
  auto it = dirty_.find(key);
  if (it != dirty_.end()) {  // already queued or pending re-add: at most promote it
    if (priority < it->second) {
      auto& from = queues_[static_cast<int>(it->second)];
      it->second = priority;
      auto queued = std::find(from.begin(), from.end(), key);
      if (queued != from.end()) {
        from.erase(queued);
        push(key, priority);
      }
    }
    return;
  }
  dirty_.emplace(key, priority);
  if (processing_.count(key)) return;  // handed out again by done()
  push(key, priority);
}

bool WorkQueue::get(std::string* key) {
  auto& user = queues_[0];
  auto& retry = queues_[1];
  auto& poll = queues_[2];
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return shutdown_ || !user.empty() || !retry.empty() || (!poll.empty() && pollAllowed()); });
  if (shutdown_) return false;
  const bool isPoll = user.empty() && retry.empty();
  std::deque<std::string>& from = !user.empty() ? user : (!retry.empty() ? retry : poll);
  *key = from.front();
  from.pop_front();
  processing_.insert(*key);
  if (isPoll) pollsRunning_.insert(*key);
  dirty_.erase(*key);
  return true;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (pollsRunning_.erase(key)) cv_.notify_all();  // a poll slot is free
  auto it = dirty_.find(key);
  if (it != dirty_.end() && !shutdown_) push(key, it->second);
}

void WorkQueue::shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

size_t WorkQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queues_[0].size() + queues_[1].size() + queues_[2].size();
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
