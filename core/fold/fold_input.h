// The one mapping between journal records and the lifecycle fold (runtime/RECORDS.md):
// which input a record carries, which record an input, command or fold result becomes.
// The runtime builds its records with these functions and replay reads them back with the
// same ones; typed fields first, with fallbacks for records written before they existed.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/journal/record.h"
#include "core/statemachine/lifecycle.h"

namespace spr::fold {

// The finalizer spr puts on API objects and the annotation users set (openMCP's names).
inline constexpr const char* kFinalizer = "services.openmcp.cloud/spr";
inline constexpr const char* kOperationAnnotation = "openmcp.cloud/operation";

// ---- Inputs from what was observed.
// generation, deletionTimestamp, our finalizer, the openmcp.cloud/operation annotation.
lifecycle::ObjectSeen objectSeenOf(const nlohmann::json& object);
// ObjectGone for a DELETED watch event, else objectSeenOf(object).
lifecycle::Input objectInputOf(journal::WatchType type, const nlohmann::json& object);
// The ProviderConfig as the fold sees it (absent / being deleted -> present=false). Its hash
// covers the spec and the runtime's stamps (CA bundle digest, reconcile count) on the
// journaled copy, so a changed bundle or a `reconcile` request re-reconciles every object.
lifecycle::ConfigSeen configSeenOf(journal::WatchType type, const nlohmann::json& object);
// True for a ProviderConfig watch event (cluster "platform").
bool isConfigRecord(const journal::Record& record);
// The fold input a record carries: Observed, TimerFired, EffectCompleted; nullopt for the
// others (EffectRequested, Transition, Snapshot). `legacyEvent` is the event text of the
// Transition that folded it: journals written before the provider's reason was recorded
// (typed or in resultJson) have it only there ("... reason=X ...").
std::optional<lifecycle::Input> inputOf(const journal::Record& record, const std::string& legacyEvent = "");

// ---- Effects.
lifecycle::Outcome outcomeOf(journal::Outcome outcome);
journal::Outcome journalOutcomeOf(lifecycle::Outcome outcome);
// "Observe" -> Op::kObserve, ...; kInvalidArgument naming the text for an unknown name.
[[nodiscard]] Result<lifecycle::Op> opFromName(const std::string& name);
// The EffectCompleted record of an effect's result. `result` is the executor's structured
// answer (Observe: exists/drift/ready); the provider's reason is also a typed field.
journal::EffectCompleted completedOf(const lifecycle::EffectDone& done, const std::string& errorClass,
                                     const nlohmann::json& result, std::vector<journal::TapeEntry> tape);
// The EffectDone the fold takes for an EffectCompleted record (what the runtime folds
// after journaling it, and what replay folds).
lifecycle::EffectDone effectDoneOf(const journal::EffectCompleted& completed);
// The EffectRequested record of a command; `context` (what the effect starts from) is
// journaled as inputJson, plus the status of a WriteStatus.
journal::EffectRequested requestedOf(const lifecycle::Command& command, nlohmann::json context, uint64_t causeSeq);
// The command an EffectRequested record journals (op, effect id, WriteStatus's status);
// kInvalidArgument naming the effect when it cannot be read.
[[nodiscard]] Result<lifecycle::Command> commandOf(const journal::EffectRequested& requested);

// ---- Transitions.
// The Transition record of folding `input` in phase `from` into `result`.
journal::Transition transitionOf(lifecycle::Phase from, const lifecycle::FoldResult& result,
                                 const lifecycle::Input& input, uint64_t inputSeq);
// Whether a Transition records a rejected input (typed flag; older records say so only
// by the "rejected: " prefix of their event text).
bool wasRejected(const journal::Transition& transition);

// ---- Shared small parsers.
// "30s", "1m", "1h30m", "500ms" or a number of seconds -> milliseconds; fallback if absent/bad.
int64_t parseDurationMs(const nlohmann::json& value, int64_t fallbackMs);
// FNV-1a 64 of `text`, 16 hex digits (stable across builds and machines).
std::string fnv1aHex(const std::string& text);

}  // namespace spr::fold
