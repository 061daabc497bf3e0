// Repro bundles and archives: self-contained JSON Lines files of journal records (REPLAY.md).
// Line 1 is a header {"format":"spr-replay-bundle","version":1,"kind":"object"|"tenant"|
// "archive",...}; every further line is one record (record_json.h), with its hash, so a
// reader re-hashes each record and an archive also re-checks the chain links.
// Functions; thread-safe as long as two callers do not write the same path.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/journal/journal.h"

namespace spr::replay {

inline constexpr const char* kBundleFormat = "spr-replay-bundle";
inline constexpr int kBundleVersion = 1;

struct Bundle {
  nlohmann::json header;
  std::vector<journal::Record> records;  // ascending seq
};

// Writes header + records to `path` (via a temporary file, fsync'ed, renamed).
[[nodiscard]] Status writeBundle(const std::string& path, nlohmann::json header,
                                 const std::vector<journal::Record>& records);
// Reads and checks a bundle: every record's hash, and for an archive the chain links and
// the header's headHash. Errors (kInvalidArgument) name the file, the line and the problem.
[[nodiscard]] Result<Bundle> readBundle(const std::string& path);

// Everything needed to replay one object: its records (including a compaction snapshot),
// and the ProviderConfig records its Transitions folded.
[[nodiscard]] Result<Bundle> exportObject(const journal::Journal& journal, const std::string& objectKey);
// Every object of one tenant (exact match through the tenant index), with the config
// records they folded. Never a record of another tenant (config records carry no tenant).
[[nodiscard]] Result<Bundle> exportTenant(const journal::Journal& journal, const std::string& tenant);

}  // namespace spr::replay
