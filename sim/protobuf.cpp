// The protobuf wire format (varint, 64-bit, length-delimited, 32-bit; unknown fields skipped)
// and the k8s.io/api generated.proto field numbers of the kinds the sim decodes.
#include "sim/protobuf.h"

#include <cctype>
#include <cstdint>
#include <ctime>
#include <vector>

#include "sim/tls.h"

namespace spr::sim {

using nlohmann::json;

namespace {

// One field of a message: varint/fixed values in `value`, length-delimited ones in `bytes`.
struct Field {
  uint32_t number = 0;
  int wire = 0;
  uint64_t value = 0;
  std::string bytes;
};

bool readVarint(const std::string& s, size_t& pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= s.size()) return false;
    auto b = static_cast<uint8_t>(s[pos++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

bool readField(const std::string& msg, size_t& pos, Field& f) {
  uint64_t key = 0;
  if (!readVarint(msg, pos, key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff) return false;
  f.number = static_cast<uint32_t>(key >> 3);
  f.wire = static_cast<int>(key & 7);
  if (f.wire == 0) return readVarint(msg, pos, f.value);
  if (f.wire == 1 || f.wire == 5) {
    size_t n = f.wire == 1 ? 8 : 4;
    if (msg.size() - pos < n) return false;
    for (size_t i = 0; i < n; ++i) f.value |= static_cast<uint64_t>(static_cast<uint8_t>(msg[pos + i])) << (8 * i);
    pos += n;
    return true;
  }
  if (f.wire != 2) return false;  // groups (3, 4) are not used by Kubernetes
  uint64_t len = 0;
  if (!readVarint(msg, pos, len) || len > msg.size() - pos) return false;
  f.bytes = msg.substr(pos, len);
  pos += len;
  return true;
}

bool validUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<uint8_t>(s[i]);
    size_t n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 4;
    if (n == 4 || s.size() - i <= n) return false;  // bad lead byte, or the sequence is cut off
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<uint8_t>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n + 1;
  }
  return true;
}

std::string rfc3339(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Decodes messages into JSON; the first problem is kept in `error` ("ObjectMeta.labels: ...").
class Decoder {
 public:
  std::string error;

  bool fields(const std::string& msg, const std::string& what, std::vector<Field>& out) {
    size_t pos = 0;
    while (pos < msg.size()) {
      Field f;
      if (!readField(msg, pos, f)) return fail(what + ": truncated or malformed protobuf");
      out.push_back(std::move(f));
    }
    return true;
  }
  bool fail(const std::string& message) {
    if (error.empty()) error = message;
    return false;
  }
  bool expect(const Field& f, int wire, const std::string& path) {
    if (f.wire == wire) return true;
    return fail(path + ": protobuf wire type " + std::to_string(f.wire) + ", expected " + std::to_string(wire));
  }
  bool text(const Field& f, const std::string& path, std::string& out) {
    if (!expect(f, 2, path)) return false;
    if (!validUtf8(f.bytes)) return fail(path + ": not valid UTF-8");
    out = f.bytes;
    return true;
  }
  // Sets obj[key] to the string unless it is empty (Go's omitempty).
  bool str(const Field& f, const std::string& path, json& obj, const char* key) {
    std::string s;
    if (!text(f, path, s)) return false;
    if (!s.empty()) obj[key] = s;
    return true;
  }
  bool appendStr(const Field& f, const std::string& path, json& arr) {
    std::string s;
    if (!text(f, path, s)) return false;
    arr.push_back(s);
    return true;
  }
  bool boolean(const Field& f, const std::string& path, json& obj, const char* key) {
    if (!expect(f, 0, path)) return false;
    obj[key] = f.value != 0;
    return true;
  }
  bool int64(const Field& f, const std::string& path, json& obj, const char* key, bool omitZero) {
    if (!expect(f, 0, path)) return false;
    if (!omitZero || f.value != 0) obj[key] = static_cast<int64_t>(f.value);
    return true;
  }
  // A map<string,string> (or map<string,bytes> -> base64 when `bytes`) entry into obj[key].
  bool mapEntry(const Field& f, const std::string& path, json& obj, const char* key, bool bytes) {
    std::vector<Field> fs;
    if (!expect(f, 2, path) || !fields(f.bytes, path, fs)) return false;
    std::string k, v;
    for (const auto& e : fs) {
      if (e.number == 1 && !text(e, path + " key", k)) return false;
      if (e.number == 2 && !(bytes ? expect(e, 2, path) : text(e, path + "[" + k + "]", v))) return false;
      if (e.number == 2 && bytes) v = base64Encode(e.bytes);
    }
    if (!obj.contains(key)) obj[key] = json::object();
    obj[key][k] = v;
    return true;
  }
  bool time(const Field& f, const std::string& path, json& obj, const char* key) {
    std::vector<Field> fs;
    if (!expect(f, 2, path) || !fields(f.bytes, path, fs)) return false;
    int64_t seconds = 0;
    for (const auto& e : fs)
      if (e.number == 1 && e.wire == 0) seconds = static_cast<int64_t>(e.value);
    if (seconds != 0) obj[key] = rfc3339(seconds);
    return true;
  }
  // A sub-message decoded by `fn` into a new object appended to obj[key] (or set when !repeated).
  template <typename Fn>
  bool message(const Field& f, const std::string& path, json& obj, const char* key, bool repeated, Fn fn) {
    std::vector<Field> fs;
    if (!expect(f, 2, path) || !fields(f.bytes, path, fs)) return false;
    json sub = json::object();
    for (const auto& e : fs)
      if (!fn(e, sub)) return false;
    if (repeated)
      obj[key].push_back(sub);
    else
      obj[key] = sub;
    return true;
  }

  bool ownerReference(const Field& f, json& o) {
    const std::string p = "metadata.ownerReferences";
    switch (f.number) {
      case 1: return str(f, p + ".kind", o, "kind");
      case 3: return str(f, p + ".name", o, "name");
      case 4: return str(f, p + ".uid", o, "uid");
      case 5: return str(f, p + ".apiVersion", o, "apiVersion");
      case 6: return boolean(f, p + ".controller", o, "controller");
      case 7: return boolean(f, p + ".blockOwnerDeletion", o, "blockOwnerDeletion");
      default: return true;
    }
  }
  bool objectMeta(const Field& f, json& m) {
    switch (f.number) {
      case 1: return str(f, "metadata.name", m, "name");
      case 2: return str(f, "metadata.generateName", m, "generateName");
      case 3: return str(f, "metadata.namespace", m, "namespace");
      case 5: return str(f, "metadata.uid", m, "uid");
      case 6: return str(f, "metadata.resourceVersion", m, "resourceVersion");
      case 7: return int64(f, "metadata.generation", m, "generation", true);
      case 8: return time(f, "metadata.creationTimestamp", m, "creationTimestamp");
      case 9: return time(f, "metadata.deletionTimestamp", m, "deletionTimestamp");
      case 10: return int64(f, "metadata.deletionGracePeriodSeconds", m, "deletionGracePeriodSeconds", false);
      case 11: return mapEntry(f, "metadata.labels", m, "labels", false);
      case 12: return mapEntry(f, "metadata.annotations", m, "annotations", false);
      case 13:
        return message(f, "metadata.ownerReferences", m, "ownerReferences", true,
                       [this](const Field& e, json& o) { return ownerReference(e, o); });
      case 14: return appendStr(f, "metadata.finalizers", m["finalizers"]);
      default: return true;  // selfLink, managedFields, ...: not kept
    }
  }
  bool meta(const Field& f, json& obj) {
    return message(f, "metadata", obj, "metadata", false, [this](const Field& e, json& m) { return objectMeta(e, m); });
  }

  bool configMap(const Field& f, json& o) {
    switch (f.number) {
      case 1: return meta(f, o);
      case 2: return mapEntry(f, "data", o, "data", false);
      case 3: return mapEntry(f, "binaryData", o, "binaryData", true);
      case 4: return boolean(f, "immutable", o, "immutable");
      default: return true;
    }
  }
  bool secret(const Field& f, json& o) {
    switch (f.number) {
      case 1: return meta(f, o);
      case 2: return mapEntry(f, "data", o, "data", true);
      case 3: return str(f, "type", o, "type");
      case 4: return mapEntry(f, "stringData", o, "stringData", false);
      case 5: return boolean(f, "immutable", o, "immutable");
      default: return true;
    }
  }
  bool namespaceObj(const Field& f, json& o) {
    if (f.number == 1) return meta(f, o);
    if (f.number != 2) return true;  // status is the server's
    return message(f, "spec", o, "spec", false, [this](const Field& e, json& spec) {
      return e.number != 1 || appendStr(e, "spec.finalizers", spec["finalizers"]);
    });
  }
  bool objectReference(const Field& f, json& o) {
    static const char* kKeys[] = {"", "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"};
    if (f.number < 1 || f.number > 7) return true;
    return str(f, std::string("secrets.") + kKeys[f.number], o, kKeys[f.number]);
  }
  bool serviceAccount(const Field& f, json& o) {
    switch (f.number) {
      case 1: return meta(f, o);
      case 2:
        return message(f, "secrets", o, "secrets", true,
                       [this](const Field& e, json& r) { return objectReference(e, r); });
      case 3:
        return message(f, "imagePullSecrets", o, "imagePullSecrets", true, [this](const Field& e, json& r) {
          return e.number != 1 || str(e, "imagePullSecrets.name", r, "name");
        });
      case 4: return boolean(f, "automountServiceAccountToken", o, "automountServiceAccountToken");
      default: return true;
    }
  }
  // rbac.authorization.k8s.io/v1 PolicyRule: verbs(1), apiGroups(2), resources(3),
  // resourceNames(4), nonResourceURLs(5); ClusterRole/Role: metadata(1), rules(2).
  bool policyRule(const Field& f, json& r) {
    static const char* kKeys[] = {"", "verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"};
    if (f.number < 1 || f.number > 5) return true;
    return appendStr(f, std::string("rules.") + kKeys[f.number], r[kKeys[f.number]]);
  }
  bool role(const Field& f, json& o) {
    if (f.number == 1) return meta(f, o);
    if (f.number != 2) return true;  // aggregationRule is not followed by the sim
    return message(f, "rules", o, "rules", true, [this](const Field& e, json& r) { return policyRule(e, r); });
  }
  // ClusterRoleBinding/RoleBinding: metadata(1), subjects(2){kind(1), apiGroup(2), name(3),
  // namespace(4)}, roleRef(3){apiGroup(1), kind(2), name(3)}.
  bool roleBinding(const Field& f, json& o) {
    if (f.number == 1) return meta(f, o);
    if (f.number == 2)
      return message(f, "subjects", o, "subjects", true, [this](const Field& e, json& s) {
        static const char* kKeys[] = {"", "kind", "apiGroup", "name", "namespace"};
        return e.number < 1 || e.number > 4 || str(e, std::string("subjects.") + kKeys[e.number], s, kKeys[e.number]);
      });
    if (f.number != 3) return true;
    return message(f, "roleRef", o, "roleRef", false, [this](const Field& e, json& r) {
      static const char* kKeys[] = {"", "apiGroup", "kind", "name"};
      return e.number < 1 || e.number > 3 || str(e, std::string("roleRef.") + kKeys[e.number], r, kKeys[e.number]);
    });
  }
  // authorization.k8s.io/v1 SelfSubjectAccessReview (kubectl auth can-i): metadata(1),
  // spec(2){resourceAttributes(1){namespace(1), verb(2), group(3), version(4), resource(5),
  // subresource(6), name(7)}, nonResourceAttributes(2){path(1), verb(2)}}.
  bool selfSubjectAccessReview(const Field& f, json& o) {
    if (f.number == 1) return meta(f, o);
    if (f.number != 2) return true;
    return message(f, "spec", o, "spec", false, [this](const Field& e, json& spec) {
      static const char* kResource[] = {"", "namespace", "verb", "group", "version", "resource", "subresource", "name"};
      static const char* kNonResource[] = {"", "path", "verb"};
      const bool resource = e.number == 1;
      if (e.number != 1 && e.number != 2) return true;
      const char* key = resource ? "resourceAttributes" : "nonResourceAttributes";
      return message(e, std::string("spec.") + key, spec, key, false, [&](const Field& a, json& attrs) {
        if (a.number < 1 || a.number > (resource ? 7u : 2u)) return true;
        const char* name = resource ? kResource[a.number] : kNonResource[a.number];
        return str(a, std::string("spec.") + key + "." + name, attrs, name);
      });
    });
  }
  // authentication.k8s.io/v1 SelfSubjectReview (kubectl auth whoami): metadata(1), status(2).
  bool selfSubjectReview(const Field& f, json& o) { return f.number != 1 || meta(f, o); }
  // authentication.k8s.io/v1 TokenRequest (kubectl create token): metadata(1), spec(2){
  // audiences(1), boundObjectRef(3), expirationSeconds(4)}; the bound object is not kept.
  bool tokenRequest(const Field& f, json& o) {
    if (f.number == 1) return meta(f, o);
    if (f.number != 2) return true;  // status is the server's
    return message(f, "spec", o, "spec", false, [this](const Field& e, json& spec) {
      if (e.number == 1) return appendStr(e, "spec.audiences", spec["audiences"]);
      if (e.number == 4) return int64(e, "spec.expirationSeconds", spec, "expirationSeconds", false);
      return true;
    });
  }
  bool deleteOptions(const Field& f, json& o) {
    switch (f.number) {
      case 1: return int64(f, "gracePeriodSeconds", o, "gracePeriodSeconds", false);
      case 2:
        return message(f, "preconditions", o, "preconditions", false, [this](const Field& e, json& p) {
          // Pointer fields: present means set, even when empty.
          const char* key = e.number == 1 ? "uid" : e.number == 2 ? "resourceVersion" : nullptr;
          std::string v;
          if (!key) return true;
          if (!text(e, std::string("preconditions.") + key, v)) return false;
          p[key] = v;
          return true;
        });
      case 3: return boolean(f, "orphanDependents", o, "orphanDependents");
      case 4: return str(f, "propagationPolicy", o, "propagationPolicy");
      case 5: return appendStr(f, "dryRun", o["dryRun"]);
      default: return true;
    }
  }
};

using KindFn = bool (Decoder::*)(const Field&, json&);
struct KindEntry {
  const char* apiVersion;
  const char* kind;
  KindFn decode;
};
const KindEntry kKinds[] = {
    {"v1", "Namespace", &Decoder::namespaceObj},
    {"v1", "ConfigMap", &Decoder::configMap},
    {"v1", "Secret", &Decoder::secret},
    {"v1", "ServiceAccount", &Decoder::serviceAccount},
    {"authentication.k8s.io/v1", "TokenRequest", &Decoder::tokenRequest},
    {"authentication.k8s.io/v1", "SelfSubjectReview", &Decoder::selfSubjectReview},
    {"authorization.k8s.io/v1", "SelfSubjectAccessReview", &Decoder::selfSubjectAccessReview},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", &Decoder::role},
    {"rbac.authorization.k8s.io/v1", "Role", &Decoder::role},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &Decoder::roleBinding},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", &Decoder::roleBinding},
    {"v1", "DeleteOptions", &Decoder::deleteOptions},
    {"meta.k8s.io/v1", "DeleteOptions", &Decoder::deleteOptions},
};

// runtime.Unknown: typeMeta(1){apiVersion(1), kind(2)}, raw(2), contentEncoding(3), contentType(4).
struct Unknown {
  std::string apiVersion, kind, raw, contentEncoding;
};

bool decodeUnknown(Decoder& d, const std::string& msg, Unknown& u) {
  std::vector<Field> fs;
  if (!d.fields(msg, "runtime.Unknown", fs)) return false;
  for (const auto& f : fs) {
    if (f.number == 1) {
      std::vector<Field> tm;
      if (!d.expect(f, 2, "typeMeta") || !d.fields(f.bytes, "typeMeta", tm)) return false;
      for (const auto& t : tm) {
        if (t.number == 1 && !d.text(t, "typeMeta.apiVersion", u.apiVersion)) return false;
        if (t.number == 2 && !d.text(t, "typeMeta.kind", u.kind)) return false;
      }
    } else if (f.number == 2) {
      if (!d.expect(f, 2, "raw")) return false;
      u.raw = f.bytes;
    } else if (f.number == 3 && !d.text(f, "contentEncoding", u.contentEncoding)) {
      return false;
    }
  }
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::optional<ApiResponse> decodeProtobufBody(const std::string& body, json& out) {
  static const std::string kMagic("k8s\0", 4);
  const std::string kCannot = "the body of the request could not be decoded: ";
  if (body.compare(0, kMagic.size(), kMagic) != 0)
    return badRequest(kCannot + "a " + std::string(kProtobufMediaType) +
                      " body must start with the 4 bytes \"k8s\\x00\"");
  Decoder d;
  Unknown u;
  if (!decodeUnknown(d, body.substr(kMagic.size()), u)) return badRequest(kCannot + d.error);
  if (!u.contentEncoding.empty())
    return failure(
        415, "UnsupportedMediaType",
        "spr sim: protobuf contentEncoding \"" + u.contentEncoding + "\" is not supported; send the object as JSON");
  const KindEntry* entry = nullptr;
  for (const auto& k : kKinds)
    if (u.kind == k.kind && u.apiVersion == k.apiVersion) entry = &k;
  if (!entry) {
    std::string kind = u.kind.empty() ? "object without a kind" : u.kind + " (" + u.apiVersion + ")";
    return failure(415, "UnsupportedMediaType",
                   "spr sim cannot decode a protobuf " + kind +
                       "; it decodes protobuf only for Namespace, ConfigMap, "
                       "Secret, ServiceAccount, RBAC kinds and the review kinds. Send it as YAML or JSON instead, e.g. "
                       "kubectl create -f " +
                       (u.kind.empty() ? std::string("object") : lower(u.kind)) +
                       ".yaml (for a one-liner: add --dry-run=client -o yaml and pipe it to kubectl create -f -)");
  }
  std::vector<Field> fs;
  json obj = {{"apiVersion", u.apiVersion}, {"kind", u.kind}};
  if (!d.fields(u.raw, u.kind, fs)) return badRequest(kCannot + d.error);
  for (const auto& f : fs)
    if (!(d.*(entry->decode))(f, obj)) return badRequest(kCannot + u.kind + " " + d.error);
  out = std::move(obj);
  return std::nullopt;
}

}  // namespace spr::sim
