#!/usr/bin/env bash
# Installs every Debian package spr needs to build, test and run. Idempotent and
# non-interactive; run as root on Debian bookworm.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  capnproto libcapnp-dev            # journal records
  librocksdb-dev rocksdb-tools      # the journal store, and `ldb` for tamper tests
  libzstd-dev                       # compressed journal archives (also what RocksDB compresses with)
  libboost-dev                      # Boost.MSM (header-only)
  nlohmann-json3-dev                # JSON
  libcurl4-openssl-dev              # the Kubernetes client
  libssl-dev openssl                # hashes, TLS, the local API server's CA
  libyaml-cpp-dev                   # kubeconfig parsing
  libcpp-httplib-dev                # the local API server's HTTP(S) server
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format                      # Format.SourcesFollowClangFormat checks the code against .clang-format
  python3-jsonschema python3-yaml   # tests/release: validate the OCM descriptor against OCM's JSON schema (draft 2020-12)
  umoci                             # tests/release: an independent OCI implementation reads scripts/image.sh's layout
  iproute2                          # tests/release: `ip link set lo up` in the network namespace the image test runs spr demo in
  stress-ng                         # CPU contention for the chaos soak (scripts/chaos-soak.sh)
  bc curl python3                   # the chaos soak's timing, fault switch and checks
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v kubectl >/dev/null 2>&1; then
  echo "setup: note: kubectl is not on PATH; the kubectl conformance tests will say so and be skipped" >&2
fi
echo "setup: all build dependencies are installed"
