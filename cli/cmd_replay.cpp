// `spr replay`: feed a journal (or a repro bundle / archive) through this build's fold,
// with no cluster, and report the first divergence; or travel in time over one object
// (--show-state, --timeline). Exit codes: 0 no divergence, 1 divergence, 2 bad input.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "cli/commands.h"
#include "common/flags.h"
#include "core/journal/journal.h"
#include "replay/bundle.h"
#include "replay/filters.h"
#include "replay/record_json.h"
#include "replay/replay_run.h"
#include "replay/tape_checker.h"
#include "replay/timeline.h"

namespace spr::cli {
namespace {

using nlohmann::json;
using replay::Replayer;
using replay::ReplayOptions;

std::string oneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "spr replay: %s\n", oneLine(message).c_str());
  return 2;
}

json divergenceJson(const replay::Divergence& d) {
  return {{"object", d.object}, {"objectKey", d.objectKey}, {"seq", d.seq},
          {"what", d.what},     {"field", d.field},         {"expected", d.expected},
          {"got", d.got},       {"note", d.note},           {"recordsBefore", d.before}};
}

// What replay did with the effects' tapes: re-ran them, or why not.
struct TapeReport {
  bool enabled = false;
  std::string why;  // when not enabled
};

int report(const Replayer& r, double seconds, bool asJson, const TapeReport& tapes) {
  const auto& d = r.divergence();
  if (asJson) {
    json out = {{"records", r.records()},
                {"folds", r.folds()},
                {"objects", r.objects().size()},
                {"seconds", seconds},
                {"effectsRerun", r.effectsChecked()},
                {"tapeRequests", r.tapeRequests()},
                {"tapes", tapes.enabled ? "re-run" : tapes.why},
                {"divergence", d ? divergenceJson(*d) : json()}};
    std::printf("%s\n", replay::dumpLine(out).c_str());
    return d ? 1 : 0;
  }
  std::printf("replayed %llu records (%llu folds) of %zu objects in %.3f s: %s\n",
              static_cast<unsigned long long>(r.records()), static_cast<unsigned long long>(r.folds()),
              r.objects().size(), seconds, d ? "DIVERGENCE" : "no divergence");
  if (tapes.enabled)
    std::printf("%llu effects re-run against their tapes (%llu recorded cluster requests matched)\n",
                static_cast<unsigned long long>(r.effectsChecked()), static_cast<unsigned long long>(r.tapeRequests()));
  else
    std::printf("effects not re-run against their tapes: %s\n", tapes.why.c_str());
  if (!d) return 0;
  std::printf("first divergence: object %s, record seq %llu (%s), field %s\n", d->object.c_str(),
              static_cast<unsigned long long>(d->seq), d->what.c_str(), d->field.c_str());
  std::printf("  expected (journal): %s\n  got (this build):   %s\n", oneLine(d->expected).c_str(),
              oneLine(d->got).c_str());
  if (!d->note.empty()) std::printf("  note: %s\n", oneLine(d->note).c_str());
  std::printf("  records before it:\n");
  for (const auto& b : d->before) std::printf("    %s\n", oneLine(b).c_str());
  return 1;
}

void defineFlags(Flags& flags) {
  flags.addString("journal", "the journal directory");
  flags.addString("bundle", "a repro bundle or archive file (instead of --journal)");
  flags.addString("object", "replay only this object, NAMESPACE/NAME");
  flags.addString("tenant", "replay only this tenant's objects");
  flags.addInt("until", "stop after this record sequence (0 = the end)", 0);
  flags.addBool("show-state", "with --object: print its folded state, API object and pending commands");
  flags.addBool("timeline", "with --object: print every record of the object");
  flags.addBool("json", "machine-readable output");
  flags.addBool("no-tapes", "check folds and commands only; do not re-run provider operations against their tapes");
  flags.addString("provider-name", "the live --provider-name (default: the ProviderConfig's name in the journal)");
  flags.addBool("progress", "print progress to stderr (default: when stderr is a terminal)");
}

// `starts`: the journal's ProcessStarted records; those within the object's span (and the
// last one before it: the process that wrote its first record) join its timeline.
int timeline(const std::vector<journal::Record>& records, const std::string& key, bool asJson,
             const std::vector<journal::Record>& starts = {}) {
  std::vector<journal::Record> mine;
  for (const auto& r : records)
    if (r.object.key() == key) mine.push_back(r);
  if (!mine.empty()) {
    uint64_t first = mine.front().seq, last = mine.back().seq, from = 0;
    for (const auto& s : starts)
      if (s.seq < first) from = s.seq;
    for (const auto& s : starts)
      if (s.seq >= std::max<uint64_t>(from, 1) && (from != 0 || s.seq > first) && s.seq <= last) mine.push_back(s);
    std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  }
  auto rows = replay::timelineRows(mine);
  if (asJson) {
    std::printf("%s\n", replay::dumpLine(json(rows)).c_str());
  } else {
    std::printf("%s", replay::timelineTable(rows).c_str());
  }
  return 0;
}

int showState(const Replayer& r, const std::string& key, uint64_t until, bool asJson) {
  auto it = r.objects().find(key);
  if (it == r.objects().end()) return fail("object " + key + " has no records up to seq " + std::to_string(until));
  json view = replay::stateView(it->second, until != 0 ? until : it->second.lastSeq);
  if (asJson) {
    std::printf("%s\n", replay::dumpLine(view).c_str());
  } else {
    std::printf("%s", replay::stateViewText(view).c_str());
  }
  if (r.divergence())
    std::fprintf(stderr, "warning: replay diverged at seq %llu; the state shown is this build's\n",
                 static_cast<unsigned long long>(r.divergence()->seq));
  return 0;
}

// The first API object (onboarding cluster) among the records, to pick the provider.
std::optional<journal::ObjectId> firstApiObject(const journal::Journal* j,
                                                const std::vector<journal::Record>& records) {
  std::optional<journal::ObjectId> found;
  auto visit = [&](const journal::Record& r) {
    if (r.object.cluster == "onboarding" && !r.object.kind.empty()) found = r.object;
    return !found;
  };
  if (j) {
    Status s = j->scan(j->firstSeq(), visit);
    (void)s;  // a read error shows up again in the replay itself
  } else {
    for (const auto& r : records)
      if (!visit(r)) break;
  }
  return found;
}

// Sets up the tape-backed checker when this build has it and a provider serves the kind.
TapeReport setUpTapes(const Flags& flags, const journal::Journal* j, const std::vector<journal::Record>& records,
                      std::unique_ptr<replay::EffectChecker>* checker) {
  TapeReport t;
  if (flags.getBool("no-tapes")) {
    t.why = "--no-tapes";
    return t;
  }
  auto id = firstApiObject(j, records);
  if (!id) {
    t.why = "no API object in the input";
    return t;
  }
  auto provider = replay::providerServing(*id);
  if (!provider) {
    t.why = provider.status().message();
    return t;
  }
  *checker = std::make_unique<replay::TapeEffectChecker>(std::move(*provider), flags.getString("provider-name"));
  t.enabled = true;
  return t;
}

// --object NS/NAME -> its object key, in the journal or among the bundle's records.
Status selectObject(const std::string& nsName, const journal::Journal* j, const std::vector<journal::Record>& records,
                    const std::string& source, std::string* key) {
  if (nsName.find('/') == std::string::npos)
    return Status(Code::kInvalidArgument,
                  "--object '" + nsName + "' must be NAMESPACE/NAME (e.g. tenant-a/my-crossplane)");
  if (j) {
    auto found = replay::resolveObject(*j, nsName);
    if (!found) return found.status();
    *key = *found;
    return Status();
  }
  std::set<std::string> objects;
  for (const auto& r : records) {
    if (r.object.cluster == "platform" || r.object.name.empty()) continue;
    if (replay::nsName(r.object) == nsName) *key = r.object.key();
    objects.insert(replay::nsName(r.object));
  }
  if (!key->empty()) return Status();
  return Status(Code::kNotFound, "--object " + nsName + " matches nothing in " + source +
                                     " (its objects: " + replay::listSome({objects.begin(), objects.end()}) + ")");
}

// The filters given, for "matches nothing" errors: "--tenant a --object b/x --until 5".
std::string filtersText(const Flags& flags) {
  std::string out;
  if (flags.given("tenant")) out += " --tenant " + flags.getString("tenant");
  if (!flags.getString("object").empty()) out += " --object " + flags.getString("object");
  if (flags.getInt("until") != 0) out += " --until " + std::to_string(flags.getInt("until"));
  return out.empty() ? "(no filter: the input has no records)" : out.substr(1);
}

// What is replayed: a journal, or the records of a bundle.
struct Source {
  std::unique_ptr<journal::Journal> journal;
  std::vector<journal::Record> records;  // the bundle's
  std::string name;                      // "journal DIR" / "bundle FILE", for messages
};

Status openSource(const Flags& flags, Source* src) {
  const std::string dir = flags.getString("journal"), bundlePath = flags.getString("bundle");
  if (dir.empty() == bundlePath.empty())
    return Status(Code::kInvalidArgument, "give exactly one of --journal DIR or --bundle FILE");
  if (!dir.empty()) {
    auto opened = journal::Journal::openForReading(dir);
    if (!opened) return opened.status();
    src->journal = std::move(*opened);
    src->name = "journal " + dir;
    return Status();
  }
  auto b = replay::readBundle(bundlePath);
  if (!b) return b.status();
  src->records = std::move(b->records);
  src->name = "bundle " + bundlePath;
  return Status();
}

// --tenant and --object must match what the source holds; a bundle keeps only the tenant's records.
Status applyFilters(const Flags& flags, Source* src, ReplayOptions* options) {
  const std::string tenant = flags.getString("tenant"), object = flags.getString("object");
  const journal::Journal* j = src->journal.get();
  if (flags.given("tenant")) {
    if (tenant.empty()) return Status(Code::kInvalidArgument, "--tenant needs a tenant name");
    SPR_RETURN_IF_ERROR(j ? replay::requireTenant(*j, tenant, src->name)
                          : replay::requireTenant(src->records, tenant, src->name));
    if (!j) src->records = replay::recordsOfTenant(std::move(src->records), tenant);
  }
  if (object.empty()) return Status();
  SPR_RETURN_IF_ERROR(selectObject(object, j, src->records, src->name, &options->objectKey));
  if (!flags.given("tenant")) return Status();
  return j ? replay::requireObjectOfTenant(*j, options->objectKey, object, tenant)
           : replay::requireObjectOfTenant(src->records, object, tenant);
}

Status replaySource(const Flags& flags, Source* src, Replayer& replayer, const ReplayOptions& options,
                    const std::function<double()>& seconds) {
  if (src->journal && flags.given("tenant")) {
    auto b = replay::exportTenant(*src->journal, flags.getString("tenant"));
    if (!b) return b.status();
    return replay::replayRecords(std::move(b->records), replayer, options);
  }
  if (!src->journal) return replay::replayRecords(std::move(src->records), replayer, options);
  bool progress = flags.getBool("progress") || ::isatty(2);
  return replay::replayJournal(*src->journal, replayer, options, [&](uint64_t n) {
    if (progress)
      std::fprintf(stderr, "replayed %llu records (%.1f s)\n", static_cast<unsigned long long>(n), seconds());
  });
}

int run(const Flags& flags) {
  if (flags.getInt("until") < 0) return fail("--until must be a record sequence >= 0");
  ReplayOptions options;
  options.untilSeq = static_cast<uint64_t>(flags.getInt("until"));
  const bool asJson = flags.getBool("json");
  const bool wantsObject = flags.getBool("show-state") || flags.getBool("timeline");
  if (wantsObject && flags.getString("object").empty())
    return fail("--show-state and --timeline need --object NS/NAME");
  auto t0 = std::chrono::steady_clock::now();
  std::function<double()> seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  Source src;
  Status s = openSource(flags, &src);
  if (s.isOk()) s = applyFilters(flags, &src, &options);
  if (!s.isOk()) return fail(s.message());
  if (flags.getBool("timeline")) {
    if (!src.journal) return timeline(src.records, options.objectKey, asJson);
    auto bundle = replay::exportObject(*src.journal, options.objectKey);
    if (!bundle) return fail(bundle.status().message());
    auto starts = src.journal->readObject(journal::processObjectId().key(), journal::Order::kOldestFirst, SIZE_MAX);
    if (!starts) return fail(starts.status().message());
    return timeline(bundle->records, options.objectKey, asJson, *starts);
  }
  std::unique_ptr<replay::EffectChecker> checker;
  TapeReport tapes = setUpTapes(flags, src.journal.get(), src.records, &checker);
  options.effects = checker.get();
  Replayer replayer(options);
  s = replaySource(flags, &src, replayer, options, seconds);
  if (!s.isOk()) return fail(s.message());
  if (replayer.records() == 0)  // a check that checked nothing must not say it passed
    return fail("nothing to replay: no record of " + src.name + " matches " + filtersText(flags));
  if (flags.getBool("show-state")) return showState(replayer, options.objectKey, options.untilSeq, asJson);
  return report(replayer, seconds(), asJson, tapes);
}

}  // namespace

int cmdReplay(const Args& args) {
  Flags flags("spr replay",
              "Replay a journal through this build's fold, with no cluster; report the first divergence.");
  defineFlags(flags);
  if (auto done = parseCommandLine(flags, args)) return *done;
  try {
    return run(flags);
  } catch (const std::exception& e) {  // the edge: a library exception never escapes as a crash
    return fail(std::string("internal error: ") + e.what());
  }
}

}  // namespace spr::cli
