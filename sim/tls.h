// The sim's TLS material, generated in memory at start: a self-signed CA and a server
// certificate it signs for 127.0.0.1 and localhost (EC P-256). Owned via unique_ptrs
// with OpenSSL deleters. Immutable after generate(); safe to read from any thread.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace spr::sim {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

struct TlsMaterial {
  std::unique_ptr<X509, X509Deleter> caCert;
  std::unique_ptr<EVP_PKEY, PkeyDeleter> caKey;
  std::unique_ptr<X509, X509Deleter> serverCert;
  std::unique_ptr<EVP_PKEY, PkeyDeleter> serverKey;
  std::string caPem;  // for kubeconfigs' certificate-authority-data

  [[nodiscard]] static Result<TlsMaterial> generate();
};

// Standard base64 (with padding), for kubeconfig *-data fields and Secret data.
std::string base64Encode(const std::string& in);
// 32 random bytes as 64 hex characters (bearer tokens).
std::string randomToken();

}  // namespace spr::sim
