// Builds the `status` stanza of a ServiceProviderAPI object from the fold's StatusView,
// per Kubernetes API conventions and openMCP's runtime: observedGeneration, phase
// (Progressing | Ready | Terminating) and a `Ready` condition whose lastTransitionTime
// changes only when its status flips. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/fold/fold_input.h"
#include "core/statemachine/lifecycle.h"

namespace spr::runtime {

// The finalizer spr puts on every API object it manages.
inline constexpr const char* kFinalizer = fold::kFinalizer;
inline constexpr const char* kOperationAnnotation = fold::kOperationAnnotation;

// The condition a request carries while users' resources block its deletion (True, reason
// UserResourcesPresent, the message naming them); removed once deletion proceeds.
inline constexpr const char* kConditionDeletionBlocked = "DeletionBlocked";
// True when `status` (an object's status stanza) carries DeletionBlocked=True.
bool deletionBlockedIn(const nlohmann::json& status);

// RFC 3339 UTC with seconds ("2026-11-24T11:45:00Z").
std::string rfc3339(int64_t unixNanos);

// `previous` is the object's current status (may be null/empty); `nowUnixNanos` stamps a
// flipped condition.
nlohmann::json buildStatus(const lifecycle::StatusView& view, const nlohmann::json& previous, int64_t nowUnixNanos);

// A condition message safe to show: control characters (C0 but tab/newline, which become
// spaces; DEL; C1) and bidirectional overrides/isolates/marks removed, invalid UTF-8 bytes
// replaced by U+FFFD, and at most kMaxConditionMessage bytes (Kubernetes' limit for a
// condition message is 32,768 characters), a cut marked "... [N bytes, cut]" (N = the whole).
inline constexpr size_t kMaxConditionMessage = 32768;
std::string conditionMessage(const std::string& text);

// The message for a missing ProviderConfig, naming the expected object.
std::string configNotFoundMessage(const std::string& providerName, const std::string& configGroupVersion);

}  // namespace spr::runtime
