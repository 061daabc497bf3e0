#include "replay/timeline.h"

#include <map>

#include "replay/inputs.h"
#include "replay/record_json.h"
#include "replay/rfc3339.h"

namespace spr::replay {

using nlohmann::json;
namespace lc = lifecycle;

namespace {

struct Detail {
  json& row;
  void operator()(const journal::Observed& o) const {
    row["record"] = "Observed";
    row["input"] = std::string(journal::watchTypeName(o.type)) + " " + o.cluster + " generation " +
                   std::to_string(o.generation) + (o.resourceVersion.empty() ? "" : " rv " + o.resourceVersion);
  }
  void operator()(const journal::TimerFired& t) const {
    row["record"] = "TimerFired";
    row["input"] = t.timer + " timer token " + std::to_string(t.token) + " due " + formatRfc3339(t.dueUnixNanos);
  }
  void operator()(const journal::EffectRequested& q) const {
    row["record"] = "EffectRequested";
    auto c = commandOf(q);
    row["command"] = c ? lc::describe(lc::AnyCommand(*c)) : q.command + " #" + std::to_string(q.effectId);
  }
  void operator()(const journal::EffectCompleted& c) const {
    row["record"] = "EffectCompleted";
    std::string s = c.command + " #" + std::to_string(c.effectId) + " " + journal::outcomeName(c.outcome);
    if (!c.errorClass.empty()) s += " (" + c.errorClass + ")";
    if (!c.message.empty()) s += ": " + c.message;
    if (!c.tape.empty()) s += " [" + std::to_string(c.tape.size()) + " cluster requests]";
    row["outcome"] = s;
  }
  void operator()(const journal::Transition& t) const {
    row["record"] = "Transition";
    row["transition"] = t.from + " -> " + t.to;
    row["cause"] = "seq " + std::to_string(t.inputSeq) + ": " + t.event;
  }
  void operator()(const journal::Snapshot& s) const {
    row["record"] = "Snapshot";
    row["snapshot"] = "state through seq " + std::to_string(s.throughSeq);
  }
  void operator()(const journal::ProcessStarted& s) const {
    row["record"] = "ProcessStarted";
    row["process"] = "spr run started: " + s.version + " (" + s.build + ") on " + s.hostname + " pid " +
                     std::to_string(s.pid) + ", flags digest " + s.flagsDigest.substr(0, 12);
  }
};

std::string detailText(const json& row) {
  for (const char* k : {"input", "command", "outcome", "snapshot", "process"})
    if (row.contains(k)) return row[k].get<std::string>();
  if (row.contains("transition")) {
    std::string s = row["transition"].get<std::string>() + "  because " + row["cause"].get<std::string>();
    if (row.contains("commands")) s += "  => " + row["commands"].get<std::string>();
    return s;
  }
  return "";
}

}  // namespace

std::vector<json> timelineRows(const std::vector<journal::Record>& records) {
  std::vector<json> rows;
  std::map<uint64_t, size_t> transitionRow;  // cause seq -> row of its Transition
  for (const auto& r : records) {
    if (isConfigRecord(r)) continue;  // context only
    json row = {{"seq", r.seq}, {"time", formatRfc3339(r.wallUnixNanos)}};
    std::visit(Detail{row}, r.payload);
    if (const auto* t = std::get_if<journal::Transition>(&r.payload)) transitionRow[t->inputSeq] = rows.size();
    if (const auto* q = std::get_if<journal::EffectRequested>(&r.payload)) {
      auto it = transitionRow.find(q->causeSeq);
      if (it != transitionRow.end()) {
        json& tr = rows[it->second];
        std::string c = tr.value("commands", "");
        tr["commands"] = c + (c.empty() ? "" : ", ") + q->command + " #" + std::to_string(q->effectId);
      }
    }
    rows.push_back(std::move(row));
  }
  for (auto& row : rows) row["detail"] = detailText(row);
  return rows;
}

std::string timelineTable(const std::vector<json>& rows) {
  std::string out = "SEQ      TIME                           RECORD           DETAIL\n";
  char buf[128];
  for (const auto& row : rows) {
    std::snprintf(buf, sizeof buf, "%-8llu %-30s %-16s ",
                  static_cast<unsigned long long>(row.value("seq", uint64_t{0})), row.value("time", "").c_str(),
                  row.value("record", "").c_str());
    out += buf + row.value("detail", "") + "\n";
  }
  return out;
}

json stateView(const ObjectReplay& o, uint64_t asOfSeq) {
  json pending = json::array();
  for (const auto& [id, c] : o.pending) pending.push_back(lc::describe(lc::AnyCommand(c)));
  json notJournaled = json::array();
  for (const auto& c : o.expected) notJournaled.push_back(lc::describe(lc::AnyCommand(c)));
  return {{"object", nsName(o.id)},
          {"objectKey", o.id.key()},
          {"tenant", o.tenant},
          {"asOfSeq", asOfSeq},
          {"lastRecordSeq", o.lastSeq},
          {"phase", lc::phaseName(o.state.phase)},
          {"state", json::parse(lc::toJson(o.state))},
          {"apiObject", o.object},
          {"pendingCommands", pending},
          {"producedNotJournaled", notJournaled}};
}

std::string stateViewText(const json& v) {
  std::string out = "object " + v.value("object", "") + " (tenant " + v.value("tenant", "") + ") as of seq " +
                    std::to_string(v.value("asOfSeq", uint64_t{0})) + " (its last record: seq " +
                    std::to_string(v.value("lastRecordSeq", uint64_t{0})) + ")\n";
  out += "phase: " + v.value("phase", "") + "\n";
  out += "folded state:\n" + v["state"].dump(2) + "\n";
  out += "last API object:\n" + v["apiObject"].dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  out += "pending commands (requested, not completed):";
  if (v["pendingCommands"].empty()) out += " none";
  out += "\n";
  for (const auto& c : v["pendingCommands"]) out += "  " + c.get<std::string>() + "\n";
  return out;
}

}  // namespace spr::replay
