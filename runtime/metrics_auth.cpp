#include "runtime/metrics_auth.h"

#include <openssl/evp.h>

#include <cctype>

#include "common/log.h"

namespace spr::runtime {

using nlohmann::json;

namespace {

std::string sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kDigits[md[i] >> 4]);
    hex.push_back(kDigits[md[i] & 0xf]);
  }
  return hex;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The token of "Bearer TOKEN" (the scheme in any case), as kube-apiserver's bearer-token
// authenticator reads the header; "" when there is none.
std::string bearerToken(const std::string& header) {
  size_t space = header.find(' ');
  if (space == std::string::npos || lower(header.substr(0, space)) != "bearer") return "";
  std::string token = header.substr(space + 1);
  return token.substr(0, token.find(' '));
}

AuthAnswer answer(int status, const std::string& body) { return {status, body + "\n"}; }

}  // namespace

MetricsAuth::MetricsAuth(k8s::Transport& platform, MetricsAuthOptions options)
    : client_(platform, options.retry), options_(std::move(options)) {
  if (!options_.clock) {
    ownClock_ = systemClock();
    options_.clock = ownClock_.get();
  }
}

int64_t MetricsAuth::now() const { return options_.clock->nowUnixNanos(); }

uint64_t MetricsAuth::apiCalls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

bool MetricsAuth::lookup(Cache& cache, const std::string& key, Entry* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache.find(key);
  if (it == cache.end()) return false;
  if (it->second.expiresNanos <= now()) {
    cache.erase(it);
    return false;
  }
  *out = it->second;
  return true;
}

void MetricsAuth::store(Cache& cache, const std::string& key, Entry entry, double ttlSec) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t t = now();
  entry.expiresNanos = t + static_cast<int64_t>(ttlSec * 1e9);
  if (cache.size() >= options_.maxEntries && !cache.count(key)) {
    for (auto it = cache.begin(); it != cache.end();)
      it = it->second.expiresNanos <= t ? cache.erase(it) : std::next(it);
    if (cache.size() >= options_.maxEntries) {
      auto soonest = cache.begin();
      for (auto it = cache.begin(); it != cache.end(); ++it)
        if (it->second.expiresNanos < soonest->second.expiresNanos) soonest = it;
      cache.erase(soonest);
    }
  }
  cache[key] = std::move(entry);
}

Result<MetricsAuth::Entry> MetricsAuth::authenticate(const std::string& token) {
  const std::string key = sha256Hex(token);
  Entry e;
  if (lookup(authn_, key, &e)) return e;
  json review = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenReview"}, {"spec", {{"token", token}}}};
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
  }
  auto got = client_.request({"POST", "/apis/authentication.k8s.io/v1/tokenreviews", review.dump(), ""});
  if (!got) return got.status();
  const json status = got->value("status", json::object());
  e.yes = status.is_object() && status.value("authenticated", false);
  if (e.yes) e.user = status.value("user", json::object());
  if (e.yes && (!e.user.is_object() || !e.user.value("username", json()).is_string()))
    return Status(Code::kInternal, "the TokenReview answer says authenticated but names no user");
  store(authn_, key, e, options_.authnTtlSec);
  return e;
}

Result<MetricsAuth::Entry> MetricsAuth::authorize(const json& user, const std::string& verb, const std::string& path) {
  json spec = {{"user", user.value("username", "")},
               {"groups", user.value("groups", json::array())},
               {"nonResourceAttributes", {{"path", path}, {"verb", verb}}}};
  if (user.contains("uid")) spec["uid"] = user["uid"];
  if (user.contains("extra")) spec["extra"] = user["extra"];
  const std::string key = sha256Hex(spec.dump());
  Entry e;
  if (lookup(authz_, key, &e)) return e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
  }
  json review = {{"apiVersion", "authorization.k8s.io/v1"}, {"kind", "SubjectAccessReview"}, {"spec", spec}};
  auto got = client_.request({"POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review.dump(), ""});
  if (!got) return got.status();
  const json status = got->value("status", json::object());
  e.yes = status.is_object() && status.value("allowed", false) && !status.value("denied", false);
  e.reason =
      status.is_object() && status.value("reason", json()).is_string() ? status["reason"].get<std::string>() : "";
  store(authz_, key, e, e.yes ? options_.allowTtlSec : options_.denyTtlSec);
  return e;
}

AuthAnswer MetricsAuth::check(const std::string& authorization, const std::string& method, const std::string& path) {
  const std::string token = bearerToken(authorization);
  if (token.empty()) return answer(401, "Unauthorized");
  auto who = authenticate(token);
  if (!who) {
    log::error("metrics: TokenReview failed", {{"reason", who.status().toString()}});
    return answer(500, "Authentication failed");
  }
  if (!who->yes) return answer(401, "Unauthorized");
  const std::string name = who->user.value("username", "");
  auto allowed = authorize(who->user, lower(method), path);
  if (!allowed) {
    log::error("metrics: SubjectAccessReview failed", {{"user", name}, {"reason", allowed.status().toString()}});
    return answer(500, "Authorization for user " + name + " failed");
  }
  if (!allowed->yes) {
    log::debug("metrics: scrape not allowed", {{"user", name}, {"path", path}, {"reason", allowed->reason}});
    return answer(403, "Authorization denied for user " + name);
  }
  return {};
}

}  // namespace spr::runtime
