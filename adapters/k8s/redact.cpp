// Redaction of Secret data and credentials in objects, Lists, watch events and free text.
#include "adapters/k8s/redact.h"

#include <openssl/sha.h>

#include <cstdio>
#include <regex>
#include <set>
#include <sstream>

namespace spr::k8s {

using nlohmann::json;

namespace {

// kubeconfig and token fields, wherever they appear in a JSON document.
const std::set<std::string>& credentialKeys() {
  static const std::set<std::string> keys = {
      "token",    "client-key-data", "client-certificate-data", "password",      "access-token", "refresh-token",
      "id-token", "bearerToken",     "clientKeyData",           "authorization", "Authorization"};
  return keys;
}

bool mayHoldCredentials(const std::string& text) {
  return text.find("token") != std::string::npos || text.find("-data") != std::string::npos ||
         text.find("assword") != std::string::npos || text.find("Bearer") != std::string::npos ||
         text.find("uthorization") != std::string::npos;
}

// Line-oriented redaction for text that is not JSON: YAML kubeconfigs, headers, logs.
std::string redactPlainText(const std::string& text) {
  if (!mayHoldCredentials(text)) return text;
  static const std::regex keyValue(
      R"re(((?:^|[\s"'{,])(?:token|client-key-data|client-certificate-data|password|access-token|refresh-token|id-token)["']?\s*[:=]\s*["']?)([^\s"',}]+))re",
      std::regex::icase);
  static const std::regex bearer(R"re((Bearer\s+)([^\s"',}]+))re", std::regex::icase);
  static const std::regex basic(R"re((Authorization:\s*Basic\s+)([^\s"',}]+))re", std::regex::icase);
  auto replaceAll = [](const std::string& in, const std::regex& re) {
    std::string out;
    auto begin = std::sregex_iterator(in.begin(), in.end(), re);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      const std::smatch& m = *it;
      if (m.str(2).rfind("<redacted", 0) == 0) continue;
      out += in.substr(last, m.position(2) - last) + redactedDigest(m.str(2));
      last = m.position(2) + m.length(2);
    }
    return out + in.substr(last);
  };
  return replaceAll(replaceAll(replaceAll(text, keyValue), bearer), basic);
}

// The object's `kind` when it is a string; "" otherwise (a CRD schema's properties.kind
// is an object, and must not make redaction throw).
std::string kindOf(const json& object) {
  auto it = object.find("kind");
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool isSecret(const json& object, bool inSecretList) {
  if (!object.is_object()) return false;
  if (kindOf(object) == "Secret") return true;
  // List items carry no kind; a Secret is the object with a `type` string next to `data`.
  bool bare = !object.contains("kind") && object.contains("type") && object["type"].is_string() &&
              (object.contains("data") || object.contains("stringData"));
  return inSecretList || bare;
}

void redactSecret(json& secret) {
  for (const char* field : {"data", "stringData"}) {
    if (!secret.contains(field) || !secret[field].is_object()) continue;
    for (auto& [key, value] : secret[field].items()) {
      // Idempotent: replay feeds recorded (redacted) Secret data back to a provider that
      // copies it; its request must redact to what was recorded.
      if (value.is_string() && value.get<std::string>().rfind("<redacted sha256:", 0) == 0) continue;
      value = redactedDigest(value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  // kubectl apply keeps the whole Secret, data included, in this annotation.
  json* annotations = secret.contains("metadata") ? &secret["metadata"] : nullptr;
  if (annotations && annotations->is_object() && annotations->contains("annotations")) {
    json& a = (*annotations)["annotations"];
    const char* applied = "kubectl.kubernetes.io/last-applied-configuration";
    if (a.is_object() && a.contains(applied) && a[applied].is_string())
      a[applied] = redactedDigest(a[applied].get<std::string>());
  }
}

void redactInPlace(json& node, bool inSecretList) {
  if (node.is_object()) {
    if (isSecret(node, inSecretList)) redactSecret(node);
    bool secretList = kindOf(node) == "SecretList";
    for (auto& [key, value] : node.items()) {
      if (value.is_string() && credentialKeys().count(key)) {
        value = redactedDigest(value.get<std::string>());
      } else if (value.is_string()) {
        const std::string& s = value.get_ref<const std::string&>();
        if (mayHoldCredentials(s)) value = redactPlainText(s);
      } else if (key == "items") {
        for (json& item : value) redactInPlace(item, secretList);
      } else {
        redactInPlace(value, false);
      }
    }
  } else if (node.is_array()) {
    for (json& item : node) redactInPlace(item, false);
  }
}

}  // namespace

std::string redactedDigest(const std::string& value) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(value.data()), value.size(), digest);
  char hex[13];
  for (int i = 0; i < 6; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return std::string("<redacted sha256:") + hex + ">";
}

json redactObject(const json& object) {
  json copy = object;
  redactInPlace(copy, false);
  return copy;
}

json redactSecretValues(const json& secret) {
  json copy = secret;
  if (copy.is_object()) redactSecret(copy);
  return copy;
}

std::string redactText(const std::string& text) {
  if (text.empty()) return text;
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded()) return redactObject(parsed).dump();
  // A watch stream: one JSON document per line.
  if (text.find('\n') != std::string::npos && text.front() == '{') {
    std::istringstream lines(text);
    std::string line, out;
    bool allJson = true;
    while (allJson && std::getline(lines, line)) {
      if (line.empty()) continue;
      json event = json::parse(line, nullptr, false);
      allJson = !event.is_discarded();
      if (allJson) out += redactObject(event).dump() + "\n";
    }
    if (allJson) return out;
  }
  return redactPlainText(text);
}

}  // namespace spr::k8s
