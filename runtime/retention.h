// Automatic journal retention for `spr run`: a background thread that, every check
// interval, compacts the journal when its oldest record is older than the age limit or
// (its oldest quarter) when its directory is larger than the size limit, archiving what it cuts and capping the
// archive directory; after each check it returns the allocator's free memory to the system.
// Off the hot path: it only takes the journal's append lock briefly (snapshots, the drop).
// Thread-safe: start()/stop() from the owning thread only.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "core/journal/journal.h"
#include "runtime/types.h"

namespace spr::runtime {

// Compacts `journal` before a wall time into an archive file ("" = drop, no archive).
// Injected by main() (replay/compact.h) so the runtime does not depend on replay.
using Compactor = std::function<Status(journal::Journal& journal, int64_t beforeUnixNanos, const std::string& archive)>;

struct RetentionOptions {
  int64_t maxAgeSeconds = 0;     // 0 = no age limit
  uint64_t maxJournalBytes = 0;  // 0 = no size limit
  std::string archiveDir;        // "" = no archive (history beyond the limits is dropped)
  uint64_t maxArchiveBytes = 0;  // 0 = keep every archive; else the oldest go first
  int64_t checkIntervalMs = 60000;
  Compactor compact;
};

// Parses "90s", "30m", "24h", "7d" (or "0" = off) into seconds; kInvalidArgument names the flag.
[[nodiscard]] Result<int64_t> parseRetentionAge(const std::string& flag, const std::string& value);
// Parses "500Mi", "2Gi", "1G", "1048576" (or "0" = off) into bytes.
[[nodiscard]] Result<uint64_t> parseRetentionSize(const std::string& flag, const std::string& value);

class Retention {
 public:
  // `journal` and `clock` must outlive the Retention.
  Retention(RetentionOptions options, journal::Journal* journal, Clock* clock);
  ~Retention() { stop(); }
  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  void start();  // checks do nothing but trim memory when neither limit is set or there is no compactor
  void stop();
  // One check now (tests; the thread calls it every interval). Returns what it did.
  [[nodiscard]] Status checkOnce();

 private:
  [[nodiscard]] Result<int64_t> cutTime();  // 0 = nothing to do
  [[nodiscard]] Status capArchives();
  void loop();

  RetentionOptions options_;
  journal::Journal* journal_;
  Clock* clock_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
};

}  // namespace spr::runtime
