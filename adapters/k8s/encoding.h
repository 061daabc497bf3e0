// Small text helpers for the adapter: base64 (kubeconfig *-data fields, Secret data),
// URL query escaping and hex. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>

namespace spr::k8s {

// Standard base64 (RFC 4648, padding optional, whitespace ignored); nullopt when malformed.
std::optional<std::string> base64Decode(const std::string& text);
std::string base64Encode(const std::string& bytes);
// Percent-encodes a query parameter value (RFC 3986 unreserved characters pass through).
std::string urlEncode(const std::string& value);
std::string toLower(std::string text);

}  // namespace spr::k8s
