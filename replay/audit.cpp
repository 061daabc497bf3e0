#include "replay/audit.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "core/journal/codec.h"
#include "replay/inputs.h"
#include "replay/record_json.h"
#include "replay/rfc3339.h"

namespace spr::replay {

using nlohmann::json;

namespace {

// Who last wrote the object, per its managedFields (latest entry by time).
void addManager(const json& object, json* row) {
  const json meta = object.is_object() ? object.value("metadata", json::object()) : json::object();
  if (!meta.contains("managedFields") || !meta["managedFields"].is_array()) return;
  std::string bestTime;
  for (const auto& f : meta["managedFields"]) {
    if (!f.is_object()) continue;
    std::string time = f.value("time", "");
    if (!(*row).contains("manager") || time >= bestTime) {
      bestTime = time;
      (*row)["manager"] = f.value("manager", "");
      (*row)["managerOperation"] = f.value("operation", "");
    }
  }
}

struct RowOf {
  json& row;
  bool operator()(const journal::Observed& o) const {
    row["kind"] = "observed";
    row["event"] = journal::watchTypeName(o.type);
    row["generation"] = o.generation;
    row["resourceVersion"] = o.resourceVersion;
    json object = json::parse(o.objectJson, nullptr, false);
    if (!object.is_discarded()) addManager(object, &row);
    return true;
  }
  bool operator()(const journal::TimerFired& t) const {
    row["kind"] = "timer";
    row["timer"] = t.timer;
    row["token"] = t.token;
    return true;
  }
  bool operator()(const journal::EffectRequested& q) const {
    if (q.command != "WriteStatus") return false;  // the transition row lists what ran
    auto c = commandOf(q);
    if (!c) return false;
    row["kind"] = "condition";
    row["effectId"] = q.effectId;
    row["phase"] = c->status.phase;
    row["ready"] = c->status.ready;
    row["reason"] = c->status.reason;
    row["message"] = c->status.message;
    row["observedGeneration"] = c->status.observedGeneration;
    return true;
  }
  bool operator()(const journal::EffectCompleted& c) const {
    row["kind"] = "effect";
    row["effectId"] = c.effectId;
    row["command"] = c.command;
    row["outcome"] = journal::outcomeName(c.outcome);
    row["errorClass"] = c.errorClass;
    row["message"] = c.message;
    row["clusterRequests"] = c.tape.size();
    return true;
  }
  bool operator()(const journal::Transition& t) const {
    row["kind"] = "transition";
    row["from"] = t.from;
    row["to"] = t.to;
    row["cause"] = t.event;
    row["inputSeq"] = t.inputSeq;
    return true;
  }
  bool operator()(const journal::Snapshot& s) const {
    row["kind"] = "snapshot";
    row["throughSeq"] = s.throughSeq;
    return true;
  }
  bool operator()(const journal::ProcessStarted& s) const {
    row["kind"] = "start";
    row["version"] = s.version;
    row["build"] = s.build;
    row["hostname"] = s.hostname;
    row["pid"] = s.pid;
    row["flagsDigest"] = s.flagsDigest;
    return true;
  }
};

bool objectMatches(const journal::Record& r, const std::string& wanted) {
  if (wanted.empty()) return true;
  return wanted.find('/') == std::string::npos ? r.object.name == wanted : nsName(r.object) == wanted;
}

// Checks the record's own hash and its links to both neighbours in the log.
void verifyAround(const journal::Journal& j, const journal::Record& r, AuditChain* chain) {
  ++chain->recordsChecked;
  auto fail = [&](const std::string& why) {
    if (!chain->ok) return;
    chain->ok = false;
    chain->firstBadSeq = r.seq;
    chain->reason = "record " + std::to_string(r.seq) + ": " + why;
  };
  auto hash = journal::computeHash(r);
  if (!hash || *hash != r.hash) return fail("hash mismatch (content edited)");
  uint64_t from = r.seq > j.firstSeq() ? r.seq - 1 : r.seq;
  auto near = j.readRange(from, r.seq + 1, 3);
  if (!near) return fail("neighbours unreadable: " + near.status().message());
  bool sawSelf = false;
  for (const auto& n : *near) {
    if (n.seq + 1 == r.seq && n.hash != r.prevHash)
      return fail("prevHash does not match record " + std::to_string(n.seq));
    if (n.seq == r.seq) {
      sawSelf = true;
      if (n.hash != r.hash) return fail("the log and the tenant index disagree");
    }
    if (n.seq == r.seq + 1 && n.prevHash != r.hash)
      return fail("record " + std::to_string(n.seq) + " does not link to it (rewritten)");
  }
  if (!sawSelf) return fail("listed in the tenant index but missing from the log");
  if (r.seq + 1 == j.nextSeq() && journal::toHex(r.hash) != j.chainHeadHex()) fail("not the stored chain head");
}

// A status row shows what reached the cluster only if its WriteStatus completed
// Succeeded; otherwise it is marked requested but not confirmed (failed, cut off by a
// restart, or not completed yet).
void markConfirmed(std::vector<json>* rows) {
  std::map<std::pair<std::string, uint64_t>, std::string> outcomes;
  for (const auto& r : *rows)
    if (r.value("kind", "") == "effect" && r.value("command", "") == "WriteStatus")
      outcomes[{r.value("object", ""), r.value("effectId", uint64_t{0})}] = r.value("outcome", "");
  for (auto& r : *rows) {
    if (r.value("kind", "") != "condition") continue;
    auto it = outcomes.find({r.value("object", ""), r.value("effectId", uint64_t{0})});
    r["confirmed"] = it != outcomes.end() && it->second == "Succeeded";
    if (!r["confirmed"].get<bool>()) r["outcome"] = it == outcomes.end() ? "not completed" : it->second;
  }
}

}  // namespace

bool auditRow(const journal::Record& r, const AuditQuery& q, json* row) {
  if (!objectMatches(r, q.object) || r.wallUnixNanos < q.sinceUnixNanos || r.wallUnixNanos > q.untilUnixNanos)
    return false;
  *row = {{"seq", r.seq},
          {"time", formatRfc3339(r.wallUnixNanos)},
          {"tenant", r.tenant},
          {"object", nsName(r.object)},
          {"objectKind", r.object.kind},
          {"uid", r.object.uid}};
  return std::visit(RowOf{*row}, r.payload);
}

Result<AuditResult> audit(const journal::Journal& j, const AuditQuery& q) {
  AuditResult out;
  auto known = j.hasTenant(q.tenant);
  if (!known) return known.status();
  out.tenantKnown = *known;
  if (!out.tenantKnown) return out;
  auto records = j.readTenant(q.tenant, journal::Order::kOldestFirst, SIZE_MAX);
  if (!records) return records.status();
  for (const auto& r : *records) {
    if (r.tenant != q.tenant) {  // the index pointed at another tenant's record
      out.chain.ok = false;
      out.chain.firstBadSeq = r.seq;
      out.chain.reason = "record " + std::to_string(r.seq) + " is in the index of tenant " + q.tenant +
                         " but belongs to '" + r.tenant + "'";
      continue;
    }
    if (out.objects.empty() || out.objects.back() != nsName(r.object)) out.objects.push_back(nsName(r.object));
    if (out.firstUnixNanos == 0) out.firstUnixNanos = r.wallUnixNanos;
    out.lastUnixNanos = r.wallUnixNanos;
    json row;
    if (!auditRow(r, q, &row)) continue;
    verifyAround(j, r, &out.chain);
    out.rows.push_back(std::move(row));
  }
  std::sort(out.objects.begin(), out.objects.end());
  out.objects.erase(std::unique(out.objects.begin(), out.objects.end()), out.objects.end());
  SPR_RETURN_IF_ERROR(addProcessStarts(j, {}, q, &out));
  markConfirmed(&out.rows);
  return out;
}

Status addProcessStarts(const journal::Journal& j, const std::vector<journal::Record>& archived, const AuditQuery& q,
                        AuditResult* result) {
  if (result->rows.empty()) return Status();
  auto seqOf = [](const json& row) { return row.value("seq", uint64_t{0}); };
  const uint64_t first = seqOf(result->rows.front()), last = seqOf(result->rows.back());
  std::set<uint64_t> shown;
  for (const auto& row : result->rows) shown.insert(seqOf(row));
  auto live = j.readObject(journal::processObjectId().key(), journal::Order::kOldestFirst, SIZE_MAX);
  if (!live) return live.status();
  bool added = false;
  // The process that was running when the first row was written: the last start before it.
  uint64_t from = 0;
  const std::vector<journal::Record>& liveStarts = *live;
  for (const auto* list : {&archived, &liveStarts})
    for (const auto& r : *list)
      if (r.seq < first && std::holds_alternative<journal::ProcessStarted>(r.payload)) from = std::max(from, r.seq);
  auto add = [&](const journal::Record& r, bool inLog) {
    json row;
    if (r.seq < std::max<uint64_t>(from, 1) || (from == 0 && r.seq < first) || r.seq > last || shown.count(r.seq) ||
        !std::holds_alternative<journal::ProcessStarted>(r.payload))
      return;
    AuditQuery unfiltered = q;
    unfiltered.object.clear();
    if (!auditRow(r, unfiltered, &row)) return;
    if (inLog) verifyAround(j, r, &result->chain);
    result->rows.push_back(std::move(row));
    shown.insert(r.seq);
    added = true;
  };
  for (const auto& r : archived) add(r, false);
  for (const auto& r : *live) add(r, true);
  if (added)
    std::stable_sort(result->rows.begin(), result->rows.end(),
                     [&](const json& a, const json& b) { return seqOf(a) < seqOf(b); });
  return Status();
}

namespace {

std::string detailOf(const json& row) {
  const std::string kind = row.value("kind", "");
  if (kind == "observed") {
    std::string s = row.value("event", "") + " generation " + std::to_string(row.value("generation", int64_t{0}));
    if (row.contains("manager"))
      s += " by " + row.value("manager", "") + " (" + row.value("managerOperation", "") + ")";
    return s;
  }
  if (kind == "transition")
    return row.value("from", "") + " -> " + row.value("to", "") + "  cause: " + row.value("cause", "");
  if (kind == "effect") {
    std::string s = row.value("command", "") + " #" + std::to_string(row.value("effectId", uint64_t{0})) + " " +
                    row.value("outcome", "");
    if (!row.value("message", "").empty()) s += ": " + row.value("message", "");
    return s;
  }
  if (kind == "condition")
    return "status " + row.value("phase", "") + " ready=" + (row.value("ready", false) ? "true" : "false") +
           " reason=" + row.value("reason", "") + ": " + row.value("message", "") +
           (row.value("confirmed", true) ? "" : "  [requested, not confirmed: " + row.value("outcome", "") + "]");
  if (kind == "timer") return "timer " + row.value("timer", "") + " fired";
  if (kind == "start")
    return "spr run started: " + row.value("version", "") + " (" + row.value("build", "") + ") on " +
           row.value("hostname", "") + " pid " + std::to_string(row.value("pid", int64_t{0}));
  return kind;
}

}  // namespace

std::string auditTable(const AuditResult& result) {
  size_t objW = 6;
  for (const auto& r : result.rows) objW = std::max(objW, r.value("object", "").size());
  std::string out;
  char buf[800];
  std::snprintf(buf, sizeof buf, "%-8s %-30s %-*s %-10s %s\n", "SEQ", "TIME", static_cast<int>(objW), "OBJECT", "EVENT",
                "DETAIL");
  out += buf;
  for (const auto& r : result.rows) {
    std::snprintf(buf, sizeof buf, "%-8llu %-30s %-*s %-10s ",
                  static_cast<unsigned long long>(r.value("seq", uint64_t{0})), r.value("time", "").c_str(),
                  static_cast<int>(objW), r.value("object", "").c_str(), r.value("kind", "").c_str());
    out += buf + detailOf(r) + "\n";
  }
  return out;
}

}  // namespace spr::replay
