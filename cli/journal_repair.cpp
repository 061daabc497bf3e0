// `spr journal repair --journal DIR --backup BACKUP`: copies the journal's files to BACKUP
// (checked byte for byte), salvages what RocksDB's repair and the hash chain let it into a
// new journal at DIR, verifies it, and names every sequence that was lost. The operator
// must be stopped. Exit codes: 0 nothing lost, 1 repaired with records lost, 2 bad input
// or nothing could be done (DIR unchanged).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/flags.h"
#include "core/journal/journal.h"

namespace spr::cli {
namespace {

namespace fs = std::filesystem;

int fail(const std::string& message) {
  std::fprintf(stderr, "spr journal repair: %s\n", message.c_str());
  return 2;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status syncPath(const fs::path& p, int flags) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    return Status(Code::kIoError, "cannot sync " + p.string());
  }
  ::close(fd);
  return Status::ok();
}

// The regular files of `dir` (a volume's lost+found and other directories stay).
std::vector<fs::path> filesOf(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  return files;
}

// Copies every file of `from` into `to` (fsync'ed), then compares each byte for byte.
Status copyChecked(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return Status(Code::kIoError, "cannot create " + to + ": " + ec.message());
  for (const fs::path& f : filesOf(from)) {
    const fs::path dest = fs::path(to) / f.filename();
    fs::copy_file(f, dest, fs::copy_options::overwrite_existing, ec);
    if (ec) return Status(Code::kIoError, "cannot copy " + f.string() + " to " + dest.string() + ": " + ec.message());
    SPR_RETURN_IF_ERROR(syncPath(dest, O_RDONLY));
    if (slurp(f) != slurp(dest))
      return Status(Code::kIoError, "the copy " + dest.string() + " differs from " + f.string());
  }
  return syncPath(to, O_RDONLY | O_DIRECTORY);
}

// Fails when a process holds the journal's RocksDB lock (a running operator).
Status notInUse(const std::string& dir) {
  const std::string lock = dir + "/LOCK";
  int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::ok();
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  const bool held = ::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
  ::close(fd);
  if (held)
    return Status(Code::kUnavailable,
                  "journal " + dir + " is in use by process " + std::to_string(fl.l_pid) + "; stop it first");
  return Status::ok();
}

std::string ranges(const std::vector<std::pair<uint64_t, uint64_t>>& rs) {
  std::string out;
  for (const auto& [a, b] : rs) {
    out += (out.empty() ? "" : ", ") + std::to_string(a) + (a == b ? "" : ".." + std::to_string(b));
  }
  return out.empty() ? "none" : out;
}

uint64_t count(const std::vector<std::pair<uint64_t, uint64_t>>& rs) {
  uint64_t n = 0;
  for (const auto& [a, b] : rs) n += b - a + 1;
  return n;
}

// Empties `dir` of its files (all copied to the backup and checked first).
Status clearFiles(const std::string& dir) {
  for (const fs::path& f : filesOf(dir)) {
    std::error_code ec;
    fs::remove(f, ec);
    if (ec) return Status(Code::kIoError, "cannot remove " + f.string() + ": " + ec.message());
  }
  return syncPath(dir, O_RDONLY | O_DIRECTORY);
}

int report(const std::string& dir, const std::string& backup, const journal::SalvageReport& r,
           const journal::VerifyReport& v) {
  const uint64_t kept = r.lastKept >= r.firstKept ? r.lastKept - r.firstKept + 1 : 0;
  std::printf("journal %s repaired; the original is in %s, byte-identical\n", dir.c_str(), backup.c_str());
  if (kept == 0) {
    std::printf("salvaged: no records; the new chain continues at sequence %llu\n",
                static_cast<unsigned long long>(r.firstKept));
  } else {
    std::printf(
        "salvaged: sequences %llu..%llu (%llu records), %llu states, %llu runtime meta keys; chain verified, "
        "head %s\n",
        static_cast<unsigned long long>(r.firstKept), static_cast<unsigned long long>(r.lastKept),
        static_cast<unsigned long long>(kept), static_cast<unsigned long long>(r.states),
        static_cast<unsigned long long>(r.metaKeys), v.headHash.c_str());
  }
  std::printf(
      "lost: %s (%llu records)%s\n", ranges(r.lost).c_str(), static_cast<unsigned long long>(count(r.lost)),
      r.lastKnown ? "" : "; the metadata naming the last sequence was lost too, so later records may be missing");
  if (!r.readableButCutOff.empty()) {
    std::printf("of those, still readable in %s but cut off from the newest records by a gap: %s\n", backup.c_str(),
                ranges(r.readableButCutOff).c_str());
  }
  return r.lost.empty() && r.lastKnown ? 0 : 1;
}

}  // namespace

int journalRepair(const Args& args) {
  Flags flags("spr journal repair",
              "Keep a damaged journal byte-identical in --backup, salvage what can be salvaged into a new journal at "
              "--journal, verify it, and name every lost sequence. Stop the operator first.");
  flags.addString("journal", "the damaged journal directory (required)");
  flags.addString("backup", "a new directory to keep the original files in (required; must not exist or be empty)");
  if (auto done = parseCommandLine(flags, args)) return *done;
  const std::string dir = flags.getString("journal"), backup = flags.getString("backup");
  if (dir.empty() || backup.empty()) return fail("--journal DIR and --backup DIR are both required");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fail("journal directory " + dir + " does not exist");
  if (fs::exists(backup, ec) && !fs::is_empty(backup, ec))
    return fail("--backup " + backup + " is not empty; name a new directory");
  if (fs::equivalent(dir, backup, ec)) return fail("--backup must not be the journal directory");
  if (Status s = notInUse(dir); !s.isOk()) return fail(s.message());
  const std::string scratch = backup + ".salvage";
  fs::remove_all(scratch, ec);
  if (Status s = copyChecked(dir, backup); !s.isOk()) return fail(s.message() + "; " + dir + " is unchanged");
  if (Status s = copyChecked(backup, scratch); !s.isOk()) return fail(s.message() + "; " + dir + " is unchanged");
  if (Status s = clearFiles(dir); !s.isOk()) return fail(s.message() + "; the original is in " + backup);
  auto salvaged = journal::Journal::salvage(scratch, dir);
  if (!salvaged) return fail(salvaged.status().message() + "; the original is in " + backup);
  auto j = journal::Journal::openForReading(dir);
  if (!j) return fail("the salvaged journal does not open: " + j.status().message() + "; the original is in " + backup);
  journal::VerifyReport v = (*j)->verify();
  if (!v.ok) return fail("the salvaged journal fails verification: " + v.reason + "; the original is in " + backup);
  fs::remove_all(scratch, ec);
  return report(dir, backup, *salvaged, v);
}

}  // namespace spr::cli
