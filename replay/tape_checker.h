// The tape-backed EffectChecker: re-runs each recorded effect through this build's
// EffectExecutor and provider, with every cluster request matched against the recorded
// tape and answered from it (tape_transport.h), then compares the outcome, message and
// result (Observe's exists/drift/ready, the provider's reason) with the EffectCompleted.
// Not thread-safe: one checker per replay, used from the replay thread.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "core/journal/record.h"
#include "providers/provider.h"
#include "replay/effect_checker.h"
#include "replay/tape_transport.h"

namespace spr::replay {

class TapeEffectChecker : public EffectChecker {
 public:
  // `provider` must serve the journal's API kind. `providerName` is the live
  // --provider-name, used when no ProviderConfig record names it ("" = provider->name()).
  TapeEffectChecker(std::unique_ptr<providers::Provider> provider, std::string providerName = "");
  EffectCheck check(const EffectContext& context, const journal::EffectCompleted& recorded) override;

 private:
  std::unique_ptr<providers::Provider> provider_;
  std::string providerName_;
  TapeTransportFactory factory_;
};

// The built-in provider serving `apiObject`'s group/version/kind, or kNotFound naming it.
[[nodiscard]] Result<std::unique_ptr<providers::Provider>> providerServing(const journal::ObjectId& apiObject);

}  // namespace spr::replay
