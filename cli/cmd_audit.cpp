// `spr audit`: one tenant's lifecycle history from the tenant index, as a table for people
// or JSON / JSON Lines for tools (field names: replay/AUDIT.md). The hash chain is verified
// around every record printed. Exit codes: 0 ok, 2 bad input (also: a --tenant, --object
// or time window that matches nothing), 3 the chain failed verification (loud warning).
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/flags.h"
#include "core/journal/journal.h"
#include "replay/audit.h"
#include "replay/filters.h"
#include "replay/record_json.h"
#include "replay/rfc3339.h"

namespace spr::cli {
namespace {

using nlohmann::json;

int fail(const std::string& message) {
  std::string m = message;
  for (char& c : m)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "spr audit: %s\n", m.c_str());
  return 2;
}

json chainJson(const replay::AuditChain& c) {
  return {{"ok", c.ok}, {"recordsChecked", c.recordsChecked}, {"firstBadSeq", c.firstBadSeq}, {"reason", c.reason}};
}

void print(const replay::AuditResult& result, const std::string& tenant, const std::string& format) {
  if (format == "json") {
    json out = {{"tenant", tenant},
                {"known", result.tenantKnown},
                {"verified", result.chain.ok},
                {"chain", chainJson(result.chain)},
                {"rows", result.rows}};
    std::printf("%s\n", replay::dumpLine(out).c_str());
    return;
  }
  if (format == "jsonl") {
    for (const auto& row : result.rows) std::printf("%s\n", replay::dumpLine(row).c_str());
    return;
  }
  std::printf("%s", replay::auditTable(result).c_str());
  std::printf("%zu rows for tenant %s; chain verified around %llu records: %s\n", result.rows.size(), tenant.c_str(),
              static_cast<unsigned long long>(result.chain.recordsChecked), result.chain.ok ? "OK" : "FAILED");
}

Result<int64_t> timeFlag(const Flags& flags, const char* name, int64_t fallback) {
  if (flags.getString(name).empty()) return fallback;
  auto t = replay::parseRfc3339(flags.getString(name));
  if (!t) return Status(t.status().code(), std::string("--") + name + ": " + t.status().message());
  return t;
}

// Why a filter left no row (one line naming the filter and what exists); "" if none did.
std::string emptyBecause(const Flags& flags, const replay::AuditResult& result) {
  const std::string object = flags.getString("object");
  if (!object.empty()) {
    bool exists = false;
    for (const auto& o : result.objects)
      exists |= object.find('/') == std::string::npos ? o.substr(o.find('/') + 1) == object : o == object;
    if (!exists)
      return "--object " + object + " matches no object of tenant '" + flags.getString("tenant") +
             "' (its objects: " + replay::listSome(result.objects) + ")";
  }
  if (flags.getString("since").empty() && flags.getString("until").empty()) return "";
  return "--since/--until match no record of tenant '" + flags.getString("tenant") + "'" +
         (object.empty() ? "" : " --object " + object) + " (its records span " +
         replay::formatRfc3339(result.firstUnixNanos) + " .. " + replay::formatRfc3339(result.lastUnixNanos) + ")";
}

// --archive: comma-separated FILEs, or DIRs whose *.archive files are all taken.
Result<std::vector<std::string>> archiveFiles(const std::string& flag) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < flag.size()) {
    size_t comma = flag.find(',', start);
    std::string item = flag.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? flag.size() : comma + 1;
    if (item.empty()) continue;
    std::error_code ec;
    if (std::filesystem::is_directory(item, ec)) {
      for (const auto& e : std::filesystem::directory_iterator(item, ec))
        if (e.path().extension() == ".archive") out.push_back(e.path().string());
    } else if (std::filesystem::exists(item, ec)) {
      out.push_back(item);
    } else {
      return Status(Code::kInvalidArgument,
                    "--archive: " + item + " does not exist (give archive files or a directory of them)");
    }
  }
  return out;
}

int run(const Flags& flags) {
  const std::string dir = flags.getString("journal"), tenant = flags.getString("tenant");
  const std::string format = flags.getString("format");
  if (dir.empty()) return fail("--journal DIR is required");
  if (tenant.empty()) return fail("--tenant T is required and must not be empty (audit is per tenant)");
  if (format != "table" && format != "json" && format != "jsonl")
    return fail("--format must be table, json or jsonl (got '" + format + "')");
  replay::AuditQuery q;
  q.tenant = tenant;
  q.object = flags.getString("object");
  auto since = timeFlag(flags, "since", q.sinceUnixNanos);
  if (!since) return fail(since.status().message());
  auto until = timeFlag(flags, "until", q.untilUnixNanos);
  if (!until) return fail(until.status().message());
  if (*since > *until)
    return fail("--since " + flags.getString("since") + " is after --until " + flags.getString("until") +
                "; give --since before --until");
  q.sinceUnixNanos = *since;
  q.untilUnixNanos = *until;
  auto j = journal::Journal::openForReading(dir);
  if (!j) return fail(j.status().message());
  Status known = replay::requireTenant(**j, tenant, "journal " + dir);
  if (!known.isOk()) return fail(known.message());
  auto archives = archiveFiles(flags.getString("archive"));
  if (!archives) return fail(archives.status().message());
  auto result = archives->empty() ? replay::audit(**j, q) : replay::auditWithArchives(**j, q, *archives);
  if (!result && result.status().code() == Code::kCorruption) {
    // The tenant index names a record the log no longer has (deleted or unreadable): that is
    // tamper evidence too, not a usage error.
    std::fprintf(stderr,
                 "WARNING: JOURNAL VERIFICATION FAILED: %s. The tenant's history cannot be shown complete and may "
                 "have been tampered with; run 'spr journal verify --journal %s'.\n",
                 result.status().message().c_str(), dir.c_str());
    return 3;
  }
  if (!result) return fail(result.status().message());
  if (result->rows.empty()) {
    std::string why = emptyBecause(flags, *result);
    if (!why.empty()) return fail(why);
  }
  print(*result, tenant, format);
  if (result->chain.ok) return 0;
  std::fprintf(stderr,
               "WARNING: JOURNAL VERIFICATION FAILED for the records shown: %s (first bad seq %llu). "
               "The history above may have been tampered with; run 'spr journal verify --journal %s'.\n",
               result->chain.reason.c_str(), static_cast<unsigned long long>(result->chain.firstBadSeq), dir.c_str());
  return 3;
}

}  // namespace

int cmdAudit(const Args& args) {
  Flags flags("spr audit", "One tenant's lifecycle history (from the tenant index), verified against the hash chain.");
  flags.setExitCodes(
      "0 ok (also an unknown tenant, no rows); 2 bad input; 3 the journal failed verification "
      "(possible tampering)");
  flags.addString("journal", "the journal directory (required)");
  flags.addString("tenant", "the tenant (required; exact match)");
  flags.addString("object", "only this object: NAME or NAMESPACE/NAME");
  flags.addString("since", "only records at or after this RFC 3339 time, e.g. 2024-05-01T00:00:00Z");
  flags.addString("until", "only records at or before this RFC 3339 time");
  flags.addString("format", "table, json or jsonl", "table");
  flags.addString("archive",
                  "also the history compacted away: archive FILEs (comma-separated) or a DIR of *.archive files "
                  "(e.g. spr run's --journal-archive-dir); the chain is verified across each cut");
  if (auto done = parseCommandLine(flags, args)) return *done;
  try {
    return run(flags);
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what());
  }
}

}  // namespace spr::cli
