#include "runtime/effects.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "adapters/k8s/openmcp.h"
#include "common/log.h"
#include "runtime/access.h"
#include "runtime/ca_bundle.h"
#include "runtime/ca_bundle_fetch.h"
#include "runtime/object_util.h"
#include "runtime/status.h"

namespace spr::runtime {

using nlohmann::json;
namespace lc = lifecycle;

namespace {

constexpr int kConflictRetries = 5;

lc::Outcome outcomeOf(const Status& s) {
  if (s.isOk()) return lc::Outcome::kSucceeded;
  return s.code() == Code::kInvalid || s.code() == Code::kInvalidArgument ? lc::Outcome::kUserError
                                                                          : lc::Outcome::kTransientError;
}

lc::Outcome outcomeOf(const providers::OpResult& r) {
  switch (r.kind) {
    case providers::ErrorKind::kNone: return lc::Outcome::kSucceeded;
    case providers::ErrorKind::kUser: return lc::Outcome::kUserError;
    case providers::ErrorKind::kTransient: return lc::Outcome::kTransientError;
  }
  return lc::Outcome::kTransientError;
}

void fail(EffectOutput& out, const Status& s) {
  out.done.outcome = outcomeOf(s);
  out.errorClass = codeName(s.code());
  out.done.message = s.message();
  out.unauthorized = s.code() == Code::kUnauthorized;
}

// The scope a provider op sees: clients to the onboarding, platform, MCP and workload
// clusters, built on demand for this one effect (the access dance runs inside the effect).
class Scope : public providers::ReconcileScope {
 public:
  Scope(const EffectExecutor::Config& cfg, TransportFactory* factory, Tape* tape, const json& object,
        const json& config, const std::atomic<bool>* abort)
      : cfg_(cfg), factory_(factory), tape_(tape), object_(object), config_(config), abort_(abort) {}

  [[nodiscard]] Status init() {
    auto onboarding = client("onboarding", cfg_.onboarding);
    if (!onboarding) return onboarding.status();
    onboarding_ = std::move(*onboarding);
    auto platform = client("platform", cfg_.platform);
    if (!platform) return platform.status();
    platform_ = std::move(*platform);
    return Status();
  }
  const json& providerConfig() const override { return config_; }
  k8s::Client& onboarding() override { return *onboarding_.client; }
  k8s::Client& platform() override { return *platform_.client; }

  // The MCP's ClusterRequest and the AccessRequest spr creates for this object.
  AccessTarget mcpTarget() const {
    const json& meta = object_["metadata"];
    std::string ns = meta.value("namespace", ""), name = meta.value("name", "");
    return AccessTarget{k8s::mcpNamespace(ns, name), name, cfg_.providerName + "-" + name, "mcp",
                        cfg_.provider->mcpAccessRules()};
  }
  bool deleting() const { return object_["metadata"].contains("deletionTimestamp"); }
  // True once mcp() found, for an object being deleted, that the MCP cluster is gone.
  bool mcpGone() const { return mcpGone_; }

  Result<k8s::Client*> mcp() override {
    if (mcp_.client) return mcp_.client.get();
    AccessTarget target = mcpTarget();
    if (deleting()) {
      auto gone = clusterGone(*platform_.client, target);
      if (!gone) return gone.status();
      mcpGone_ = *gone;
      if (mcpGone_)
        return Status(Code::kNotFound, "the MCP cluster is gone (ClusterRequest " + target.ns + "/" +
                                           target.clusterRequest + " deleted); what was deployed there went with it");
    }
    auto access = requestAccess(*platform_.client, target);
    if (!access) return access.status();
    auto c = client("mcp", *access);
    if (!c) return c.status();
    mcp_ = std::move(*c);
    return mcp_.client.get();
  }

  // Read through the recorded platform client: replay answers it from the tape.
  Result<std::optional<providers::CaBundle>> caBundle() override {
    return fetchCaBundle(*platform_.client, config_, cfg_.podNamespace);
  }
  std::string ownNamespace() const override { return namespaceOf(config_, cfg_.podNamespace); }

  Result<k8s::Client*> workload() override {
    if (workload_.client) return workload_.client.get();
    std::string name = "spr-workload-" + cfg_.providerName;
    json rules = cfg_.provider->workloadAccessRules();
    if (!rules.is_array() || rules.empty())
      return Status(Code::kInternal, "provider " + cfg_.providerName +
                                         " uses the workload cluster but declares no workloadAccessRules(); "
                                         "override Provider::workloadAccessRules() with the RBAC rules it needs there");
    AccessTarget target{"default", name, name, "workload", rules};
    auto access = ensureClusterAccess(*platform_.client, target, "workload");
    if (!access) return access.status();
    auto c = client("workload", *access);
    if (!c) return c.status();
    workload_ = std::move(*c);
    return workload_.client.get();
  }

 private:
  // A client and the (recording) transport it talks through; the transport outlives the client.
  struct Handle {
    std::unique_ptr<k8s::Transport> transport;
    std::unique_ptr<k8s::Client> client;
  };
  Result<Handle> client(const std::string& cluster, const k8s::ClusterConfig& config) {
    auto transport = factory_->make(cluster, config, tape_);
    if (!transport) return transport.status();
    Handle h;
    h.transport = std::move(*transport);
    k8s::RetryPolicy retry = cfg_.retry;
    if (!retry.sleepMs) retry.sleepMs = [abort = abort_](long ms) { abortableSleep(ms, *abort); };
    h.client = std::make_unique<k8s::Client>(*h.transport, retry);
    return h;
  }
  // A retry's wait, cut short by shutdown (the next attempt then fails at once).
  static void abortableSleep(long ms, const std::atomic<bool>& abort) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!abort.load() && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(20), end - std::chrono::steady_clock::now()));
  }

  const EffectExecutor::Config& cfg_;
  TransportFactory* factory_;
  Tape* tape_;
  const json& object_;
  const json& config_;
  const std::atomic<bool>* abort_;  // the executor's; outlives the scope
  Handle onboarding_, platform_, mcp_, workload_;
  bool mcpGone_ = false;
};

}  // namespace

EffectExecutor::EffectExecutor(Config config) : config_(std::move(config)) {
  if (!config_.factory) {
    ownedFactory_ = realTransportFactory(abort_);
    config_.factory = ownedFactory_.get();
  }
}

namespace {

struct Ctx {
  const EffectExecutor::Config& cfg;
  const EffectInput& in;
  Scope& scope;
  EffectOutput& out;
  k8s::GroupVersionResource api;
  std::string apiKind;
};

std::string nsOf(const json& o) { return o["metadata"].value("namespace", ""); }
std::string nameOf(const json& o) { return o["metadata"].value("name", ""); }

// The Create interrupted by a crash, run again: never blindly. Observe decides whether the
// first attempt reached the cluster; the result says which ("resumed", "found").
providers::OpResult resumeCreate(Ctx& c) {
  providers::ObserveResult o = c.cfg.provider->observe(c.in.object, c.scope);
  c.out.result = {{"resumed", true}};
  if (!o.result.ok()) return o.result;
  c.out.result["found"] = o.observation.exists;
  if (o.observation.exists) {
    c.out.done.message = "the Create interrupted by a restart had reached the cluster: Observe found the service";
    return o.result;
  }
  return c.cfg.provider->create(c.in.object, c.scope);
}

void providerOp(Ctx& c) {
  providers::Provider& p = *c.cfg.provider;
  const json& obj = c.in.object;
  providers::OpResult r;
  switch (c.in.command.op) {
    case lc::Op::kObserve: {
      providers::ObserveResult o = p.observe(obj, c.scope);
      r = o.result;
      c.out.done.exists = o.observation.exists;
      c.out.done.drift = o.observation.drift;
      c.out.done.ready = o.observation.ready;
      c.out.result = {{"exists", o.observation.exists}, {"drift", o.observation.drift}, {"ready", o.observation.ready}};
      if (r.ok()) c.out.done.message = o.observation.message;
      break;
    }
    case lc::Op::kCreate:
      if (c.in.resume) {
        r = resumeCreate(c);
        break;
      }
      r = p.create(obj, c.scope);
      break;
    case lc::Op::kUpdate: r = p.update(obj, c.scope); break;
    default: r = p.remove(obj, c.scope); break;
  }
  if (c.scope.mcpGone() && (c.in.command.op == lc::Op::kObserve || c.in.command.op == lc::Op::kDelete)) {
    // Deleting, and the MCP went first: nothing is left to delete, so deletion can finish.
    r = providers::OpResult::success();
    c.out.done.exists = false;
    c.out.done.message = "the MCP cluster is gone; what was deployed there went with it";
    if (c.in.command.op == lc::Op::kObserve) c.out.result = {{"exists", false}, {"drift", false}, {"ready", false}};
    c.out.result["mcpGone"] = true;
  }
  c.out.done.outcome = outcomeOf(r);
  if (!r.ok()) {
    c.out.done.message = r.message;
    c.out.errorClass = r.kind == providers::ErrorKind::kUser ? "UserError" : "Transient";
  }
  c.out.done.reason = r.reason;
  // Journaled so replay need not take the reason from the Transition's text.
  if (!r.reason.empty()) c.out.result["reason"] = r.reason;
}

// Asks the provider what blocks deletion; blocked: the reason and message the condition
// shows, the blockers in the journaled result. The MCP already gone blocks nothing.
void checkDeletion(Ctx& c) {
  auto blockers = c.cfg.provider->deletionBlockers(c.in.object, c.scope);
  if (c.scope.mcpGone()) return void(c.out.result = {{"blocked", false}, {"mcpGone", true}});
  if (!blockers) {
    fail(c.out, blockers.status());
    c.out.unauthorized = false;  // one kind short of a grant does not stop the operator
    return;
  }
  c.out.done.blocked = !blockers->empty();
  c.out.result = {{"blocked", c.out.done.blocked}, {"blockers", blockers->toJson()}};
  if (!c.out.done.blocked) return;
  c.out.done.reason = lc::kReasonUserResourcesPresent;
  c.out.done.message = blockers->message();
  c.out.result["reason"] = c.out.done.reason;
}

// GET the object, apply `mutate` (returns false = nothing to change), PUT; retry on 409.
void mutateObject(Ctx& c, const std::function<bool(json&)>& mutate) {
  for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
    auto current = c.scope.onboarding().get(c.api, nsOf(c.in.object), nameOf(c.in.object));
    if (!current && current.status().code() == Code::kNotFound) {
      c.out.objectGone = true;
      c.out.result = {{"objectGone", true}};
      return;
    }
    if (!current) return fail(c.out, current.status());
    json obj = *current;
    if (!mutate(obj)) {
      c.out.updatedObject = obj;
      return;
    }
    auto updated = c.scope.onboarding().update(c.api, nsOf(obj), obj);
    if (updated) {
      c.out.updatedObject = *updated;
      return;
    }
    if (updated.status().code() == Code::kNotFound) {
      c.out.objectGone = true;
      return;
    }
    if (updated.status().code() != Code::kConflict) return fail(c.out, updated.status());
  }
  fail(c.out, Status(Code::kConflict,
                     "object kept changing; gave up after " + std::to_string(kConflictRetries) + " conflicts"));
}

bool setFinalizer(json& obj, bool present) {
  json& meta = obj["metadata"];
  json finalizers = meta.contains("finalizers") && meta["finalizers"].is_array() ? meta["finalizers"] : json::array();
  json next = json::array();
  bool had = false;
  for (const auto& f : finalizers) {
    if (f.is_string() && f.get<std::string>() == kFinalizer) {
      had = true;
      if (!present) continue;
    }
    next.push_back(f);
  }
  if (had == present) return false;
  if (present) next.push_back(kFinalizer);
  meta["finalizers"] = next;
  return true;
}

bool clearAnnotation(json& obj) {
  json& meta = obj["metadata"];
  if (!meta.contains("annotations") || !meta["annotations"].is_object() ||
      !meta["annotations"].contains(kOperationAnnotation))
    return false;
  meta["annotations"].erase(kOperationAnnotation);
  return true;
}

void postEvent(Ctx& c, const json& obj, const lc::StatusView& view) {
  const json& meta = obj["metadata"];
  const bool blocked = view.reason == lc::kReasonUserResourcesPresent;
  int64_t now = c.cfg.clock->nowUnixNanos();
  json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"generateName", nameOf(obj) + "."}, {"namespace", nsOf(obj)}}},
      {"involvedObject",
       {{"apiVersion", c.api.group + "/" + c.api.version},
        {"kind", c.apiKind},
        {"name", nameOf(obj)},
        {"namespace", nsOf(obj)},
        {"uid", meta.value("uid", "")},
        {"resourceVersion", meta.value("resourceVersion", "")}}},
      {"reason", blocked ? std::string(kConditionDeletionBlocked) : view.phase},
      {"message", conditionMessage(view.message.empty() ? view.reason : view.reason + ": " + view.message)},
      {"type", !blocked && (view.ready || view.phase != "Progressing" || view.reason == lc::kReasonProgressing)
                   ? "Normal"
                   : "Warning"},
      {"source", {{"component", "spr-" + c.cfg.providerName}}},
      {"firstTimestamp", rfc3339(now)},
      {"lastTimestamp", rfc3339(now)},
      {"count", 1}};
  k8s::GroupVersionResource events{"", "v1", "events", true};
  auto created = c.scope.onboarding().create(events, nsOf(obj), event);
  if (!created)
    log::warn("cannot record Event",
              {{"object", nsOf(obj) + "/" + nameOf(obj)}, {"error", created.status().toString()}});
}

void writeStatus(Ctx& c) {
  lc::StatusView view = c.in.command.status;
  if (view.reason == lc::kReasonConfigNotFound) {
    view.message =
        configNotFoundMessage(c.cfg.providerConfigName.empty() ? c.cfg.providerName : c.cfg.providerConfigName,
                              c.cfg.provider->kinds().config.group + "/" + c.cfg.provider->kinds().config.version);
    // The offering is withdrawn: keep no credentials to the tenant's MCP for it (they are
    // asked for again once a ProviderConfig is back).
    auto released = releaseAccess(c.scope.platform(), c.scope.mcpTarget());
    if (!released) return fail(c.out, released.status());
    if (!released->empty()) c.out.result["released"] = *released;
  }
  json obj = c.in.object;
  for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
    json previous = obj.value("status", json::object());
    std::string oldPhase = previous.is_object() ? previous.value("phase", "") : "";
    const bool newlyBlocked = view.reason == lc::kReasonUserResourcesPresent && !deletionBlockedIn(previous);
    obj["status"] = buildStatus(view, previous, c.cfg.clock->nowUnixNanos());
    auto updated = c.scope.onboarding().updateStatus(c.api, nsOf(obj), obj);
    if (updated) {
      c.out.updatedObject = *updated;
      if (oldPhase != view.phase || newlyBlocked) postEvent(c, *updated, view);
      return;
    }
    Code code = updated.status().code();
    if (code == Code::kNotFound) {
      c.out.objectGone = true;
      return;
    }
    if (code != Code::kConflict) return fail(c.out, updated.status());
    auto fresh = c.scope.onboarding().get(c.api, nsOf(obj), nameOf(obj));  // 409: re-read and retry
    if (!fresh) return fail(c.out, fresh.status());
    obj = *fresh;
  }
  fail(c.out, Status(Code::kConflict,
                     "status kept conflicting; gave up after " + std::to_string(kConflictRetries) + " tries"));
}

void dispatch(Ctx& c);
void thrown(EffectOutput& out, lc::Op op, const std::string& what);

}  // namespace

EffectOutput EffectExecutor::run(const EffectInput& input) {
  EffectOutput out;
  out.done.effectId = input.command.effectId;
  out.done.op = input.command.op;
  Tape tape;
  Scope scope(config_, config_.factory, &tape, input.object, input.config, abort_.get());
  Status ready = scope.init();
  if (!ready.isOk()) {
    fail(out, ready);
    out.tape = tape.take();
    return out;
  }
  Ctx c{config_, input, scope, out, config_.provider->kinds().api, config_.provider->kinds().apiKind};
  // The exception boundary around provider code (as controller-runtime recovers panics):
  // a provider that throws fails this effect as transient, with its message, and the
  // operator carries on. The tape keeps the requests made before the throw, so replay
  // re-runs into the same throw.
  try {
    dispatch(c);
  } catch (const std::exception& e) {
    thrown(out, input.command.op, e.what());
  } catch (...) {
    thrown(out, input.command.op, "an exception that is not a std::exception");
  }
  out.tape = tape.take();
  // Finished after shutdown began: a call may have been cut short, so what it did is not
  // known (a completion that happens to be whole is resolved the same way, harmlessly).
  out.interrupted = abort_->load();
  return out;
}

namespace {

void dispatch(Ctx& c) {
  switch (c.in.command.op) {
    case lc::Op::kObserve:
    case lc::Op::kCreate:
    case lc::Op::kUpdate:
    case lc::Op::kDelete: providerOp(c); break;
    case lc::Op::kAddFinalizer: mutateObject(c, [](json& o) { return setFinalizer(o, true); }); break;
    case lc::Op::kRemoveFinalizer:
      if (c.scope.deleting()) {
        // The request is gone: its AccessRequest and kubeconfig Secret go too (recorded in
        // this effect's tape), before the finalizer, so a crash in between repeats both.
        auto released = releaseAccess(c.scope.platform(), c.scope.mcpTarget());
        if (!released) {
          fail(c.out, released.status());
          break;
        }
        mutateObject(c, [](json& o) { return setFinalizer(o, false); });
        if (!released->empty()) c.out.result["released"] = *released;
        break;
      }
      mutateObject(c, [](json& o) { return setFinalizer(o, false); });
      break;
    case lc::Op::kClearOperationAnnotation: mutateObject(c, clearAnnotation); break;
    case lc::Op::kWriteStatus: writeStatus(c); break;
    case lc::Op::kCheckDeletion: checkDeletion(c); break;
  }
}

void thrown(EffectOutput& out, lc::Op op, const std::string& what) {
  out.done.outcome = lc::Outcome::kTransientError;
  out.done.exists = false;
  out.done.drift = false;
  out.done.ready = true;
  out.done.reason.clear();
  out.done.message = std::string(lc::opName(op)) + " threw: " + what;
  out.errorClass = "ProviderException";
  out.result = json::object();
  out.updatedObject = json();
  out.objectGone = false;
  log::error("provider threw; the effect fails as transient", {{"op", lc::opName(op)}, {"error", what}});
}

}  // namespace

}  // namespace spr::runtime
