// `spr audit`: one tenant's lifecycle history read through the tenant index (never a scan
// of the whole journal), with the hash chain verified around every record shown. Field
// names of the JSON/JSONL forms are stable and documented in replay/AUDIT.md.
// Functions; the journal may be appended to concurrently (reads are consistent per call).
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/journal/journal.h"

namespace spr::replay {

struct AuditQuery {
  std::string tenant;
  std::string object;  // "" = all; NAME or NAMESPACE/NAME
  int64_t sinceUnixNanos = std::numeric_limits<int64_t>::min();
  int64_t untilUnixNanos = std::numeric_limits<int64_t>::max();
};

struct AuditChain {
  bool ok = true;
  uint64_t recordsChecked = 0;
  uint64_t firstBadSeq = 0;
  std::string reason;
};

struct AuditResult {
  bool tenantKnown = false;
  std::vector<nlohmann::json> rows;               // one per event, oldest first (AUDIT.md)
  std::vector<std::string> objects;               // every object of the tenant ("NS/NAME"), before filtering
  int64_t firstUnixNanos = 0, lastUnixNanos = 0;  // the tenant's records span (before filtering)
  AuditChain chain;
};

[[nodiscard]] Result<AuditResult> audit(const journal::Journal& journal, const AuditQuery& query);

// The same over the archives `spr journal compact` wrote (any order) followed by the live
// journal: each archive's chain is re-hashed in full, and the archives and the journal must
// link (an archive's headHash is the next part's first prevHash, sequences contiguous), so
// the chain is verified across every cut. An archive that does not link is a chain
// failure naming both parts; a file that is not an archive is kInvalidArgument.
[[nodiscard]] Result<AuditResult> auditWithArchives(const journal::Journal& journal, const AuditQuery& query,
                                                    const std::vector<std::string>& archivePaths);

// Adds the process starts (ProcessStarted records of `journal` and of `archived`) within
// the span of result's rows, and the last one before it (the process that wrote the first
// row), in sequence order: a tenant's history shows which build reconciled it and each
// restart of the operator meanwhile.
[[nodiscard]] Status addProcessStarts(const journal::Journal& journal, const std::vector<journal::Record>& archived,
                                      const AuditQuery& query, AuditResult* result);

// The audit row of one record (false: not shown, e.g. filtered out by the query).
bool auditRow(const journal::Record& record, const AuditQuery& query, nlohmann::json* row);

// The human table (one line per row, aligned columns).
std::string auditTable(const AuditResult& result);

}  // namespace spr::replay
