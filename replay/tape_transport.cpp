#include "replay/tape_transport.h"

#include <set>

#include "adapters/k8s/encoding.h"
#include "adapters/k8s/redact.h"
#include "replay/rfc3339.h"
#include "runtime/status.h"

namespace spr::replay {

using nlohmann::json;

namespace {

constexpr size_t kBodyShown = 3000;

// The fields the runtime fills from its clock (runtime/status.cpp, effects.cpp postEvent).
const std::set<std::string>& clockFields() {
  static const std::set<std::string> fields = {"lastTransitionTime", "firstTimestamp", "lastTimestamp"};
  return fields;
}

bool clockStampMatches(const json& recorded, const json& produced, const ClockWindow& w) {
  if (!recorded.is_string() || !produced.is_string()) return false;
  if (produced.get<std::string>() != runtime::rfc3339(w.nowNanos)) return false;
  auto at = parseRfc3339(recorded.get<std::string>());
  if (!at) return false;
  const int64_t from = w.fromNanos / 1000000000 * 1000000000;  // the stamp has second resolution
  return *at >= from && *at <= w.toNanos;
}

std::string pointerEscape(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

std::optional<JsonDifference> diffAt(const json& r, const json& p, const std::string& path, const std::string& key,
                                     const ClockWindow& w) {
  if (r == p) return std::nullopt;
  if (clockFields().count(key) && clockStampMatches(r, p, w)) return std::nullopt;
  if (r.is_object() && p.is_object()) {
    for (const auto& [k, v] : r.items()) {
      if (!p.contains(k)) return JsonDifference{path + "/" + pointerEscape(k), v.dump(), "(absent)"};
      if (auto d = diffAt(v, p[k], path + "/" + pointerEscape(k), k, w)) return d;
    }
    for (const auto& [k, v] : p.items())
      if (!r.contains(k)) return JsonDifference{path + "/" + pointerEscape(k), "(absent)", v.dump()};
    return std::nullopt;
  }
  if (r.is_array() && p.is_array()) {
    for (size_t i = 0; i < r.size() && i < p.size(); ++i)
      if (auto d = diffAt(r[i], p[i], path + "/" + std::to_string(i), "", w)) return d;
    if (r.size() == p.size()) return std::nullopt;
    return JsonDifference{path, std::to_string(r.size()) + " items", std::to_string(p.size()) + " items"};
  }
  return JsonDifference{path.empty() ? "/" : path, r.dump(), p.dump()};
}

std::string shown(const std::string& body) {
  if (body.empty()) return "(no body)";
  if (body.size() <= kBodyShown) return body;
  return body.substr(0, kBodyShown) + "... (" + std::to_string(body.size()) + " bytes)";
}

Status statusFromTapeError(const std::string& error) {
  for (int c = static_cast<int>(Code::kInvalidArgument); c <= static_cast<int>(Code::kInternal); ++c) {
    const std::string prefix = std::string(codeName(static_cast<Code>(c))) + ": ";
    if (error.rfind(prefix, 0) == 0) return Status(static_cast<Code>(c), error.substr(prefix.size()));
  }
  return Status(Code::kUnavailable, error);
}

std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3f]);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

// Stands in for the redacted kubeconfig: it only has to parse; no connection is made.
const char* kPlaceholderKubeconfig =
    "apiVersion: v1\nkind: Config\ncurrent-context: replay\n"
    "clusters:\n- name: replay\n  cluster:\n    server: https://replay.invalid\n"
    "users:\n- name: replay\n  user:\n    token: replay-placeholder\n"
    "contexts:\n- name: replay\n  context:\n    cluster: replay\n    user: replay\n";
const char* kPlaceholderMarker = "# spr replay placeholder for ";

}  // namespace

std::optional<JsonDifference> firstJsonDifference(const json& recorded, const json& produced,
                                                  const ClockWindow& window) {
  return diffAt(recorded, produced, "", "", window);
}

std::string replayResponseBody(const std::string& cluster, const journal::TapeEntry& entry) {
  if (cluster != "platform" || entry.method != "GET" || entry.path.find("/secrets/") == std::string::npos)
    return entry.responseBody;
  json secret = json::parse(entry.responseBody, nullptr, false);
  if (!secret.is_object() || !secret.contains("data") || !secret["data"].is_object()) return entry.responseBody;
  json& data = secret["data"];
  if (!data.contains("kubeconfig") || !data["kubeconfig"].is_string() ||
      data["kubeconfig"].get<std::string>().rfind("<redacted", 0) != 0)
    return entry.responseBody;
  // The first line names the recorded value, so a copy of this Secret's data (a provider
  // handing the kubeconfig on, e.g. to Flux) can be compared with what was recorded.
  data["kubeconfig"] =
      base64(kPlaceholderMarker + data["kubeconfig"].get<std::string>() + "\n" + kPlaceholderKubeconfig);
  return secret.dump();
}

namespace {

std::string restoreRedactedCopies(const std::string& body) {
  if (body.find("data") == std::string::npos) return body;
  json object = json::parse(body, nullptr, false);
  if (!object.is_object() || !object.contains("data") || !object["data"].is_object()) return body;
  bool changed = false;
  for (auto& [key, value] : object["data"].items()) {
    if (!value.is_string()) continue;
    auto decoded = k8s::base64Decode(value.get<std::string>());
    if (!decoded || decoded->rfind(kPlaceholderMarker, 0) != 0) continue;
    size_t start = std::string(kPlaceholderMarker).size();
    value = decoded->substr(start, decoded->find('\n') - start);
    changed = true;
  }
  return changed ? object.dump() : body;
}

}  // namespace

TapeSession::TapeSession(const journal::EffectCompleted& recorded, uint64_t recordSeq, ClockWindow window)
    : recorded_(recorded), seq_(recordSeq), window_(window) {}

std::string TapeSession::describe(size_t index, const journal::TapeEntry& e) const {
  return "request " + std::to_string(index + 1) + " of " + std::to_string(recorded_.tape.size()) + ": " + e.cluster +
         " " + e.method + " " + e.path + " body " + shown(e.requestBody);
}

Result<k8s::HttpResponse> TapeSession::answer(const std::string& cluster, const k8s::HttpRequest& request) {
  const size_t index = next_++;
  if (mismatch_) return Status(Code::kUnavailable, "replay: an earlier request already diverged from the tape");
  journal::TapeEntry produced;
  produced.cluster = cluster;
  produced.method = request.method;
  produced.path = request.path;
  produced.requestBody = k8s::redactText(restoreRedactedCopies(request.body));
  const std::string head = "EffectCompleted seq " + std::to_string(seq_) + " (" + recorded_.command + " #" +
                           std::to_string(recorded_.effectId) + "), ";
  if (index >= recorded_.tape.size()) {
    mismatch_ =
        EffectMismatch{"cluster request", head + "the tape has " + std::to_string(recorded_.tape.size()) + " requests",
                       "a request the tape does not have: " + describe(index, produced), "request count"};
    return Status(Code::kUnavailable, "replay: request not on the tape");
  }
  const journal::TapeEntry& rec = recorded_.tape[index];
  std::string where, field = "request";
  if (rec.cluster != produced.cluster || rec.method != produced.method || rec.path != produced.path) {
    where = "cluster/method/path differ";
  } else if (rec.requestBody != produced.requestBody) {
    json r = json::parse(rec.requestBody, nullptr, false), p = json::parse(produced.requestBody, nullptr, false);
    if (r.is_discarded() || p.is_discarded()) {
      where = "bodies differ (not JSON)";
    } else if (auto d = firstJsonDifference(r, p, window_)) {
      where = "body differs at " + d->path + ": recorded " + d->recorded + ", produced " + d->produced;
      field = "request body " + d->path;
    }
  }
  if (!where.empty()) {
    mismatch_ = EffectMismatch{"cluster request", head + describe(index, rec),
                               describe(index, produced) + " [" + where + "]", field};
    return Status(Code::kUnavailable, "replay: request differs from the tape");
  }
  if (!rec.error.empty()) return statusFromTapeError(rec.error);
  k8s::HttpResponse response;
  response.status = rec.status;
  response.body = replayResponseBody(cluster, rec);
  response.headers["content-type"] = "application/json";
  return response;
}

void TapeSession::finish() {
  if (mismatch_ || next_ >= recorded_.tape.size()) return;
  const journal::TapeEntry& rec = recorded_.tape[next_];
  mismatch_ = EffectMismatch{"cluster request",
                             "EffectCompleted seq " + std::to_string(seq_) + " (" + recorded_.command + " #" +
                                 std::to_string(recorded_.effectId) + "), " + describe(next_, rec),
                             "no such request: this build made only " + std::to_string(next_) + " of the " +
                                 std::to_string(recorded_.tape.size()) + " recorded requests",
                             "request count"};
}

namespace {

class TapeTransport : public k8s::Transport {
 public:
  TapeTransport(std::string cluster, TapeSession* session) : cluster_(std::move(cluster)), session_(session) {}
  Result<k8s::HttpResponse> roundTrip(const k8s::HttpRequest& request) override {
    return session_->answer(cluster_, request);
  }
  std::string clusterName() const override { return cluster_; }

 private:
  std::string cluster_;
  TapeSession* session_;
};

}  // namespace

Result<std::unique_ptr<k8s::Transport>> TapeTransportFactory::make(const std::string& clusterName,
                                                                   const k8s::ClusterConfig& /*config*/,
                                                                   runtime::Tape* /*tape*/) {
  if (!session_) return Status(Code::kInternal, "replay: no tape session for this effect");
  return std::unique_ptr<k8s::Transport>(std::make_unique<TapeTransport>(clusterName, session_));
}

}  // namespace spr::replay
