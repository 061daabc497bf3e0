// Self-signed TLS material made in memory with OpenSSL (EC P-256, SHA-256): a CA and the
// leaf certificates it signs, for local servers that have no certificate of their own
// (the local API server, the metrics endpoint with --metrics-secure and no cert files).
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace spr::tls {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using CertPtr = std::unique_ptr<X509, X509Deleter>;
using KeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// A new EC P-256 key; null if OpenSSL fails.
KeyPtr newKey();
// A certificate for `key`, valid from an hour ago for a year, signed by `issuer`/`issuerKey`
// (issuer null: self-signed with issuerKey). A CA may sign certificates; a server
// certificate is for 127.0.0.1 and localhost. Null if OpenSSL fails.
enum class CertKind { kCa, kServer };
CertPtr newCert(const char* commonName, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuerKey, long serial, CertKind kind);
// PEM text of a certificate.
std::string pem(X509* cert);

}  // namespace spr::tls
