#include "common/tls.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace spr::tls {

namespace {

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

}  // namespace

KeyPtr newKey() { return KeyPtr(EVP_EC_gen("P-256")); }

CertPtr newCert(const char* commonName, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuerKey, long serial, CertKind kind) {
  CertPtr cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 365);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(commonName), -1, -1, 0);
  X509* iss = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(iss));
  bool ok = kind == CertKind::kCa
                ? addExt(cert.get(), iss, NID_basic_constraints, "critical,CA:TRUE") &&
                      addExt(cert.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign")
                : addExt(cert.get(), iss, NID_basic_constraints, "critical,CA:FALSE") &&
                      addExt(cert.get(), iss, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
                      addExt(cert.get(), iss, NID_ext_key_usage, "serverAuth") &&
                      addExt(cert.get(), iss, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  if (!ok || X509_sign(cert.get(), issuerKey, EVP_sha256()) == 0) return nullptr;
  return cert;
}

std::string pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return {};
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

}  // namespace spr::tls
