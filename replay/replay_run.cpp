#include "replay/replay_run.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "replay/filters.h"
#include "replay/record_json.h"

namespace spr::replay {

namespace {

Status preloadJournalSnapshots(const journal::Journal& j, Replayer& replayer, const std::string& objectKey) {
  if (j.firstSeq() <= 1) return Status();
  auto range = j.meta(kMetaSnapshots);
  if (!range) return range.status();
  if (!*range) return Status();
  uint64_t first = 0, last = 0;
  if (std::sscanf((*range)->c_str(), "%" SCNu64 "-%" SCNu64, &first, &last) != 2)
    return Status(Code::kCorruption, std::string("meta ") + kMetaSnapshots + " is not FIRST-LAST");
  auto snaps = j.readRange(first, last, last - first + 1);
  if (!snaps) return snaps.status();
  for (const auto& r : *snaps) {
    if (!std::holds_alternative<journal::Snapshot>(r.payload)) continue;
    bool config = r.object.cluster == "platform";
    if (!objectKey.empty() && !config && r.object.key() != objectKey) continue;
    SPR_RETURN_IF_ERROR(replayer.preloadSnapshot(r));
  }
  return Status();
}

}  // namespace

Status replayJournal(const journal::Journal& j, Replayer& replayer, const ReplayOptions& options,
                     const Progress& progress) {
  SPR_RETURN_IF_ERROR(preloadJournalSnapshots(j, replayer, options.objectKey));
  replayer.setLookup([&j](uint64_t seq) -> std::optional<journal::Record> {
    auto r = j.readRange(seq, seq, 1);
    if (!r || r->empty() || r->front().seq != seq) return std::nullopt;
    return r->front();
  });
  const uint64_t nextSeqAtStart = j.nextSeq();
  uint64_t fed = 0;
  auto visit = [&](const journal::Record& r) {
    bool more = replayer.feed(r);
    if (progress && ++fed % 100000 == 0) progress(fed);
    return more;
  };
  if (options.objectKey.empty()) {
    SPR_RETURN_IF_ERROR(j.scan(j.firstSeq(), visit));
  } else {
    auto records = j.readObject(options.objectKey, journal::Order::kOldestFirst, SIZE_MAX);
    if (!records) return records.status();
    for (const auto& r : *records)
      if (!visit(r)) break;
  }
  if (replayer.divergence() || options.untilSeq != 0) return Status();
  replayer.finish();
  // The state table is only comparable if nothing was appended while we replayed.
  if (j.nextSeq() == nextSeqAtStart)
    replayer.checkStates([&j](const std::string& key) -> std::optional<std::string> {
      auto s = j.latestState(key);
      return s && *s ? **s : std::optional<std::string>();
    });
  return Status();
}

Status replayRecords(std::vector<journal::Record> records, Replayer& replayer, const ReplayOptions& options) {
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  uint64_t firstLive = UINT64_MAX;
  for (const auto& r : records)
    if (!std::holds_alternative<journal::Snapshot>(r.payload)) {
      firstLive = r.seq;
      break;
    }
  for (const auto& r : records) {
    const auto* s = std::get_if<journal::Snapshot>(&r.payload);
    if (s && s->throughSeq < firstLive && firstLive != UINT64_MAX) SPR_RETURN_IF_ERROR(replayer.preloadSnapshot(r));
  }
  for (const auto& r : records) {
    const auto* s = std::get_if<journal::Snapshot>(&r.payload);
    if (s && s->throughSeq < firstLive) continue;  // already restored
    if (!replayer.feed(r)) break;
  }
  if (!replayer.divergence() && options.untilSeq == 0) replayer.finish();
  return Status();
}

Result<std::string> resolveObject(const journal::Journal& j, const std::string& nsName) {
  auto slash = nsName.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == nsName.size() ||
      nsName.find('/', slash + 1) != std::string::npos)
    return Status(Code::kInvalidArgument,
                  "--object '" + nsName + "' must be NAMESPACE/NAME (e.g. tenant-a/my-crossplane)");
  const std::string suffix = "/" + nsName;
  auto matches = [&](const std::string& key) {
    return key.rfind("onboarding/", 0) == 0 && key.size() > suffix.size() &&
           key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  auto states = j.allStates();
  if (!states) return states.status();
  for (const auto& [key, blob] : *states)
    if (matches(key)) return key;
  std::string found;
  SPR_RETURN_IF_ERROR(j.scan(j.firstSeq(), [&](const journal::Record& r) {
    if (r.object.cluster == "onboarding" && matches(r.object.key())) found = r.object.key();
    return found.empty();
  }));
  if (!found.empty()) return found;
  std::vector<std::string> objects;
  for (const auto& [key, blob] : *states)
    if (key.rfind("onboarding/", 0) == 0) {
      auto cut = key.rfind('/', key.rfind('/') - 1);  // ".../<ns>/<name>"
      objects.push_back(key.substr(cut + 1));
    }
  return Status(Code::kNotFound,
                "--object " + nsName + " matches nothing in the journal (its objects: " + listSome(objects) + ")");
}

}  // namespace spr::replay
