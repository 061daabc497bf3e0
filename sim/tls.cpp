#include "sim/tls.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

namespace spr::sim {

namespace {

std::unique_ptr<EVP_PKEY, PkeyDeleter> newKey() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  return std::unique_ptr<EVP_PKEY, PkeyDeleter>(key);
}

bool addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

std::unique_ptr<X509, X509Deleter> newCert(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuerKey,
                                           long serial, bool ca) {
  std::unique_ptr<X509, X509Deleter> cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 365);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* iss = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(iss));
  bool ok = ca ? addExt(cert.get(), iss, NID_basic_constraints, "critical,CA:TRUE") &&
                     addExt(cert.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign")
               : addExt(cert.get(), iss, NID_basic_constraints, "critical,CA:FALSE") &&
                     addExt(cert.get(), iss, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
                     addExt(cert.get(), iss, NID_ext_key_usage, "serverAuth") &&
                     addExt(cert.get(), iss, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  if (!ok || X509_sign(cert.get(), issuerKey, EVP_sha256()) == 0) return nullptr;
  return cert;
}

}  // namespace

Result<TlsMaterial> TlsMaterial::generate() {
  TlsMaterial m;
  m.caKey = newKey();
  m.serverKey = newKey();
  if (!m.caKey || !m.serverKey) return Status(Code::kInternal, "OpenSSL could not generate an EC P-256 key");
  m.caCert = newCert("spr-sim-ca", m.caKey.get(), nullptr, m.caKey.get(), 1, true);
  if (!m.caCert) return Status(Code::kInternal, "OpenSSL could not create the sim's CA certificate");
  m.serverCert = newCert("127.0.0.1", m.serverKey.get(), m.caCert.get(), m.caKey.get(), 2, false);
  if (!m.serverCert) return Status(Code::kInternal, "OpenSSL could not create the sim's server certificate");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, m.caCert.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  m.caPem.assign(data, static_cast<size_t>(len));
  BIO_free(bio);
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
