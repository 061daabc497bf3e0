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
  std::vector<nlohmann::json> rows;  // one per event, oldest first (AUDIT.md)
  std::vector<std::string> objects;   // every object of the tenant ("NS/NAME"), before filtering
  int64_t firstUnixNanos = 0, lastUnixNanos = 0;  // the tenant's records span (before filtering)
  AuditChain chain;
};

[[nodiscard]] Result<AuditResult> audit(const journal::Journal& journal, const AuditQuery& query);

// The human table (one line per row, aligned columns).
std::string auditTable(const AuditResult& result);

}  // namespace spr::replay
