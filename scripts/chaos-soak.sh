#!/usr/bin/env bash
# Chaos soak: kill -9 `spr run` at random moments while requests are created, changed and
# deleted against `spr sim` with 10% faults and CPU contention (stress-ng); after every
# round `spr journal verify` must pass. At the end (faults off, one last run) every
# request must converge (Ready, or gone), the cluster's status must equal the folded
# status of every object, each service must have one Create effect, and a full replay
# with tapes must report no divergence. Prints the figures; exit 0 pass, 1 fail, 2 bad input.
#
#   scripts/chaos-soak.sh [--rounds N] [--requests N] [--tenants N] [--seed S]
#                         [--stress-cpus N] [--no-faults] [--work DIR] [--spr PATH]
set -euo pipefail

rounds=5 requests=100 tenants=10 seed=$RANDOM stress_cpus=1 faults=1 work="" spr=""
converge_timeout=${CHAOS_CONVERGE_TIMEOUT:-600}
here=$(cd "$(dirname "$0")/.." && pwd)
usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --tenants) tenants=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --stress-cpus) stress_cpus=$2; shift 2 ;;
    --no-faults) faults=0; shift ;;
    --work) work=$2; shift 2 ;;
    --spr) spr=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "chaos-soak: unknown flag '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$rounds" "$requests" "$tenants" "$seed" "$stress_cpus"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "chaos-soak: '$n' is not a non-negative integer; pass numbers to --rounds, --requests, --tenants, --seed, --stress-cpus" >&2; exit 2; }
done
[ "$tenants" -ge 1 ] && [ "$requests" -ge 1 ] || { echo "chaos-soak: --requests and --tenants must be at least 1" >&2; exit 2; }
spr=${spr:-${SPR:-$here/build/cli/spr}}
[ -x "$spr" ] || { echo "chaos-soak: no spr binary at $spr; build it (bash scripts/dev.sh build) or pass --spr PATH" >&2; exit 2; }
command -v kubectl >/dev/null || { echo "chaos-soak: kubectl is not on PATH; install it to run the soak" >&2; exit 2; }
work=${work:-$(mktemp -d /tmp/spr-chaos.XXXXXX)}
mkdir -p "$work"
RANDOM=$seed
kc=$work/kubeconfig journal=$work/journal
k() { kubectl --kubeconfig "$kc" --request-timeout=20s "$@"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
log() { echo "chaos-soak: $*" >&2; }
fail() { log "FAIL: $*"; log "work dir (journal, logs): $work"; exit 1; }
# Retries a command through the sim's injected faults (each try is idempotent).
retry() { local i; for i in $(seq 1 30); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; "$@"; }

"$spr" sim --kubeconfig-out "$kc" --deployment-ready-delay-ms 200 >"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$kc" ] && k --context onboarding get ns >/dev/null 2>&1 && break; sleep 0.1; done
k --context onboarding get ns >/dev/null || fail "spr sim did not come up (see $work/sim.log)"
server=$(k config view --raw --minify --context onboarding -o jsonpath='{.clusters[0].cluster.server}'); server=${server%%/clusters/*}
token=$(k config view --raw --minify --context onboarding -o jsonpath='{.users[0].user.token}')
set_faults() {  # errorRate watchDropRate expire latencyMs
  curl -skf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$server/admin/faults" \
    -d "{\"errorRate\":$1,\"watchDropRate\":$2,\"expireResourceVersions\":$3,\"latencyMs\":$4}" >/dev/null ||
    fail "cannot set the sim's faults at $server/admin/faults"
}
"$spr" init --provider-name crossplane --onboarding-kubeconfig "$kc#onboarding" --platform-kubeconfig "$kc#platform" \
  >"$work/init.log" 2>&1 || fail "spr init failed (see $work/init.log)"
retry k --context platform apply -f "$here/deploy/providerconfig-crossplane.yaml"

if [ "$stress_cpus" -gt 0 ] && command -v stress-ng >/dev/null; then
  stress-ng --cpu "$stress_cpus" --cpu-load 60 --timeout 0 --quiet &
  pids+=($!)
elif [ "$stress_cpus" -gt 0 ]; then
  log "stress-ng not installed (scripts/setup.sh installs it): no CPU contention"
fi

# Requests: tenant t = i % tenants, namespace project-chaos-t--ws-1, name mcp-i. Names are
# never reused, so "one Create per service" is one per object. Namespaces and MCPs are
# made up front (faults off); the requests themselves are created, changed and deleted
# through the faults, with plain HTTP calls retried until the API server takes them.
declare -A state  # name -> live | deleted
ns_of() { echo "project-chaos-$(( $1 % tenants ))--ws-1"; }
{
  for t in $(seq 0 $((tenants - 1))); do
    printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: project-chaos-%s--ws-1}\n' "$t"
  done
  for i in $(seq 0 $((requests - 1))); do
    printf -- '---\napiVersion: core.openmcp.cloud/v2alpha1\nkind: ManagedControlPlane\nmetadata: {name: mcp-%s, namespace: %s}\nspec: {}\n' "$i" "$(ns_of "$i")"
  done
} >"$work/mcps.yaml"
retry k --context onboarding apply -f "$work/mcps.yaml"
api_base=$server/clusters/onboarding/apis/crossplane.services.open-control-plane.io/v1alpha1/namespaces
api() {  # METHOD NS PATH-AFTER-crossplanes [BODY [CONTENT-TYPE]]: retried through faults
  local code i
  for i in $(seq 1 50); do
    code=$(curl -sk -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: Bearer $token" \
      -H "Content-Type: ${5:-application/json}" "$api_base/$2/crossplanes$3" ${4:+-d "$4"}) || code=000
    case "$code" in 2??|404|409) return 0 ;; esac
    sleep 0.05
  done
  log "giving up on $1 $2/crossplanes$3 (HTTP $code)"; return 1
}
request_json() {  # i version
  printf '{"apiVersion":"crossplane.services.open-control-plane.io/v1alpha1","kind":"Crossplane","metadata":{"name":"mcp-%s","namespace":"%s"},"spec":{"version":"%s","providers":[{"name":"provider-kubernetes","version":"v1.2.1"}]}}' "$1" "$(ns_of "$1")" "$2"
}
next=0 restarts=0
per_round=$(( (requests + rounds - 1) / (rounds > 0 ? rounds : 1) ))
round_actions() {
  local n i
  for _ in $(seq 1 "$per_round"); do
    [ "$next" -ge "$requests" ] && break
    api POST "$(ns_of "$next")" "" "$(request_json "$next" v2.0.8)"; state[mcp-$next]=live; next=$((next + 1))
  done
  for n in $(seq 1 $(( per_round / 5 + 1 ))); do  # spec changes
    i=$(( RANDOM % (next > 0 ? next : 1) ))
    [ "${state[mcp-$i]:-}" = live ] || continue
    api PATCH "$(ns_of "$i")" "/mcp-$i" \
      "{\"spec\":{\"version\":\"$([ $((RANDOM % 2)) = 0 ] && echo 1.20.5 || echo v2.0.8)\"}}" application/merge-patch+json
  done
  for n in $(seq 1 $(( per_round / 10 + 1 ))); do  # deletions
    i=$(( RANDOM % (next > 0 ? next : 1) ))
    [ "${state[mcp-$i]:-}" = live ] || continue
    api DELETE "$(ns_of "$i")" "/mcp-$i" && state[mcp-$i]=deleted
  done
}
start_run() {
  "$spr" run --provider-name crossplane --journal "$journal" --workers 4 --delay-scale 0.1 \
    --onboarding-kubeconfig "$kc#onboarding" --platform-kubeconfig "$kc#platform" 2>>"$work/run.log" &
  run_pid=$!
}

[ "$faults" = 1 ] && set_faults 0.1 0.05 true 20
t0=$(date +%s)
for r in $(seq 1 "$rounds"); do
  start_run
  round_actions
  sleep "$(( RANDOM % 3 )).$(( RANDOM % 10 ))"
  kill -9 "$run_pid"; wait "$run_pid" 2>/dev/null || true
  restarts=$((restarts + 1))
  "$spr" journal verify --journal "$journal" >"$work/verify.log" 2>&1 || fail "round $r: journal verify: $(cat "$work/verify.log")"
  log "round $r/$rounds: $next requests so far, kill -9 #$restarts, journal verify ok"
done

set_faults 0 0 false 0
start_run
pids+=("$run_pid")
tc=$(date +%s)
converged() {  # every live request Ready for its generation, every deleted one gone
  k --context onboarding get crossplanes -A -o json 2>/dev/null | python3 -c '
import json, sys
want = {l.split()[0]: l.split()[1] for l in open(sys.argv[1])}
items = {i["metadata"]["name"]: i for i in json.load(sys.stdin)["items"]}
bad = []
for name, s in want.items():
    o = items.get(name)
    if s == "deleted":
        if o is not None: bad.append(name + " not gone")
        continue
    st = (o or {}).get("status", {})
    ready = [c for c in st.get("conditions", []) if c.get("type") == "Ready"]
    if o is None or not ready or ready[0].get("status") != "True" or st.get("observedGeneration") != o["metadata"].get("generation"):
        bad.append(name)
print(len(bad), " ".join(bad[:5]))
sys.exit(1 if bad else 0)' "$work/want.txt"
}
for name in "${!state[@]}"; do echo "$name ${state[$name]}"; done >"$work/want.txt"
until out=$(converged); do
  [ $(( $(date +%s) - tc )) -gt "$converge_timeout" ] && fail "not converged after ${converge_timeout}s: $out"
  sleep 1
done
converge_s=$(( $(date +%s) - tc ))
kill -TERM "$run_pid"; wait "$run_pid" 2>/dev/null || true

"$spr" journal verify --journal "$journal" >"$work/verify.log" 2>&1 || fail "final journal verify: $(cat "$work/verify.log")"
"$spr" journal stats --journal "$journal" --effects --json >"$work/stats.json"
k --context onboarding get crossplanes -A -o json >"$work/cluster.json"
for t in $(seq 0 $((tenants - 1))); do
  "$spr" audit --journal "$journal" --tenant "project-chaos-$t--ws-1" --format jsonl 2>/dev/null || true
done >"$work/audit.jsonl"
python3 - "$work" <<'EOF' || fail "post-checks (above)"
import json, sys
w = sys.argv[1]
stats = json.load(open(w + "/stats.json"))
effects = stats.get("effects", {})
creates = effects.get("Create", {})
if creates.get("mostOnOneObject", 0) > 1:
    sys.exit("a service got more than one Create effect: %s" % creates)
for command, e in sorted(effects.items()):
    print("effects: %-26s requested %6d on %5d objects, most on one %3d, completed %s" % (
        command, e.get("requested", 0), e.get("objects", 0), e.get("mostOnOneObject", 0), e.get("completed", {})))
folded = {}
for line in open(w + "/audit.jsonl"):
    row = json.loads(line)
    if row.get("kind") == "condition":
        folded[row.get("object", "")] = row
bad = 0
for o in json.load(open(w + "/cluster.json"))["items"]:
    key = o["metadata"]["namespace"] + "/" + o["metadata"]["name"]
    f = folded.get(key)
    st = o.get("status", {})
    ready = [c for c in st.get("conditions", []) if c.get("type") == "Ready"]
    got = (st.get("phase"), ready[0].get("reason") if ready else None, st.get("observedGeneration"))
    if f is None or got != (f["phase"], f["reason"], f["observedGeneration"]):
        bad += 1
        print("status differs: %s cluster %s folded %s" % (key, got, f and (f["phase"], f["reason"], f["observedGeneration"])))
if bad: sys.exit("%d objects whose cluster status is not the folded status" % bad)
EOF
rs=$(date +%s.%N)
"$spr" replay --journal "$journal" >"$work/replay.log" 2>&1 || fail "replay with tapes: $(tail -5 "$work/replay.log")"
replay_s=$(echo "$(date +%s.%N) - $rs" | bc)
records=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("records",0))' "$work/stats.json")
echo "chaos-soak: PASS rounds=$rounds requests=$requests tenants=$tenants restarts=$restarts seed=$seed" \
  "faults=$faults stress_cpus=$stress_cpus converge_s=$converge_s total_s=$(( $(date +%s) - t0 ))" \
  "records=$records replay_with_tapes_s=$replay_s divergences=0"
echo "chaos-soak: $(tail -1 "$work/replay.log")"
[ -n "${CHAOS_KEEP:-}" ] || rm -rf "$work"
