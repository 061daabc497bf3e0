#!/usr/bin/env bash
# End-to-end against a real cluster (e.g. kind). One cluster plays onboarding, platform
# and MCP; this script plays openMCP's cluster provider (it grants spr's AccessRequests with
# a Secret holding the cluster's own kubeconfig). Skips cleanly (exit 0, says why) when no
# cluster is reachable. Context: $SPR_E2E_CONTEXT, else the current kubectl context.
set -euo pipefail
cd "$(dirname "$0")/.."

ctx="${SPR_E2E_CONTEXT:-$(kubectl config current-context 2>/dev/null || true)}"
if [ -z "$ctx" ] || ! kubectl --context "$ctx" --request-timeout=5s version >/dev/null 2>&1; then
  echo "e2e-kind: skipped: no Kubernetes cluster reachable (context '${ctx:-none}'); create one with 'kind create cluster' or set SPR_E2E_CONTEXT"
  exit 0
fi
k() { kubectl --context "$ctx" "$@"; }
# openMCP's platform namespace of an MCP: mcp--<SHAKE128("ns/name"), first 16 bytes, as a version-8 UUID>.
mcp_namespace() {
  local h b6 b8
  h="$(printf '%s' "$1/$2" | openssl dgst -shake128 -xoflen 16 | sed 's/.*= //')"
  b6=$(printf '%02x' $(( (0x${h:12:2} & 0x0f) | 0x80 )))
  b8=$(printf '%02x' $(( (0x${h:16:2} & 0x3f) | 0x80 )))
  h="${h:0:12}$b6${h:14:2}$b8${h:18}"
  echo "mcp--${h:0:8}-${h:8:4}-${h:12:4}-${h:16:4}-${h:20:12}"
}

bash scripts/dev.sh build
spr="${SPR_BUILD_DIR:-build}/cli/spr"
work="$(mktemp -d)"
kubeconfig="$work/kubeconfig"
kubectl config view --minify --flatten --context "$ctx" >"$kubeconfig"
tenant=project-e2e--ws-dev
name=mcp-e2e
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  k delete crossplane -n "$tenant" "$name" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  echo "e2e-kind: journal and logs kept in $work"
}
trap cleanup EXIT

echo "e2e-kind: context $ctx"
k apply -f scripts/e2e/openmcp-clusters-crds.yaml >/dev/null
"$spr" init --provider-name crossplane --onboarding-kubeconfig "$kubeconfig#$ctx" --platform-kubeconfig "$kubeconfig#$ctx"
k apply -f deploy/providerconfig-crossplane.yaml >/dev/null
mcpns="$(mcp_namespace "$tenant" "$name")"
k create namespace "$tenant" --dry-run=client -o yaml | k apply -f - >/dev/null
k create namespace "$mcpns" --dry-run=client -o yaml | k apply -f - >/dev/null
cat <<YAML | k apply -f - >/dev/null
apiVersion: clusters.openmcp.cloud/v1alpha1
kind: ClusterRequest
metadata: {name: $name, namespace: $mcpns}
spec: {purpose: mcp}
YAML

"$spr" run --provider-name crossplane --journal "$work/journal" \
  --onboarding-kubeconfig "$kubeconfig#$ctx" --platform-kubeconfig "$kubeconfig#$ctx" 2>"$work/spr-run.log" &
pid=$!

# The cluster provider's part: grant every AccessRequest with this cluster's kubeconfig.
grant() {
  # (a jsonpath filter on status.phase skips objects that have no status yet)
  for ar in $(k get accessrequests -A --no-headers \
      -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name,PHASE:.status.phase | awk '$3 != "Granted" {print $1 "/" $2}'); do
    ns="${ar%/*}"; n="${ar#*/}"
    k create secret generic "$n-kubeconfig" -n "$ns" --from-file=kubeconfig="$kubeconfig" --dry-run=client -o yaml | k apply -f - >/dev/null
    k patch accessrequest "$n" -n "$ns" --subresource=status --type=merge \
      -p "{\"status\":{\"phase\":\"Granted\",\"secretRef\":{\"name\":\"$n-kubeconfig\",\"namespace\":\"$ns\"}}}" >/dev/null
  done
}

cat <<YAML | k apply -f - >/dev/null
apiVersion: crossplane.services.open-control-plane.io/v1alpha1
kind: Crossplane
metadata: {name: $name, namespace: $tenant}
spec: {version: "v2.0.8"}
YAML

deadline=$((SECONDS + ${SPR_E2E_TIMEOUT:-600}))
until k get crossplane -n "$tenant" "$name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -q True; do
  [ $SECONDS -lt $deadline ] || { echo "e2e-kind: FAILED: $tenant/$name not Ready"; k get crossplane -n "$tenant" "$name" -o yaml; exit 1; }
  grant
  sleep 2
done
echo "e2e-kind: $tenant/$name is Ready"

k delete crossplane -n "$tenant" "$name" --wait=false >/dev/null
until ! k get crossplane -n "$tenant" "$name" >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || { echo "e2e-kind: FAILED: $tenant/$name not deleted"; exit 1; }
  sleep 2
done
if k get namespace crossplane-system >/dev/null 2>&1 && [ -z "$(k get namespace crossplane-system -o jsonpath='{.metadata.deletionTimestamp}')" ]; then
  echo "e2e-kind: FAILED: crossplane-system still there after delete"; exit 1
fi
kill "$pid"; wait "$pid" || true; pid=""
"$spr" journal verify --journal "$work/journal"
"$spr" replay --journal "$work/journal"
echo "e2e-kind: passed"
