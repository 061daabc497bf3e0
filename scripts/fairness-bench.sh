#!/usr/bin/env bash
# Fair queueing, measured: N requests (default 300) polling every 10 s keep `spr run`
# busy; then one request is deleted and the time from its journaled watch event to the
# fold of that event is read from the journal (audit rows), along with how many requests
# had a status 60 s after they were created. Run it with two builds to compare:
#   scripts/fairness-bench.sh [--requests N] [--spr PATH] [--workers N] [--settle S]
#                             [--latency-ms MS] [--error-rate R]   (the sim's faults)
set -euo pipefail
requests=300 workers=8 settle=40 spr="" latency=0 errors=0
here=$(cd "$(dirname "$0")/.." && pwd)
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) requests=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    --spr) spr=$2; shift 2 ;;
    --latency-ms) latency=$2; shift 2 ;;
    --error-rate) errors=$2; shift 2 ;;
    *) echo "fairness-bench: unknown flag '$1'" >&2; exit 2 ;;
  esac
done
spr=${spr:-$here/build/cli/spr}
[ -x "$spr" ] || { echo "fairness-bench: no spr binary at $spr; pass --spr PATH" >&2; exit 2; }
work=$(mktemp -d /tmp/spr-fair.XXXXXX) kc=$work/kubeconfig
k() { local i; for i in 1 2 3 4 5 6 7 8; do kubectl --kubeconfig "$kc" --request-timeout=30s "$@" && return 0; sleep 0.3; done; return 1; }
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
"$spr" sim --kubeconfig-out "$kc" --deployment-ready-delay-ms 200 >"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$kc" ] && k --context onboarding get ns >/dev/null 2>&1 && break; sleep 0.1; done
"$spr" init --provider-name crossplane --onboarding-kubeconfig "$kc#onboarding" --platform-kubeconfig "$kc#platform" >/dev/null 2>&1
k --context platform apply -f "$here/deploy/providerconfig-crossplane.yaml" >/dev/null  # pollInterval: 10s
"$spr" run --provider-name crossplane --journal "$work/journal" --workers "$workers" \
  --onboarding-kubeconfig "$kc#onboarding" --platform-kubeconfig "$kc#platform" 2>"$work/run.log" &
pids+=($!)
{
  for i in $(seq 0 $((requests - 1))); do
    ns="project-fair-$((i % 10))--ws-1"
    printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$ns"
    printf -- '---\napiVersion: core.openmcp.cloud/v2alpha1\nkind: ManagedControlPlane\nmetadata: {name: mcp-%s, namespace: %s}\nspec: {}\n' "$i" "$ns"
    printf -- '---\napiVersion: crossplane.services.open-control-plane.io/v1alpha1\nkind: Crossplane\nmetadata: {name: mcp-%s, namespace: %s}\nspec: {version: "v2.0.8", providers: [{name: provider-kubernetes, version: v1.2.1}]}\n' "$i" "$ns"
  done
} >"$work/requests.yaml"
t0=$(date +%s)
k --context onboarding apply -f "$work/requests.yaml" >/dev/null
# The sim's faults start once the requests exist (kubectl apply of them all would not get through).
server=$(k config view --raw --minify --context onboarding -o jsonpath='{.clusters[0].cluster.server}'); server=${server%%/clusters/*}
token=$(k config view --raw --minify --context onboarding -o jsonpath='{.users[0].user.token}')
curl -skf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$server/admin/faults" \
  -d "{\"errorRate\":$errors,\"latencyMs\":$latency}" >/dev/null
sleep $((60 - ($(date +%s) - t0) > 0 ? 60 - ($(date +%s) - t0) : 0))
with_status=$(k --context onboarding get crossplanes -A -o json | python3 -c '
import json, sys; print(sum(1 for i in json.load(sys.stdin)["items"] if i.get("status", {}).get("phase")))')
ready=$(k --context onboarding get crossplanes -A -o json | python3 -c '
import json, sys; print(sum(1 for i in json.load(sys.stdin)["items"] if i.get("status", {}).get("phase") == "Ready"))')
sleep "$settle"  # polls every 10 s by now
k --context onboarding -n project-fair-0--ws-1 delete crossplane mcp-0 --wait=false >/dev/null
for _ in $(seq 1 300); do
  k --context onboarding -n project-fair-0--ws-1 get crossplane mcp-0 >/dev/null 2>&1 || break
  sleep 1
done
"$spr" audit --journal "$work/journal" --tenant project-fair-0--ws-1 --object mcp-0 --format jsonl >"$work/audit.jsonl"
python3 - "$work/audit.jsonl" "$requests" "$with_status" "$ready" "$latency" "$errors" <<'EOF'
import json, sys
from datetime import datetime
rows = [json.loads(l) for l in open(sys.argv[1])]
def t(r): return datetime.fromisoformat(r["time"][:26].rstrip("Z"))
deleting = next(r for r in rows if r["kind"] == "observed" and r["event"] == "MODIFIED" and r["seq"] > 0 and
                any(x["kind"] == "transition" and x.get("inputSeq") == r["seq"] and "deleting=true" in x["cause"] for x in rows))
folded = next(x for x in rows if x["kind"] == "transition" and x.get("inputSeq") == deleting["seq"])
gone = [r for r in rows if r["kind"] == "effect" and r.get("command") == "RemoveFinalizer"]
print("fairness-bench: latency_ms=%s error_rate=%s requests=%s with_status_at_60s=%s ready_at_60s=%s deletion_time_to_fold_s=%.3f deletion_to_finalizer_removed_s=%s" % (
    sys.argv[5], sys.argv[6], sys.argv[2], sys.argv[3], sys.argv[4], (t(folded) - t(deleting)).total_seconds(),
    "%.3f" % (t(gone[-1]) - t(deleting)).total_seconds() if gone else "n/a"))
EOF
