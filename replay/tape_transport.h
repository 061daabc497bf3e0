// Transports that answer from a recorded tape: the k-th request an effect makes during
// replay must equal the k-th entry of its EffectCompleted's tape (cluster, method, path,
// and the request body compared as JSON after k8s::redactText, since tapes are redacted);
// it is then answered with the recorded status and body (or transport error). The first
// request that differs, or that the tape does not have, is kept as the session's mismatch
// and every later request fails. Not thread-safe: one TapeSession per effect, one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/journal/record.h"
#include "replay/effect_checker.h"
#include "runtime/effects.h"

namespace spr::replay {

// Clock readings a replayed effect may have stamped into a body ("lastTransitionTime",
// "firstTimestamp", "lastTimestamp"): the live run read its clock somewhere in
// [fromNanos, toNanos]; replay's clock reads `nowNanos`.
struct ClockWindow {
  int64_t fromNanos = 0, toNanos = 0, nowNanos = 0;
};

// The first place two JSON documents differ, as "<json pointer>: <value>" pairs, or
// nullopt when equal. A clock-stamped field counts as equal when the produced value is
// replay's clock reading and the recorded one lies in the window.
struct JsonDifference {
  std::string path, recorded, produced;
};
std::optional<JsonDifference> firstJsonDifference(const nlohmann::json& recorded, const nlohmann::json& produced,
                                                  const ClockWindow& window);

class TapeSession {
 public:
  TapeSession(const journal::EffectCompleted& recorded, uint64_t recordSeq, ClockWindow window);
  // Matches one request (made to `cluster`) against the next tape entry and answers it.
  Result<k8s::HttpResponse> answer(const std::string& cluster, const k8s::HttpRequest& request);
  // After the effect: the tape entries it did not reach (a divergence too).
  void finish();
  const std::optional<EffectMismatch>& mismatch() const { return mismatch_; }
  size_t used() const { return next_; }

 private:
  std::string describe(size_t index, const journal::TapeEntry& entry) const;

  const journal::EffectCompleted& recorded_;
  uint64_t seq_;
  ClockWindow window_;
  size_t next_ = 0;
  std::optional<EffectMismatch> mismatch_;
};

// A TransportFactory whose transports answer from the current session (set per effect).
class TapeTransportFactory : public runtime::TransportFactory {
 public:
  void setSession(TapeSession* session) { session_ = session; }
  Result<std::unique_ptr<k8s::Transport>> make(const std::string& clusterName, const k8s::ClusterConfig& config,
                                               runtime::Tape* tape) override;

 private:
  TapeSession* session_ = nullptr;
};

// A recorded response body, with a redacted AccessRequest kubeconfig Secret given a
// placeholder kubeconfig (no real connection is made in replay: every request to the
// cluster it names is answered from the tape as well). Other bodies are returned as is.
std::string replayResponseBody(const std::string& cluster, const journal::TapeEntry& entry);

}  // namespace spr::replay
