#include "runtime/ca_bundle.h"

#include <openssl/evp.h>

#include "core/fold/fold_input.h"

namespace spr::runtime {

using nlohmann::json;

namespace {

const json& annotationsOf(const json& object) {
  static const json kEmpty = json::object();
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) return kEmpty;
  const json& meta = object["metadata"];
  return meta.contains("annotations") && meta["annotations"].is_object() ? meta["annotations"] : kEmpty;
}

std::string stringAt(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<CaBundleRef> caBundleRefOf(const json& config) {
  if (!config.is_object() || !config.contains("spec") || !config["spec"].is_object()) return std::nullopt;
  const json& spec = config["spec"];
  auto it = spec.find("caBundleRef");
  if (it == spec.end() || !it->is_object()) return std::nullopt;
  CaBundleRef ref{stringAt(*it, "name"), stringAt(*it, "key")};
  if (ref.name.empty() || ref.key.empty()) return std::nullopt;
  return ref;
}

std::string operationOf(const json& object) { return stringAt(annotationsOf(object), fold::kOperationAnnotation); }

std::string caBundleStamp(const std::optional<CaBundleRef>& ref, const std::map<std::string, json>& data) {
  if (!ref) return "";
  auto cm = data.find(ref->name);
  if (cm == data.end() || !cm->second.is_object()) return "missing";
  auto pem = cm->second.find(ref->key);
  if (pem == cm->second.end() || !pem->is_string()) return "missing";
  return "sha256:" + sha256Hex(pem->get<std::string>());
}

json stampConfig(json config, const std::string& caStamp, const std::string& ns, uint64_t epoch) {
  if (!config.is_object()) return config;
  json& meta = config["metadata"];
  if (!meta.is_object()) meta = json::object();
  json& annotations = meta["annotations"];
  if (!annotations.is_object()) annotations = json::object();
  for (const char* k : {kStampCaBundle, kStampCaNamespace, kStampReconcileEpoch}) annotations.erase(k);
  if (!caStamp.empty()) annotations[kStampCaBundle] = caStamp;
  if (!caStamp.empty() || ns != "default") annotations[kStampCaNamespace] = ns;  // replay reads the same paths
  if (epoch != 0) annotations[kStampReconcileEpoch] = std::to_string(epoch);
  if (annotations.empty()) meta.erase("annotations");
  return config;
}

std::string namespaceOf(const json& config, const std::string& fallback) {
  std::string ns = stringAt(annotationsOf(config), kStampCaNamespace);
  return ns.empty() ? fallback : ns;
}

std::string caStampOf(const json& config) { return stringAt(annotationsOf(config), kStampCaBundle); }

uint64_t reconcileEpochOf(const json& config) {
  std::string text = stringAt(annotationsOf(config), kStampReconcileEpoch);
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::string sha256Hex(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

}  // namespace spr::runtime
