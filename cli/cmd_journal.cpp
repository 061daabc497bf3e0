// `spr journal`: inspect a journal (verify, stats, export) read-only, never creating
// anything, so safe beside a running operator; `compact` needs the journal to itself.
// Exit codes: 0 ok, 1 the chain failed verification, 2 bad flags or not a journal.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/flags.h"
#include "core/journal/journal.h"

namespace spr::cli {

// In journal_export.cpp (built with spr_replay).
int journalExport(const Args& args);
int journalCompact(const Args& args);
// In journal_repair.cpp.
int journalRepair(const Args& args);

namespace {

using journal::Journal;

struct Subcommand {
  const char* name;
  int (*run)(const Args& args);
  const char* summary;
};

// Error text on one line, whatever the library said.
std::string oneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

// JSON on one line; invalid UTF-8 (e.g. in a path) is replaced rather than thrown on.
std::string dumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int fail(const std::string& message) {
  std::fprintf(stderr, "spr journal: %s\n", oneLine(message).c_str());
  return 2;
}

// Parses flags common to the subcommands; returns -1 to go on, else the exit code.
int parseFlags(Flags& flags, const Args& args) {
  flags.addString("journal", "the journal directory (required)");
  flags.addBool("json", "print the result as one JSON object");
  if (auto done = parseCommandLine(flags, args)) return *done;
  if (flags.getString("journal").empty()) return fail("--journal DIR is required");
  return -1;
}

int openError(const Status& s) {
  if (s.code() == Code::kCorruption) {
    std::printf("journal FAILED: %s\n", oneLine(s.message()).c_str());
    return 1;
  }
  return fail(s.message());
}

int runVerify(const Args& args) {
  Flags flags("spr journal verify", "Walk the journal's hash chain and report the first bad record.");
  flags.addBool("anchor", "print only the chain head hash (hex), to keep elsewhere");
  int rc = parseFlags(flags, args);
  if (rc >= 0) return rc;
  const std::string dir = flags.getString("journal");
  auto j = Journal::openForReading(dir);
  if (!j) return openError(j.status());
  journal::VerifyReport r = (*j)->verify();
  if (flags.getBool("json")) {
    nlohmann::json out = {{"journal", dir},
                          {"ok", r.ok},
                          {"recordsChecked", r.recordsChecked},
                          {"firstBadSeq", r.firstBadSeq},
                          {"reason", r.reason},
                          {"headHash", r.headHash}};
    std::printf("%s\n", dumpJson(out).c_str());
  } else if (r.ok && flags.getBool("anchor")) {
    std::printf("%s\n", r.headHash.c_str());
  } else if (r.ok) {
    std::printf("journal %s OK: %llu records verified, chain head %s\n", dir.c_str(),
                static_cast<unsigned long long>(r.recordsChecked), r.headHash.c_str());
  } else {
    std::printf("journal %s FAILED at sequence %llu: %s\n", dir.c_str(), static_cast<unsigned long long>(r.firstBadSeq),
                oneLine(r.reason).c_str());
  }
  return r.ok ? 0 : 1;
}

// Effects per command, from a scan of every record: how many were requested, on how many
// objects, the most on one object, and how they completed (--effects).
struct EffectCounts {
  uint64_t requested = 0;
  std::map<std::string, uint64_t> perObject;
  std::map<std::string, uint64_t> outcomes;
};

Result<std::map<std::string, EffectCounts>> countEffects(Journal& j) {
  std::map<std::string, EffectCounts> out;
  Status scanned = j.scan(j.firstSeq(), [&](const journal::Record& r) {
    if (const auto* q = std::get_if<journal::EffectRequested>(&r.payload)) {
      EffectCounts& c = out[q->command];
      ++c.requested;
      ++c.perObject[r.object.key()];
    } else if (const auto* d = std::get_if<journal::EffectCompleted>(&r.payload)) {
      ++out[d->command].outcomes[journal::outcomeName(d->outcome)];
    }
    return true;
  });
  if (!scanned.isOk()) return scanned;
  return out;
}

uint64_t mostOnOneObject(const EffectCounts& c) {
  uint64_t most = 0;
  for (const auto& [key, n] : c.perObject) most = std::max(most, n);
  return most;
}

int runStats(const Args& args) {
  Flags flags("spr journal stats", "Count the journal's records, objects, tenants and bytes.");
  flags.addBool("effects", "also count effects per command (requested, per object, outcomes); scans every record");
  int rc = parseFlags(flags, args);
  if (rc >= 0) return rc;
  const std::string dir = flags.getString("journal");
  auto j = Journal::openForReading(dir);
  if (!j) return openError(j.status());
  auto st = (*j)->stats();
  if (!st) return openError(st.status());
  const bool withEffects = flags.getBool("effects");
  std::map<std::string, EffectCounts> effects;
  if (withEffects) {
    auto counted = countEffects(**j);
    if (!counted) return openError(counted.status());
    effects = std::move(*counted);
  }
  if (flags.getBool("json")) {
    nlohmann::json out = {{"journal", dir},           {"records", st->records}, {"objects", st->objects},
                          {"tenants", st->tenants},   {"bytes", st->bytes},     {"diskBytes", st->diskBytes},
                          {"firstSeq", st->firstSeq}, {"lastSeq", st->lastSeq}, {"nextSeq", (*j)->nextSeq()}};
    if (withEffects) {
      out["effects"] = nlohmann::json::object();
      for (const auto& [command, c] : effects)
        out["effects"][command] = {{"requested", c.requested},
                                   {"objects", c.perObject.size()},
                                   {"mostOnOneObject", mostOnOneObject(c)},
                                   {"completed", c.outcomes}};
    }
    std::printf("%s\n", dumpJson(out).c_str());
    return 0;
  }
  std::printf(
      "journal %s: %llu records (sequences %llu..%llu), %llu objects, %llu tenants, "
      "%llu bytes of records, %llu bytes on disk\n",
      dir.c_str(), static_cast<unsigned long long>(st->records), static_cast<unsigned long long>(st->firstSeq),
      static_cast<unsigned long long>(st->lastSeq), static_cast<unsigned long long>(st->objects),
      static_cast<unsigned long long>(st->tenants), static_cast<unsigned long long>(st->bytes),
      static_cast<unsigned long long>(st->diskBytes));
  if (withEffects) std::printf("effects requested, by command:\n");
  for (const auto& [command, c] : effects) {
    std::string outcomes;
    for (const auto& [outcome, n] : c.outcomes)
      outcomes += (outcomes.empty() ? "" : ", ") + outcome + " " + std::to_string(n);
    std::printf("  %-26s %8llu on %llu object%s, at most %llu on one; completed: %s\n", command.c_str(),
                static_cast<unsigned long long>(c.requested), static_cast<unsigned long long>(c.perObject.size()),
                c.perObject.size() == 1 ? "" : "s", static_cast<unsigned long long>(mostOnOneObject(c)),
                outcomes.empty() ? "none" : outcomes.c_str());
  }
  return 0;
}

// The `spr journal` subcommands. `export` and `compact` (replay/) are added here.
const Subcommand kSubcommands[] = {
    {"verify", runVerify, "walk the hash chain; exit 1 naming the first bad sequence"},
    {"stats", runStats, "records, objects, tenants and bytes"},
    {"export", journalExport, "write a repro bundle of one object or tenant"},
    {"compact", journalCompact, "move old history into an archive, keep snapshots"},
    {"repair", journalRepair, "keep a damaged journal in a backup, salvage it, name what was lost"},
};

void printHelp(std::FILE* out) {
  std::fprintf(out, "usage: spr journal SUBCOMMAND --journal DIR [flags]\n\nsubcommands:\n");
  for (const auto& c : kSubcommands) std::fprintf(out, "  %-8s %s\n", c.name, c.summary);
  std::fprintf(out, "\nRun 'spr journal SUBCOMMAND --help' for its flags.\n");
}

}  // namespace

int cmdJournal(const Args& args) {
  if (args.empty()) {
    printHelp(stderr);
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    printHelp(stdout);
    return 0;
  }
  for (const auto& c : kSubcommands) {
    if (args[0] != c.name) continue;
    try {
      return c.run(Args(args.begin() + 1, args.end()));
    } catch (const std::exception& e) {  // the edge: no library exception escapes as a crash
      return fail(std::string("internal error: ") + e.what());
    }
  }
  return fail("unknown subcommand '" + args[0] + "'; run 'spr journal --help' for the list");
}

}  // namespace spr::cli
