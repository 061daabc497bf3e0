#include "replay/record_json.h"

namespace spr::replay {

using nlohmann::json;
namespace jr = journal;

namespace {

std::string fromHex(const std::string& hex, bool* ok) {
  std::string out;
  *ok = hex.size() % 2 == 0;
  auto val = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    *ok = false;
    return 0;
  };
  for (size_t i = 0; *ok && i + 1 < hex.size(); i += 2) out += static_cast<char>(val(hex[i]) * 16 + val(hex[i + 1]));
  return out;
}

struct PayloadJson {
  json operator()(const jr::Observed& o) const {
    return {{"cluster", o.cluster},
            {"type", jr::watchTypeName(o.type)},
            {"objectJson", o.objectJson},
            {"resourceVersion", o.resourceVersion},
            {"generation", o.generation}};
  }
  json operator()(const jr::TimerFired& t) const {
    return {{"timer", t.timer}, {"token", t.token}, {"dueUnixNanos", t.dueUnixNanos}};
  }
  json operator()(const jr::EffectRequested& e) const {
    return {{"effectId", e.effectId}, {"command", e.command}, {"inputJson", e.inputJson}, {"causeSeq", e.causeSeq}};
  }
  json operator()(const jr::EffectCompleted& e) const {
    json tape = json::array();
    for (const auto& t : e.tape)
      tape.push_back({{"cluster", t.cluster},
                      {"method", t.method},
                      {"path", t.path},
                      {"requestBody", t.requestBody},
                      {"status", t.status},
                      {"responseBody", t.responseBody},
                      {"error", t.error}});
    json out = {{"effectId", e.effectId},
                {"command", e.command},
                {"outcome", jr::outcomeName(e.outcome)},
                {"errorClass", e.errorClass},
                {"message", e.message},
                {"resultJson", e.resultJson},
                {"tape", tape}};
    if (!e.reason.empty()) out["reason"] = e.reason;  // typed field, absent in older records
    return out;
  }
  json operator()(const jr::Transition& t) const {
    json out = {{"from", t.from}, {"to", t.to}, {"event", t.event}, {"inputSeq", t.inputSeq}};
    if (t.rejected) out["rejected"] = true;  // typed field, absent in older records
    return out;
  }
  json operator()(const jr::Snapshot& s) const { return {{"stateJson", s.stateJson}, {"throughSeq", s.throughSeq}}; }
  json operator()(const jr::ProcessStarted& s) const {
    return {{"version", s.version},     {"build", s.build},       {"flagsDigest", s.flagsDigest},
            {"flagNames", s.flagNames}, {"hostname", s.hostname}, {"pid", s.pid}};
  }
};

// Reads a typed field; `err` collects the first problem.
template <typename T>
T field(const json& j, const char* name, std::string* err) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (err->empty()) *err = std::string("missing field '") + name + "'";
    return T{};
  }
  try {
    return it->get<T>();
  } catch (const std::exception&) {
    if (err->empty()) *err = std::string("field '") + name + "' has the wrong type";
    return T{};
  }
}

jr::WatchType watchTypeOf(const std::string& s, std::string* err) {
  for (auto t : {jr::WatchType::kAdded, jr::WatchType::kModified, jr::WatchType::kDeleted, jr::WatchType::kBookmark})
    if (s == jr::watchTypeName(t)) return t;
  if (err->empty()) *err = "unknown watch type '" + s + "'";
  return jr::WatchType::kAdded;
}

jr::Outcome outcomeOf(const std::string& s, std::string* err) {
  for (auto o : {jr::Outcome::kSucceeded, jr::Outcome::kTransientError, jr::Outcome::kUserError, jr::Outcome::kUnknown})
    if (s == jr::outcomeName(o)) return o;
  if (err->empty()) *err = "unknown outcome '" + s + "'";
  return jr::Outcome::kUnknown;
}

jr::Payload payloadOf(const std::string& kind, const json& p, std::string* err) {
  if (kind == "Observed")
    return jr::Observed{field<std::string>(p, "cluster", err), watchTypeOf(field<std::string>(p, "type", err), err),
                        field<std::string>(p, "objectJson", err), field<std::string>(p, "resourceVersion", err),
                        field<int64_t>(p, "generation", err)};
  if (kind == "TimerFired")
    return jr::TimerFired{field<std::string>(p, "timer", err), field<uint64_t>(p, "token", err),
                          field<int64_t>(p, "dueUnixNanos", err)};
  if (kind == "EffectRequested")
    return jr::EffectRequested{field<uint64_t>(p, "effectId", err), field<std::string>(p, "command", err),
                               field<std::string>(p, "inputJson", err), field<uint64_t>(p, "causeSeq", err)};
  if (kind == "EffectCompleted") {
    jr::EffectCompleted e{field<uint64_t>(p, "effectId", err),
                          field<std::string>(p, "command", err),
                          outcomeOf(field<std::string>(p, "outcome", err), err),
                          field<std::string>(p, "errorClass", err),
                          field<std::string>(p, "message", err),
                          field<std::string>(p, "resultJson", err),
                          {},
                          ""};
    for (const auto& t : field<json>(p, "tape", err))
      e.tape.push_back(jr::TapeEntry{field<std::string>(t, "cluster", err), field<std::string>(t, "method", err),
                                     field<std::string>(t, "path", err), field<std::string>(t, "requestBody", err),
                                     field<int32_t>(t, "status", err), field<std::string>(t, "responseBody", err),
                                     field<std::string>(t, "error", err)});
    if (p.contains("reason")) e.reason = field<std::string>(p, "reason", err);
    return e;
  }
  if (kind == "Transition") {
    jr::Transition t{field<std::string>(p, "from", err), field<std::string>(p, "to", err),
                     field<std::string>(p, "event", err), field<uint64_t>(p, "inputSeq", err)};
    if (p.contains("rejected")) t.rejected = field<bool>(p, "rejected", err);
    return t;
  }
  if (kind == "Snapshot")
    return jr::Snapshot{field<std::string>(p, "stateJson", err), field<uint64_t>(p, "throughSeq", err)};
  if (kind == "ProcessStarted")
    return jr::ProcessStarted{field<std::string>(p, "version", err),     field<std::string>(p, "build", err),
                              field<std::string>(p, "flagsDigest", err), field<std::string>(p, "flagNames", err),
                              field<std::string>(p, "hostname", err),    field<int64_t>(p, "pid", err)};
  if (err->empty()) *err = "unknown payload kind '" + kind + "'";
  return jr::Observed{};
}

}  // namespace

json recordToJson(const jr::Record& r) {
  const jr::ObjectId& o = r.object;
  return {{"seq", r.seq},
          {"schemaVersion", r.schemaVersion},
          {"wallUnixNanos", r.wallUnixNanos},
          {"object",
           {{"cluster", o.cluster},
            {"group", o.group},
            {"version", o.version},
            {"kind", o.kind},
            {"namespace", o.ns},
            {"name", o.name},
            {"uid", o.uid}}},
          {"tenant", r.tenant},
          {"prevHash", jr::toHex(r.prevHash)},
          {"hash", jr::toHex(r.hash)},
          {"kind", jr::payloadKind(r.payload)},
          {"payload", std::visit(PayloadJson{}, r.payload)}};
}

Result<jr::Record> recordFromJson(const json& j) {
  if (!j.is_object()) return Status(Code::kInvalidArgument, "a record must be a JSON object");
  std::string err;
  jr::Record r;
  r.seq = field<uint64_t>(j, "seq", &err);
  r.schemaVersion = field<uint32_t>(j, "schemaVersion", &err);
  r.wallUnixNanos = field<int64_t>(j, "wallUnixNanos", &err);
  json o = field<json>(j, "object", &err);
  if (err.empty() && !o.is_object()) err = "field 'object' must be an object";
  if (err.empty())
    r.object = jr::ObjectId{field<std::string>(o, "cluster", &err),   field<std::string>(o, "group", &err),
                            field<std::string>(o, "version", &err),   field<std::string>(o, "kind", &err),
                            field<std::string>(o, "namespace", &err), field<std::string>(o, "name", &err),
                            field<std::string>(o, "uid", &err)};
  r.tenant = field<std::string>(j, "tenant", &err);
  bool ok1 = true, ok2 = true;
  r.prevHash = fromHex(field<std::string>(j, "prevHash", &err), &ok1);
  r.hash = fromHex(field<std::string>(j, "hash", &err), &ok2);
  if (err.empty() && !(ok1 && ok2)) err = "prevHash/hash must be hex";
  json p = field<json>(j, "payload", &err);
  if (err.empty() && !p.is_object()) err = "field 'payload' must be an object";
  if (err.empty()) r.payload = payloadOf(field<std::string>(j, "kind", &err), p, &err);
  if (!err.empty()) return Status(Code::kInvalidArgument, err);
  return r;
}

namespace {

struct Summary {
  std::string operator()(const jr::Observed& o) const {
    return std::string("Observed ") + jr::watchTypeName(o.type) + " " + o.cluster +
           " gen=" + std::to_string(o.generation) + (o.resourceVersion.empty() ? "" : " rv=" + o.resourceVersion);
  }
  std::string operator()(const jr::TimerFired& t) const {
    return "TimerFired " + t.timer + " token=" + std::to_string(t.token);
  }
  std::string operator()(const jr::EffectRequested& e) const {
    return "EffectRequested #" + std::to_string(e.effectId) + " " + e.command + " (cause seq " +
           std::to_string(e.causeSeq) + ")";
  }
  std::string operator()(const jr::EffectCompleted& e) const {
    std::string s =
        "EffectCompleted #" + std::to_string(e.effectId) + " " + e.command + " " + jr::outcomeName(e.outcome);
    if (!e.errorClass.empty()) s += " " + e.errorClass;
    if (!e.message.empty()) s += ": " + e.message;
    if (!e.tape.empty()) s += " [" + std::to_string(e.tape.size()) + " cluster requests]";
    return s;
  }
  std::string operator()(const jr::Transition& t) const {
    return "Transition " + t.from + " -> " + t.to + " (input seq " + std::to_string(t.inputSeq) + "): " + t.event;
  }
  std::string operator()(const jr::Snapshot& s) const { return "Snapshot through seq " + std::to_string(s.throughSeq); }
  std::string operator()(const jr::ProcessStarted& s) const {
    return "ProcessStarted spr " + s.version + " (" + s.build + ") on " + s.hostname + " pid " + std::to_string(s.pid) +
           ", flags " + (s.flagNames.empty() ? "none" : s.flagNames) + " digest " + s.flagsDigest.substr(0, 12);
  }
};

}  // namespace

std::string summarize(const jr::Record& record) { return std::visit(Summary{}, record.payload); }

std::string nsName(const jr::ObjectId& id) { return id.ns + "/" + id.name; }

std::string dumpLine(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace spr::replay
