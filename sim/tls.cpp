#include "sim/tls.h"

#include <openssl/rand.h>

namespace spr::sim {

Result<TlsMaterial> TlsMaterial::generate() {
  TlsMaterial m;
  m.caKey = tls::newKey();
  m.serverKey = tls::newKey();
  if (!m.caKey || !m.serverKey) return Status(Code::kInternal, "OpenSSL could not generate an EC P-256 key");
  m.caCert = tls::newCert("spr-sim-ca", m.caKey.get(), nullptr, m.caKey.get(), 1, tls::CertKind::kCa);
  if (!m.caCert) return Status(Code::kInternal, "OpenSSL could not create the sim's CA certificate");
  m.serverCert = tls::newCert("127.0.0.1", m.serverKey.get(), m.caCert.get(), m.caKey.get(), 2, tls::CertKind::kServer);
  if (!m.serverCert) return Status(Code::kInternal, "OpenSSL could not create the sim's server certificate");
  m.caPem = tls::pem(m.caCert.get());
  return m;
}

std::string base64Encode(const std::string& in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

std::string randomToken() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1) return {};
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : buf) out += {kHex[b >> 4], kHex[b & 15]};
  return out;
}

}  // namespace spr::sim
