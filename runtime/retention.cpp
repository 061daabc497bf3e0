// Retention: when and where `spr run` compacts its journal (see retention.h).
#include "runtime/retention.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <vector>

#include "common/log.h"
#include "common/memory.h"

namespace spr::runtime {

namespace fs = std::filesystem;

namespace {

// "<digits><unit>" with the unit looked up in `units` ("" = no unit); kInvalidArgument otherwise.
Result<uint64_t> scaled(const std::string& flag, const std::string& value,
                        const std::vector<std::pair<std::string, uint64_t>>& units, const std::string& example) {
  size_t digits = 0;
  while (digits < value.size() && std::isdigit(static_cast<unsigned char>(value[digits]))) ++digits;
  const std::string unit = value.substr(digits);
  auto bad = [&] {
    return Status(Code::kInvalidArgument,
                  "--" + flag + " '" + value + "' is not understood: give e.g. " + example + ", or 0 to turn it off");
  };
  if (digits == 0 || digits > 15) return bad();
  uint64_t n = std::stoull(value.substr(0, digits));  // at most 15 digits: cannot throw
  for (const auto& [name, factor] : units)
    if (unit == name) return n * factor;
  return bad();
}

// Named by time, then by the first sequence it holds (unique per compaction), so names
// sort oldest first.
std::string archiveName(int64_t nowNanos, uint64_t firstSeq) {
  std::time_t t = static_cast<std::time_t>(nowNanos / 1000000000);
  char buf[64];
  std::strftime(buf, sizeof buf, "spr-journal-%Y%m%dT%H%M%S", std::gmtime(&t));
  char seq[48];
  std::snprintf(seq, sizeof seq, ".%03dZ-from-%020llu.archive", static_cast<int>(nowNanos / 1000000 % 1000),
                static_cast<unsigned long long>(firstSeq));
  return std::string(buf) + seq;
}

}  // namespace

Result<int64_t> parseRetentionAge(const std::string& flag, const std::string& value) {
  if (value == "0") return int64_t{0};
  auto s = scaled(flag, value, {{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}}, "24h, 90m or 7d");
  if (!s) return s.status();
  if (*s != 0 && *s < 60)
    return Status(Code::kInvalidArgument, "--" + flag + " '" + value + "' is shorter than a minute; give e.g. 24h");
  return static_cast<int64_t>(*s);
}

Result<uint64_t> parseRetentionSize(const std::string& flag, const std::string& value) {
  auto s = scaled(flag, value,
                  {{"", 1},
                   {"Ki", 1ull << 10},
                   {"Mi", 1ull << 20},
                   {"Gi", 1ull << 30},
                   {"Ti", 1ull << 40},
                   {"K", 1000},
                   {"M", 1000000},
                   {"G", 1000000000},
                   {"T", 1000000000000}},
                  "2Gi or 500Mi");
  if (!s) return s.status();
  if (*s != 0 && *s < (16ull << 20))
    return Status(Code::kInvalidArgument, "--" + flag + " '" + value + "' is below 16Mi; give e.g. 2Gi");
  return *s;
}

Retention::Retention(RetentionOptions options, journal::Journal* journal, Clock* clock)
    : options_(std::move(options)), journal_(journal), clock_(clock) {}

void Retention::start() {
  thread_ = std::thread([this] { loop(); });
}

void Retention::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Retention::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(options_.checkIntervalMs), [this] { return stopping_; })) {
    lock.unlock();
    Status s = checkOnce();
    if (!s.isOk())
      log::warn("journal retention: compaction failed; retrying at the next check", {{"error", s.toString()}});
    // Give back to the system what the allocator keeps after peaks (a compaction replays
    // a quarter of the journal; memtables come and go every flush): without it the RSS of
    // a months-long run is its high-water mark, not what it uses.
    memory::giveBack();
    lock.lock();
  }
}

// The wall time to cut before: past the age limit, or (over the size limit) the oldest
// quarter of the records, so the newest archive (always kept) stays a small part of a
// shared volume (README, "Retention").
Result<int64_t> Retention::cutTime() {
  const int64_t now = clock_->nowUnixNanos();
  int64_t before = 0;
  const uint64_t first = journal_->firstSeq(), next = journal_->nextSeq();
  if (first >= next) return before;
  if (options_.maxAgeSeconds > 0) {
    auto oldest = journal_->wallTimeAt(first);
    if (!oldest) return oldest.status();
    int64_t limit = now - options_.maxAgeSeconds * 1000000000;
    if (*oldest != 0 && *oldest < limit) before = limit;
  }
  if (options_.maxJournalBytes > 0) {
    // Only the directory's size: a check a minute must not walk the journal (stats() took
    // 0.45 s on a 1M-record journal).
    const uint64_t diskBytes = journal_->diskBytes();
    if (diskBytes > options_.maxJournalBytes) {
      auto mid = journal_->wallTimeAt(first + (next - first) / 4);
      if (!mid) return mid.status();
      if (*mid != 0) before = std::max(before, *mid);
      log::info("journal retention: over the size limit",
                {{"diskBytes", diskBytes}, {"limit", options_.maxJournalBytes}});
    }
  }
  return before;
}

Status Retention::checkOnce() {
  if (!options_.compact || (options_.maxAgeSeconds == 0 && options_.maxJournalBytes == 0)) return Status();
  auto before = cutTime();
  if (!before) return before.status();
  if (*before == 0) return Status();
  std::string archive;
  if (!options_.archiveDir.empty()) {
    std::error_code ec;
    fs::create_directories(options_.archiveDir, ec);
    if (ec)
      return Status(Code::kIoError, "cannot create --journal-archive-dir " + options_.archiveDir + ": " + ec.message());
  }
  const uint64_t firstBefore = journal_->firstSeq();
  if (!options_.archiveDir.empty())
    archive = (fs::path(options_.archiveDir) / archiveName(clock_->nowUnixNanos(), firstBefore)).string();
  SPR_RETURN_IF_ERROR(options_.compact(*journal_, *before, archive));
  log::info("journal retention: compacted",
            {{"archivedFrom", firstBefore}, {"journalStartsAt", journal_->firstSeq()}, {"archive", archive}});
  return capArchives();
}

// Removes the oldest archives (by name: they are named by time) beyond maxArchiveBytes.
Status Retention::capArchives() {
  if (options_.archiveDir.empty() || options_.maxArchiveBytes == 0) return Status();
  std::error_code ec;
  std::vector<std::pair<std::string, uint64_t>> files;
  uint64_t total = 0;
  for (const auto& e : fs::directory_iterator(options_.archiveDir, ec)) {
    if (e.path().extension() != ".archive") continue;
    uint64_t size = e.file_size(ec);
    files.emplace_back(e.path().string(), size);
    total += size;
  }
  std::sort(files.begin(), files.end());
  for (size_t i = 0; i + 1 < files.size() && total > options_.maxArchiveBytes; ++i) {
    if (!fs::remove(files[i].first, ec)) continue;
    total -= files[i].second;
    log::warn("journal retention: removed the oldest archive (over --journal-archive-max-size)",
              {{"archive", files[i].first}, {"bytes", files[i].second}});
  }
  return Status();
}

}  // namespace spr::runtime
