// What the local API server knows about the bearer tokens it accepts, for TokenReview
// (authentication.k8s.io/v1) and SubjectAccessReview (authorization.k8s.io/v1) and for the
// ServiceAccount tokens it issues (TokenRequest, `kubectl create token`). Plain values;
// the owning Cluster guards them with its mutex.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace spr::sim {

// The audience kube-apiserver (kind, kubeadm) gives tokens when none is asked for.
inline constexpr const char* kDefaultTokenAudience = "https://kubernetes.default.svc.cluster.local";

// A ServiceAccount token issued by POST .../serviceaccounts/<name>/token. Valid until
// `expires`, and only while the ServiceAccount with that uid exists.
struct IssuedToken {
  std::string ns, serviceAccount, serviceAccountUid;
  std::string credentialId;  // the token's jti
  std::vector<std::string> audiences;
  std::chrono::system_clock::time_point expires;
};

}  // namespace spr::sim
