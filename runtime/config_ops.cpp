// EffectExecutor::clearConfigOperation: the ProviderConfig's `reconcile` annotation, removed
// once every request of the provider was re-reconciled for it (runtime/RECORDS.md).
#include "core/fold/fold_input.h"
#include "runtime/ca_bundle.h"
#include "runtime/effects.h"

namespace spr::runtime {

using nlohmann::json;

namespace {

constexpr int kClearAttempts = 5;

void failed(EffectOutput& out, const Status& s) {
  out.done.outcome = lifecycle::Outcome::kTransientError;
  out.errorClass = codeName(s.code());
  out.done.message = s.message();
}

// One GET + PUT: true when done (cleared, already gone, or not "reconcile" any more).
bool clearOnce(k8s::Client& client, const k8s::GroupVersionResource& gvr, const std::string& name, EffectOutput& out) {
  auto live = client.get(gvr, "", name);
  if (!live && live.status().code() == Code::kNotFound) {
    out.result = {{"objectGone", true}};
    return true;
  }
  if (!live) {
    failed(out, live.status());
    return true;
  }
  if (operationOf(*live) != "reconcile") return true;
  json next = *live;
  next["metadata"]["annotations"].erase(fold::kOperationAnnotation);
  auto updated = client.update(gvr, "", next);
  if (updated) {
    out.result = {{"cleared", true}};
    return true;
  }
  if (updated.status().code() == Code::kConflict) return false;
  failed(out, updated.status());
  return true;
}

}  // namespace

EffectOutput EffectExecutor::clearConfigOperation(const json& config) {
  EffectOutput out;
  out.done.op = lifecycle::Op::kClearOperationAnnotation;
  Tape tape;
  auto transport = config_.factory->make("platform", config_.platform, &tape);
  if (!transport) {
    failed(out, transport.status());
    return out;
  }
  k8s::Client client(**transport, config_.retry);
  const auto gvr = config_.provider->kinds().config;
  const std::string name = config.value("metadata", json::object()).value("name", std::string());
  bool done = false;
  for (int attempt = 0; attempt < kClearAttempts && !done; ++attempt) done = clearOnce(client, gvr, name, out);
  if (!done) failed(out, Status(Code::kConflict, "ProviderConfig " + name + " kept changing"));
  out.tape = tape.take();
  return out;
}

}  // namespace spr::runtime
