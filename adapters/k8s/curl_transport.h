// The libcurl Transport: TLS with CA data/file, client certificates, bearer token or token
// file (re-read when it changes, as projected service-account tokens rotate), proxy-free.
// Thread-safe: each call uses its own (pooled) easy handle.
#pragma once

#include <atomic>
#include <memory>

#include "adapters/k8s/config.h"
#include "adapters/k8s/transport.h"

namespace spr::k8s {

struct CurlOptions {
  long connectTimeoutMs = 5000;
  long requestTimeoutMs = 30000;  // whole request; watches do not use this transport
  // Shutdown: once *abort is true, a call in flight ends within about a second (curl's
  // progress callback checks it, in every phase of the transfer) and new calls fail at
  // once, both kUnavailable "aborted: spr is stopping". Null = calls run to their timeouts.
  std::shared_ptr<const std::atomic<bool>> abort;
};

// The message of a call failed by CurlOptions::abort, for callers that tell it apart.
inline constexpr const char* kAbortedMessage = "aborted: spr is stopping";

// Fails (kInvalidArgument) when the config cannot be used: no server, unreadable CA or key file.
[[nodiscard]] Result<std::unique_ptr<Transport>> makeCurlTransport(const ClusterConfig& config,
                                                                   CurlOptions options = {});

}  // namespace spr::k8s
