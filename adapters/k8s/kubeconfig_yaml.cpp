// kubeconfig YAML (clusters/users/contexts) -> Kubeconfig -> ClusterConfig, with errors that
// name the file, the context and the field. yaml-cpp throws; everything is caught here.
#include <yaml-cpp/yaml.h>

#include "adapters/k8s/encoding.h"
#include "adapters/k8s/kubeconfig.h"

namespace spr::k8s {
namespace {

Status invalid(const std::string& source, const std::string& what) {
  return Status(Code::kInvalidArgument, "kubeconfig " + source + ": " + what);
}

std::string resolvePath(const std::string& path, const std::string& baseDir) {
  if (path.empty() || path[0] == '/' || baseDir.empty()) return path;
  return baseDir + "/" + path;
}

// A scalar field as text ("" when absent). Throws YAML::Exception on a non-scalar value.
std::string text(const YAML::Node& map, const char* key) {
  YAML::Node node = map[key];
  if (!node || node.IsNull()) return "";
  return node.as<std::string>();
}

void parseCluster(const YAML::Node& body, const std::string& baseDir, KubeconfigCluster& c) {
  c.server = text(body, "server");
  c.caFile = resolvePath(text(body, "certificate-authority"), baseDir);
  c.caData = text(body, "certificate-authority-data");
  if (body["insecure-skip-tls-verify"]) c.insecure = body["insecure-skip-tls-verify"].as<bool>();
}

void parseUser(const YAML::Node& body, const std::string& baseDir, KubeconfigUser& u) {
  u.token = text(body, "token");
  u.tokenFile = resolvePath(text(body, "tokenFile"), baseDir);
  u.certFile = resolvePath(text(body, "client-certificate"), baseDir);
  u.certData = text(body, "client-certificate-data");
  u.keyFile = resolvePath(text(body, "client-key"), baseDir);
  u.keyData = text(body, "client-key-data");
  u.hasExec = static_cast<bool>(body["exec"]);
  u.hasAuthProvider = static_cast<bool>(body["auth-provider"]);
  u.hasPassword = static_cast<bool>(body["password"]);
}

void parseContext(const YAML::Node& body, KubeconfigContext& c) {
  c.cluster = text(body, "cluster");
  c.user = text(body, "user");
  c.ns = text(body, "namespace");
}

// Walks `list` (a sequence of {name, <field>: {...}}) calling parse(name, body). Returns an
// error naming the list, the entry and the field that is wrong.
template <typename Parse>
Status forEachNamed(const YAML::Node& root, const char* list, const char* field, const std::string& source,
                    Parse parse) {
  YAML::Node seq = root[list];
  if (!seq || seq.IsNull()) return Status::ok();
  if (!seq.IsSequence()) return invalid(source, std::string("field `") + list + "` must be a list");
  for (size_t i = 0; i < seq.size(); ++i) {
    const YAML::Node entry = seq[i];
    std::string where = std::string(list) + "[" + std::to_string(i) + "]";
    if (!entry.IsMap() || !entry["name"] || !entry["name"].IsScalar())
      return invalid(source, "field `" + where + ".name` is missing; every entry needs a name");
    std::string name = entry["name"].as<std::string>();
    YAML::Node body = entry[field];
    if (body && !body.IsNull() && !body.IsMap())
      return invalid(source, "field `" + where + "." + field + "` of \"" + name + "\" must be a map");
    try {
      parse(name, body ? body : YAML::Node(YAML::NodeType::Map));
    } catch (const YAML::Exception& e) {
      return invalid(source, "field `" + where + "." + field + "` of \"" + name + "\": " + e.msg + " at line " +
                                 std::to_string(e.mark.line + 1));
    }
  }
  return Status::ok();
}

Status parseInto(const YAML::Node& root, const std::string& source, const std::string& baseDir, Kubeconfig& out) {
  SPR_RETURN_IF_ERROR(forEachNamed(root, "clusters", "cluster", source, [&](const std::string& n, const YAML::Node& b) {
    KubeconfigCluster c;
    parseCluster(b, baseDir, c);
    c.origin = source;
    out.clusters.emplace(n, c);
  }));
  SPR_RETURN_IF_ERROR(forEachNamed(root, "users", "user", source, [&](const std::string& n, const YAML::Node& b) {
    KubeconfigUser u;
    parseUser(b, baseDir, u);
    u.origin = source;
    out.users.emplace(n, u);
  }));
  SPR_RETURN_IF_ERROR(forEachNamed(root, "contexts", "context", source, [&](const std::string& n, const YAML::Node& b) {
    KubeconfigContext c;
    parseContext(b, c);
    c.origin = source;
    out.contexts.emplace(n, c);
  }));
  if (root["current-context"] && !root["current-context"].IsScalar())
    return invalid(source, "field `current-context` must be a context name");
  out.currentContext = text(root, "current-context");
  return Status::ok();
}

Result<std::string> decoded(const std::string& data, const std::string& origin, const std::string& context,
                            const std::string& field) {
  auto bytes = base64Decode(data);
  if (!bytes)
    return invalid(origin, "context \"" + context + "\": field `" + field +
                               "` is not valid base64; paste the PEM file base64-encoded (base64 -w0 FILE)");
  return *bytes;
}

std::string names(const std::map<std::string, KubeconfigContext>& contexts) {
  std::string out;
  for (const auto& [name, unused] : contexts) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

Status fillCluster(const KubeconfigCluster& c, const std::string& ctx, const std::string& clusterName,
                   ClusterConfig& out) {
  if (c.server.empty())
    return invalid(c.origin, "context \"" + ctx + "\": cluster \"" + clusterName +
                                 "\": field `server` is missing; set it to the API server URL (https://host:port)");
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0)
    return invalid(c.origin, "context \"" + ctx + "\": cluster \"" + clusterName + "\": field `server` (\"" + c.server +
                                 "\") must start with https:// or http://");
  out.server = c.server;
  out.caFile = c.caFile;
  out.insecureSkipTlsVerify = c.insecure;
  if (!c.caData.empty()) {
    auto ca = decoded(c.caData, c.origin, ctx, "certificate-authority-data");
    if (!ca.isOk()) return ca.status();
    out.caData = *ca;
  }
  return Status::ok();
}

Status fillUser(const KubeconfigUser& u, const std::string& ctx, ClusterConfig& out) {
  out.bearerToken = u.token;
  out.tokenFile = u.tokenFile;
  out.clientCertFile = u.certFile;
  out.clientKeyFile = u.keyFile;
  if (!u.certData.empty()) {
    auto v = decoded(u.certData, u.origin, ctx, "client-certificate-data");
    if (!v.isOk()) return v.status();
    out.clientCertData = *v;
  }
  if (!u.keyData.empty()) {
    auto v = decoded(u.keyData, u.origin, ctx, "client-key-data");
    if (!v.isOk()) return v.status();
    out.clientKeyData = *v;
  }
  bool hasCert = !out.clientCertData.empty() || !out.clientCertFile.empty();
  bool hasKey = !out.clientKeyData.empty() || !out.clientKeyFile.empty();
  if (hasCert != hasKey)
    return invalid(u.origin,
                   "context \"" + ctx + "\": field `" +
                       (hasCert ? "client-key-data` / `client-key" : "client-certificate-data` / `client-certificate") +
                       "` is missing; a client certificate needs both the certificate and its key");
  bool hasCredential = hasCert || !out.bearerToken.empty() || !out.tokenFile.empty();
  if (!hasCredential && (u.hasExec || u.hasAuthProvider || u.hasPassword))
    return invalid(u.origin, "context \"" + ctx + "\": field `" +
                                 (u.hasExec           ? "exec"
                                  : u.hasAuthProvider ? "auth-provider"
                                                      : "password") +
                                 "` is not supported by spr; use a token, tokenFile or client certificate");
  return Status::ok();
}

}  // namespace

Result<Kubeconfig> parseKubeconfigDoc(const std::string& yaml, const std::string& source, const std::string& baseDir) {
  Kubeconfig out;
  try {
    YAML::Node root = YAML::Load(yaml);
    if (root.IsNull()) return out;  // an empty file is an empty config, as kubectl treats it
    if (!root.IsMap())
      return invalid(source, "not a kubeconfig (the top level must be a map with clusters, users, contexts)");
    SPR_RETURN_IF_ERROR(parseInto(root, source, baseDir, out));
  } catch (const YAML::Exception& e) {
    return invalid(source, "malformed YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
                               std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  return out;
}

void mergeKubeconfig(Kubeconfig& into, const Kubeconfig& from) {
  into.clusters.insert(from.clusters.begin(), from.clusters.end());  // insert keeps existing names
  into.users.insert(from.users.begin(), from.users.end());
  into.contexts.insert(from.contexts.begin(), from.contexts.end());
  if (into.currentContext.empty()) into.currentContext = from.currentContext;
}

Result<ClusterConfig> selectContext(const Kubeconfig& config, const std::string& context, const std::string& source) {
  std::string name = context.empty() ? config.currentContext : context;
  if (name.empty() && config.contexts.empty() && config.clusters.empty())
    return invalid(source,
                   "holds no clusters and no contexts (is the file empty, or not written yet?); point the "
                   "flag at a kubeconfig such as `spr sim --kubeconfig-out FILE` writes");
  if (name.empty())
    return invalid(source,
                   "field `current-context` is not set and no context was given; pass FILE#CONTEXT "
                   "(contexts: " +
                       names(config.contexts) + ")");
  auto ctx = config.contexts.find(name);
  if (ctx == config.contexts.end())
    return invalid(source, "context \"" + name + "\" not found (contexts: " + names(config.contexts) +
                               "); pass an existing one as FILE#CONTEXT");
  const KubeconfigContext& c = ctx->second;
  auto cluster = config.clusters.find(c.cluster);
  if (c.cluster.empty() || cluster == config.clusters.end())
    return invalid(c.origin, "context \"" + name + "\": field `cluster` names \"" + c.cluster +
                                 "\", which is not in `clusters`; add it or fix the name");
  ClusterConfig out;
  out.name = name;
  out.source = "kubeconfig " + source + " context " + name;
  SPR_RETURN_IF_ERROR(fillCluster(cluster->second, name, c.cluster, out));
  if (!c.user.empty()) {
    auto user = config.users.find(c.user);
    if (user == config.users.end())
      return invalid(c.origin, "context \"" + name + "\": field `user` names \"" + c.user +
                                   "\", which is not in `users`; add it or fix the name");
    SPR_RETURN_IF_ERROR(fillUser(user->second, name, out));
  }
  return out;
}

Result<ClusterConfig> parseKubeconfig(const std::string& yaml, const std::string& context, const std::string& source) {
  auto doc = parseKubeconfigDoc(yaml, source, "");
  if (!doc.isOk()) return doc.status();
  return selectContext(*doc, context, source);
}

}  // namespace spr::k8s
