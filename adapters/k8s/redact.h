// Redaction: what may be logged or journaled of an object or a request/response body.
// Secret `data`/`stringData` values, kubeconfig credentials (token, client-key-data,
// client-certificate-data, password), bearer tokens and Authorization headers are replaced
// by "<redacted sha256:XXXXXXXXXXXX>" (first 12 hex digits of the value's SHA-256), so a
// change is still visible and the value is not. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace spr::k8s {

std::string redactedDigest(const std::string& value);  // "<redacted sha256:...>"
// Redacts a Kubernetes object, or a List of them (items), recursively.
nlohmann::json redactObject(const nlohmann::json& object);
// Only a Secret's data/stringData values (and kubectl's last-applied copy of it) redacted;
// values already redacted stay as they are.
nlohmann::json redactSecretValues(const nlohmann::json& secret);
// Redacts a body of text: JSON (an object, a List, a watch event) is parsed and redacted;
// other text has token-like values after "token:", "Bearer " etc. redacted.
std::string redactText(const std::string& text);

}  // namespace spr::k8s
