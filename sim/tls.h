// The sim's TLS material, generated in memory at start: a self-signed CA and a server
// certificate it signs for 127.0.0.1 and localhost (EC P-256). Owned via unique_ptrs
// with OpenSSL deleters. Immutable after generate(); safe to read from any thread.
#pragma once

#include <string>

#include "common/status.h"
#include "common/tls.h"

namespace spr::sim {

struct TlsMaterial {
  tls::CertPtr caCert;
  tls::KeyPtr caKey;
  tls::CertPtr serverCert;
  tls::KeyPtr serverKey;
  std::string caPem;  // for kubeconfigs' certificate-authority-data

  [[nodiscard]] static Result<TlsMaterial> generate();
};

// Standard base64 (with padding), for kubeconfig *-data fields and Secret data.
std::string base64Encode(const std::string& in);
// 32 random bytes as 64 hex characters (bearer tokens).
std::string randomToken();

}  // namespace spr::sim
