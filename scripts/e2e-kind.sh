#!/usr/bin/env bash
# End-to-end against a real cluster (e.g. kind). One cluster plays onboarding, platform
# and MCP; this script plays openMCP's cluster provider (it grants spr's AccessRequests with
# a Secret holding the cluster's own kubeconfig). Skips cleanly (exit 0, says why) when no
# cluster is reachable. Context: $SPR_E2E_CONTEXT, else the current kubectl context.
# Covers: a Crossplane request's whole lifecycle through Flux, deletion blocking by a user's
# Object included; then, with the template provider, a
# ProviderConfig caBundleRef (copied to the MCP and mounted, followed when the ConfigMap
# changes, CABundleNotFound while it is missing, removed with the ref) and the
# ProviderConfig's openmcp.cloud/operation annotations (reconcile, ignore).
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
[ -z "${SPR_E2E_KUBECONFIG_SERVER:-}" ] ||
  kubectl --kubeconfig "$kubeconfig" config set-cluster "$(kubectl --kubeconfig "$kubeconfig" config view -o jsonpath='{.clusters[0].name}')" \
    --server "$SPR_E2E_KUBECONFIG_SERVER" >/dev/null
tenant=project-e2e--ws-dev
name=mcp-e2e
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  k delete crossplane -n "$tenant" "$name" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  k delete template -n "$tenant" "$name" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  echo "e2e-kind: journal and logs kept in $work"
}
trap cleanup EXIT

echo "e2e-kind: context $ctx"
# openMCP installs Crossplane through Flux: its controllers must run in the cluster, and the
# kubeconfig this script grants must reach the API server from inside a pod too
# (SPR_E2E_KUBECONFIG_SERVER: an address both this host and the pods reach, e.g. kind's
# https://<name>-control-plane:6443 with that name in /etc/hosts; spr uses it too).
if ! k get crd helmreleases.helm.toolkit.fluxcd.io ocirepositories.source.toolkit.fluxcd.io >/dev/null 2>&1; then
  echo "e2e-kind: FAILED: Flux is not installed in '$ctx' (install it, e.g. 'flux install', then run again)"
  exit 1
fi
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
spec:
  version: "v2.0.8"
  providers: [{name: provider-kubernetes, version: v1.2.1}]  # brings the Object kind of the deletion check
YAML

deadline=$((SECONDS + ${SPR_E2E_TIMEOUT:-600}))
until k get crossplane -n "$tenant" "$name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -q True; do
  [ $SECONDS -lt $deadline ] || { echo "e2e-kind: FAILED: $tenant/$name not Ready"; k get crossplane -n "$tenant" "$name" -o yaml; exit 1; }
  grant
  sleep 2
done
echo "e2e-kind: $tenant/$name is Ready"

# Deletion blocking: a user's Object (provider-kubernetes' kind, which Crossplane brought)
# holds the deletion with DeletionBlocked / UserResourcesPresent until it is deleted.
k apply -f - >/dev/null <<YAML
apiVersion: kubernetes.crossplane.io/v1alpha2
kind: Object
metadata: {name: e2e-user-object}
spec:
  forProvider:
    manifest: {apiVersion: v1, kind: ConfigMap, metadata: {name: e2e-user-object, namespace: default}}
YAML
k delete crossplane -n "$tenant" "$name" --wait=false >/dev/null
until k get crossplane -n "$tenant" "$name" \
    -o jsonpath='{.status.conditions[?(@.type=="DeletionBlocked")].reason}' 2>/dev/null | grep -qx UserResourcesPresent; do
  [ $SECONDS -lt $deadline ] || { echo "e2e-kind: FAILED: deletion of $tenant/$name not blocked by a user's Object"; k get crossplane -n "$tenant" "$name" -o yaml; exit 1; }
  sleep 2
done
k get deployment -n crossplane-system crossplane >/dev/null || { echo "e2e-kind: FAILED: Crossplane removed while its deletion was blocked"; exit 1; }
echo "e2e-kind: deletion blocked by the user's Object, as it should be"
k delete object.kubernetes.crossplane.io e2e-user-object --wait=true --timeout=120s >/dev/null
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

# Custom CA bundle and the ProviderConfig's operation annotations, with the template provider
# (its Deployment runs the pause image, which kind nodes hold).
wait_for() {  # wait_for WHAT COMMAND...: until COMMAND succeeds, granting access meanwhile
  local what="$1"; shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || { echo "e2e-kind: FAILED: $what"; tail -20 "$work/spr-template.log"; exit 1; }
    grant
    sleep 2
  done
}
new_ca() {  # a fresh self-signed CA certificate (PEM) in $work/$1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/$1.key" -subj "/CN=spr-e2e-$1" -days 1 \
    -out "$work/$1" 2>/dev/null
}
copy_is() {  # the MCP's copy of the bundle holds the PEM in file $1 ("" = no copy)
  local want=""; [ -n "$1" ] && want="$(cat "$work/$1")"
  [ "$(k get configmap -n template-system ca-bundle -o jsonpath='{.data.ca\.crt}' 2>/dev/null)" = "$want" ]
}
podns=spr-e2e
tpc=providerconfigs.template.services.open-control-plane.io  # not crossplane's ProviderConfig
deadline=$((SECONDS + ${SPR_E2E_TIMEOUT:-600}))
k create namespace "$podns" --dry-run=client -o yaml | k apply -f - >/dev/null
new_ca ca1.pem; new_ca ca2.pem
k create configmap corp-ca -n "$podns" --from-file=ca.crt="$work/ca1.pem" --dry-run=client -o yaml | k apply -f - >/dev/null
"$spr" init --provider-name template --onboarding-kubeconfig "$kubeconfig#$ctx" --platform-kubeconfig "$kubeconfig#$ctx"
cat <<YAML | k apply -f - >/dev/null
apiVersion: template.services.open-control-plane.io/v1alpha1
kind: ProviderConfig
metadata: {name: template}
spec: {image: "registry.k8s.io/pause:3.9", pollInterval: 1h, caBundleRef: {name: corp-ca, key: ca.crt}}
YAML
"$spr" run --provider-name template --pod-namespace "$podns" --journal "$work/journal-template" \
  --onboarding-kubeconfig "$kubeconfig#$ctx" --platform-kubeconfig "$kubeconfig#$ctx" 2>"$work/spr-template.log" &
pid=$!
cat <<YAML | k apply -f - >/dev/null
apiVersion: template.services.open-control-plane.io/v1alpha1
kind: Template
metadata: {name: $name, namespace: $tenant}
spec: {message: hello}
YAML
ready() { k get template -n "$tenant" "$name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}' 2>/dev/null | grep -qx "$1"; }
wait_for "template $tenant/$name not Ready" ready Ready
wait_for "CA bundle not copied to the MCP" copy_is ca1.pem
mounted() {
  k get deployment -n template-system template -o jsonpath='{.spec.template.spec.containers[0].volumeMounts[*].mountPath} {.spec.template.spec.containers[0].env[?(@.name=="SSL_CERT_DIR")].value}' |
    grep -q '/etc/open-control-plane/custom-ca /etc/ssl/certs:.*:/etc/open-control-plane/custom-ca'
}
wait_for "CA bundle not mounted with SSL_CERT_DIR" mounted
echo "e2e-kind: the CA bundle is copied to the MCP and mounted"
k create configmap corp-ca -n "$podns" --from-file=ca.crt="$work/ca2.pem" --dry-run=client -o yaml | k apply -f - >/dev/null
wait_for "a changed CA bundle did not reach the MCP" copy_is ca2.pem
echo "e2e-kind: a changed CA bundle reaches the MCP"
k delete configmap corp-ca -n "$podns" >/dev/null
wait_for "a missing CA bundle is not reported as CABundleNotFound" ready CABundleNotFound
k create configmap corp-ca -n "$podns" --from-file=ca.crt="$work/ca1.pem" >/dev/null
wait_for "the CA bundle's return was not noticed" ready Ready
echo "e2e-kind: a missing CA bundle is a user error, re-checked when it is back"

# reconcile: one more reconcile of every request, then the annotation is gone.
k annotate "$tpc" template openmcp.cloud/operation=reconcile --overwrite >/dev/null
no_annotation() { [ -z "$(k get "$tpc" template -o jsonpath='{.metadata.annotations.openmcp\.cloud/operation}')" ]; }
wait_for "the reconcile annotation was not removed" no_annotation
echo "e2e-kind: ProviderConfig reconcile served and removed"
# ignore: a change (caBundleRef removed) is held until the annotation goes.
k annotate "$tpc" template openmcp.cloud/operation=ignore --overwrite >/dev/null
k patch "$tpc" template --type=json -p '[{"op":"remove","path":"/spec/caBundleRef"}]' >/dev/null
logged() { [ "$(grep -c 'ProviderConfig ignored' "$work/spr-template.log")" -ge 2 ]; }  # the annotation, then the patch
wait_for "the ignored ProviderConfig change was not logged" logged
copy_is ca1.pem || { echo "e2e-kind: FAILED: an ignored ProviderConfig change was acted on"; exit 1; }
k annotate "$tpc" template openmcp.cloud/operation- >/dev/null
wait_for "caBundleRef removed, but the copy is still on the MCP" copy_is ""
echo "e2e-kind: ProviderConfig ignore held the change; removing caBundleRef removed the copy"

k delete template -n "$tenant" "$name" --wait=false >/dev/null
gone() { ! k get template -n "$tenant" "$name" >/dev/null 2>&1; }
wait_for "template $tenant/$name not deleted" gone
kill "$pid"; wait "$pid" || true; pid=""
k delete namespace "$podns" --wait=false >/dev/null
"$spr" journal verify --journal "$work/journal-template"
"$spr" replay --journal "$work/journal-template"
echo "e2e-kind: passed"
