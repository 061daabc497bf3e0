// auditWithArchives(): a tenant's history across `spr journal compact` archives and the
// live journal, with the chain checked across every cut (see audit.h).
#include <algorithm>

#include "replay/audit.h"
#include "replay/bundle.h"

namespace spr::replay {

using nlohmann::json;

namespace {

struct Part {
  std::string path;
  uint64_t firstSeq = 0, lastSeq = 0;
  std::string firstPrevHash, headHash;   // hex
  std::vector<journal::Record> records;  // the archived range only (no preload)
};

Result<Part> readArchive(const std::string& path) {
  auto b = readBundle(path);  // re-hashes every record and checks the links inside
  if (!b) return b.status();
  if (b->header.value("kind", "") != "archive")
    return Status(Code::kInvalidArgument, path + " is a " + b->header.value("kind", "?") +
                                              " bundle, not an archive written by 'spr journal compact'");
  Part p;
  p.path = path;
  p.firstSeq = b->header.value("firstSeq", uint64_t{0});
  p.lastSeq = b->header.value("lastSeq", uint64_t{0});
  p.firstPrevHash = b->header.value("firstPrevHash", "");
  p.headHash = b->header.value("headHash", "");
  for (auto& r : b->records)
    if (r.seq >= p.firstSeq && r.seq <= p.lastSeq) p.records.push_back(std::move(r));
  if (p.records.empty() || p.records.front().seq != p.firstSeq || p.records.back().seq != p.lastSeq)
    return Status(Code::kInvalidArgument, path + ": the archive's records do not cover its header's range " +
                                              std::to_string(p.firstSeq) + ".." + std::to_string(p.lastSeq));
  return p;
}

void breakChain(AuditChain* chain, uint64_t seq, const std::string& why) {
  if (!chain->ok) return;
  chain->ok = false;
  chain->firstBadSeq = seq;
  chain->reason = why;
}

}  // namespace

Result<AuditResult> auditWithArchives(const journal::Journal& j, const AuditQuery& q,
                                      const std::vector<std::string>& archivePaths) {
  std::vector<Part> parts;
  for (const auto& path : archivePaths) {
    auto p = readArchive(path);
    if (!p) return p.status();
    parts.push_back(std::move(*p));
  }
  // The live chain's first link: the first kept record's prevHash (the head when empty).
  std::string livePrev = j.chainHeadHex();
  auto first = j.readRange(j.firstSeq(), j.firstSeq(), 1);
  if (!first) return first.status();
  if (!first->empty()) livePrev = journal::toHex(first->front().prevHash);
  std::sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.firstSeq < b.firstSeq; });
  AuditResult out;
  std::vector<journal::Record> starts;
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    uint64_t nextFirst = last ? j.firstSeq() : parts[i + 1].firstSeq;
    std::string nextPrev = last ? livePrev : parts[i + 1].firstPrevHash;
    std::string next = last ? "the journal" : parts[i + 1].path;
    if (parts[i].lastSeq + 1 != nextFirst)
      breakChain(&out.chain, parts[i].lastSeq + 1,
                 parts[i].path + " ends at seq " + std::to_string(parts[i].lastSeq) + " but " + next +
                     " starts at seq " + std::to_string(nextFirst) + " (a missing or foreign archive)");
    else if (parts[i].headHash != nextPrev)
      breakChain(&out.chain, nextFirst,
                 "record " + std::to_string(nextFirst) + " of " + next + " does not link to the head of " +
                     parts[i].path + " (rewritten history)");
    for (const auto& r : parts[i].records) {
      if (std::holds_alternative<journal::ProcessStarted>(r.payload)) starts.push_back(r);
      if (r.tenant != q.tenant) continue;
      out.tenantKnown = true;
      json row;
      if (!auditRow(r, q, &row)) continue;
      ++out.chain.recordsChecked;  // re-hashed and linked by readArchive
      out.rows.push_back(std::move(row));
    }
  }
  auto live = audit(j, q);
  if (!live) return live.status();
  out.tenantKnown = out.tenantKnown || live->tenantKnown;
  out.chain.recordsChecked += live->chain.recordsChecked;
  if (!live->chain.ok) breakChain(&out.chain, live->chain.firstBadSeq, live->chain.reason);
  for (auto& row : live->rows) out.rows.push_back(std::move(row));
  SPR_RETURN_IF_ERROR(addProcessStarts(j, starts, q, &out));
  return out;
}

}  // namespace spr::replay
