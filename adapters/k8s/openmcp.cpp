#include "adapters/k8s/openmcp.h"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <memory>

namespace spr::k8s {

std::string openmcpUuid(const std::string& ns, const std::string& name) {
  std::array<unsigned char, 16> b{};
  const std::string input = ns + "/" + name;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_shake128(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx.get(), input.data(), input.size()) == 1 &&
            EVP_DigestFinalXOF(ctx.get(), b.data(), b.size()) == 1;
  if (!ok) return "";  // OpenSSL without SHAKE128: not a supported build
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x80);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  std::string out;
  char hex[3];
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    std::snprintf(hex, sizeof hex, "%02x", b[i]);
    out += hex;
  }
  return out;
}

std::string mcpNamespace(const std::string& ns, const std::string& name) { return "mcp--" + openmcpUuid(ns, name); }

}  // namespace spr::k8s
