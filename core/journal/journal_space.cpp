// The free-space guard and the background-error listener (see journal_space.h).
#include "core/journal/journal_space.h"

#include <sys/statvfs.h>

#include <algorithm>

namespace spr::journal {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

class ErrorListener : public rocksdb::EventListener {
 public:
  explicit ErrorListener(std::shared_ptr<Journal::Impl::Background> bg) : bg_(std::move(bg)) {}
  // Called on a RocksDB thread, possibly inside a Write that holds im.mu: only bg_->mu here.
  void OnBackgroundError(rocksdb::BackgroundErrorReason /*reason*/, rocksdb::Status* error) override {
    if (error == nullptr || error->ok()) return;
    std::lock_guard<std::mutex> lock(bg_->mu);
    if (bg_->error.empty()) bg_->error = error->ToString();
    if (error->IsNoSpace()) bg_->noSpace = true;
    bg_->failed = true;
  }
  // Resuming would write again through a file writer that already failed, which Debian's
  // librocksdb (assertions on) answers with SIGABRT: the journal stays stopped instead.
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason /*reason*/, rocksdb::Status /*error*/,
                            bool* autoRecovery) override {
    if (autoRecovery != nullptr) *autoRecovery = false;
  }

 private:
  std::shared_ptr<Journal::Impl::Background> bg_;
};

std::string mib(uint64_t bytes) { return std::to_string(bytes) + " bytes (" + std::to_string(bytes / kMiB) + " MiB)"; }

}  // namespace

uint64_t freeBytes(const std::string& dir) {
  struct statvfs sv {};
  if (::statvfs(dir.c_str(), &sv) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
}

uint64_t reserveFor(const std::string& dir, uint64_t configured) {
  if (configured > 0) return configured;
  struct statvfs sv {};
  if (::statvfs(dir.c_str(), &sv) != 0) return 64 * kMiB;
  const uint64_t total = static_cast<uint64_t>(sv.f_blocks) * sv.f_frsize;
  return std::clamp<uint64_t>(total / 8, kMiB, 256 * kMiB);
}

Status checkSpace(Journal::Impl& im, uint64_t incoming) {
  if (im.reserveBytes == Options::kNoReserve) return Status::ok();
  const uint64_t free = freeBytes(im.dir);
  if (free == UINT64_MAX || free >= im.reserveBytes + incoming) {
    im.refusing = false;
    return Status::ok();
  }
  ++im.refusedAppends;
  im.refusing = true;
  return Status(Code::kUnavailable,
                "journal " + im.dir + " has only " + mib(free) + " free; an append of " + std::to_string(incoming) +
                    " bytes would leave less than its reserve of " + mib(im.reserveBytes) +
                    ": it was refused and nothing was written (the journal is intact); free space or grow "
                    "the volume, and appends are accepted again");
}

Status checkSpaceToOpen(const std::string& dir, uint64_t reserve) {
  const uint64_t free = freeBytes(dir);
  if (reserve == Options::kNoReserve || free == UINT64_MAX || free >= reserve) return Status::ok();
  return Status(Code::kUnavailable, "journal " + dir + " has only " + mib(free) + " free, below the reserve of " +
                                        mib(reserve) +
                                        " it needs to be opened for writing; nothing was changed: "
                                        "free space or grow the volume, then start again");
}

std::shared_ptr<rocksdb::EventListener> makeErrorListener(Journal::Impl* im) {
  return std::make_shared<ErrorListener>(im->background);
}

SpaceStatus Journal::space() const {
  SpaceStatus st;
  st.freeBytes = freeBytes(impl_->dir);
  st.reserveBytes = impl_->reserveBytes;
  st.refusedAppends = impl_->refusedAppends;
  st.refusing = impl_->refusing;
  return st;
}

}  // namespace spr::journal
