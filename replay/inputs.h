// How journal records become lifecycle fold inputs during replay, exactly as the runtime
// builds them (runtime/RECORDS.md): Observed -> ObjectSeen/ObjectGone (runtime's
// objectSeenOf), the ProviderConfig's Observed -> ConfigSeen, TimerFired, EffectCompleted
// -> EffectDone. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "core/journal/record.h"
#include "core/statemachine/lifecycle.h"

namespace spr::replay {

// True for a ProviderConfig watch event (cluster "platform").
bool isConfigRecord(const journal::Record& record);

// The ConfigSeen the runtime folds for a ProviderConfig watch event (Reconciler::configSeen).
lifecycle::ConfigSeen configSeenOf(const journal::Observed& observed);

// The fold input an API object's record carries; nullopt for records that are not inputs
// (EffectRequested, Transition, Snapshot). `recordedEvent` is the Transition's event text:
// the runtime does not journal the provider's reason in EffectCompleted, only in the
// folded input's description ("... reason=X ..."), so it is taken from there.
std::optional<lifecycle::Input> inputOf(const journal::Record& record, const std::string& recordedEvent);

// "Observe" -> Op::kObserve, ...; kInvalidArgument for an unknown name.
[[nodiscard]] Result<lifecycle::Op> opFromName(const std::string& name);

// The command an EffectRequested record journals (op, effect id, WriteStatus's status).
[[nodiscard]] Result<lifecycle::Command> commandOf(const journal::EffectRequested& requested);

}  // namespace spr::replay
