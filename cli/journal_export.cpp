// `spr journal export` and `spr journal compact` (replay/): repro bundles of one object or
// one tenant, and moving old history into a replayable archive. Exit codes: 0 ok, 1 the
// archived history does not replay (compact refuses), 2 bad flags or not a journal.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "common/flags.h"
#include "core/journal/journal.h"
#include "replay/bundle.h"
#include "replay/compact.h"
#include "replay/filters.h"
#include "replay/replay_run.h"
#include "replay/rfc3339.h"

namespace spr::cli {
namespace {

int fail(const std::string& message) {
  std::string m = message;
  for (char& c : m)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "spr journal: %s\n", m.c_str());
  return 2;
}

// Parses; returns -1 to go on, else the exit code.
int parse(Flags& flags, const Args& args) {
  if (auto done = parseCommandLine(flags, args)) return *done;
  if (flags.getString("journal").empty()) return fail("--journal DIR is required");
  return -1;
}

int exportBundle(const Flags& flags) {
  const std::string object = flags.getString("object"), tenant = flags.getString("tenant"),
                    out = flags.getString("out");
  if (out.empty()) return fail("--out FILE is required");
  if (std::FILE* existing = std::fopen(out.c_str(), "r")) {
    std::fclose(existing);
    if (!flags.getBool("force"))
      return fail("--out " + out + " already exists; choose another file, or pass --force to overwrite it");
  }
  if (object.empty() == !flags.given("tenant")) return fail("give exactly one of --object NS/NAME or --tenant T");
  auto j = journal::Journal::openForReading(flags.getString("journal"));
  if (!j) return fail(j.status().message());
  Result<replay::Bundle> bundle = Status(Code::kInternal, "unset");
  if (!object.empty()) {
    auto key = replay::resolveObject(**j, object);
    if (!key) return fail(key.status().message());
    bundle = replay::exportObject(**j, *key);
  } else {
    Status known = replay::requireTenant(**j, tenant, "journal " + flags.getString("journal"));
    if (!known.isOk()) return fail(known.message());
    bundle = replay::exportTenant(**j, tenant);
  }
  if (!bundle) return fail(bundle.status().message());
  Status s = replay::writeBundle(out, bundle->header, bundle->records);
  if (!s.isOk()) return fail(s.message());
  std::printf("wrote %zu records (%s %s) to %s; replay it with: spr replay --bundle %s\n", bundle->records.size(),
              object.empty() ? "tenant" : "object", object.empty() ? tenant.c_str() : object.c_str(), out.c_str(),
              out.c_str());
  return 0;
}

int compact(const Flags& flags) {
  if (flags.getString("before").empty()) return fail("--before TIME (RFC 3339, e.g. 2024-05-01T00:00:00Z) is required");
  if (flags.getString("archive").empty()) return fail("--archive FILE is required");
  auto before = replay::parseRfc3339(flags.getString("before"));
  if (!before) return fail("--before: " + before.status().message());
  journal::Options options;
  options.createIfMissing = false;
  auto j = journal::Journal::open(flags.getString("journal"), options);
  if (!j) return fail(j.status().message() + " (compact needs the journal to itself: stop the operator first)");
  auto r = replay::compactJournal(**j, *before, flags.getString("archive"));
  if (!r) {
    std::fprintf(stderr, "spr journal compact: %s\n", r.status().message().c_str());
    return r.status().code() == Code::kInvalidArgument ? 1 : 2;
  }
  if (r->nothingToDo) {
    std::printf("nothing to compact: no record before %s (the journal starts at seq %llu)\n",
                flags.getString("before").c_str(), static_cast<unsigned long long>(r->keptFrom));
    return 0;
  }
  std::printf(
      "archived records %llu..%llu to %s (archive head hash %s); the journal now starts at seq %llu "
      "with %zu snapshots\n",
      static_cast<unsigned long long>(r->archivedFrom), static_cast<unsigned long long>(r->archivedTo),
      flags.getString("archive").c_str(), r->archiveHeadHash.c_str(), static_cast<unsigned long long>(r->keptFrom),
      r->snapshots);
  return 0;
}

}  // namespace

int journalExport(const Args& args) {
  Flags flags("spr journal export", "Write a self-contained repro bundle of one object or one tenant.");
  flags.addString("journal", "the journal directory (required)");
  flags.addString("object", "the object, NAMESPACE/NAME");
  flags.addString("tenant", "every object of this tenant (exact match)");
  flags.addString("out", "the bundle file to write (required; an existing file only with --force)");
  flags.addBool("force", "overwrite an existing --out file");
  int rc = parse(flags, args);
  return rc >= 0 ? rc : exportBundle(flags);
}

int journalCompact(const Args& args) {
  Flags flags("spr journal compact",
              "Move history older than --before into an archive; keep snapshots so the journal still replays.");
  flags.addString("journal", "the journal directory (required)");
  flags.addString("before", "archive records older than this RFC 3339 time (required)");
  flags.addString("archive", "the archive file to write (required; replay with spr replay --bundle)");
  int rc = parse(flags, args);
  return rc >= 0 ? rc : compact(flags);
}

}  // namespace spr::cli
