#!/usr/bin/env bash
# Builds spr's container image with no container engine: an OCI image layout (directory,
# per the OCI image-layout spec) whose single layer is a minimal root filesystem — the
# `spr` binary, exactly the shared libraries `ldd` lists plus the dynamic loader, CA
# certificates, /etc/passwd and /etc/group with user 65532 "nonroot", /tmp — run as
# 65532 with entrypoint spr. Also writes an OCM component descriptor referencing the image
# (by digest) and the CRDs in deploy/crds/, as a component archive (descriptor + blobs/).
#
# Reproducible: fixed mtimes (SOURCE_DATE_EPOCH, default the HEAD commit's time), sorted tar
# entries, numeric owners, gzip without name or time; the same binary gives the same digest.
#
#   scripts/image.sh [--binary build/cli/spr] [--out build/image] [--archive FILE.tar]
#                    [--image-name ghcr.io/openmcp-project/spr] [--source URL]
#                    [--ocm-out deploy/ocm/component-descriptor.yaml]
#
# Prints the image reference with its manifest digest. Needs: bash, GNU tar, gzip,
# sha256sum, ldd, git (the revision label), dpkg-query (the libraries' copyright files);
# not root.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
binary=$src/build/cli/spr
out=$src/build/image
archive=""
image_name=ghcr.io/openmcp-project/spr
source_url=https://github.com/openmcp-project/spr
ocm_out=$src/deploy/ocm/component-descriptor.yaml
component_name=github.com/openmcp-project/spr

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "image.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --archive) archive=${2:?--archive needs a file name}; shift 2 ;;
    --image-name) image_name=${2:?--image-name needs a repository, e.g. ghcr.io/org/spr}; shift 2 ;;
    --source) source_url=${2:?--source needs a URL}; shift 2 ;;
    --ocm-out) ocm_out=${2:?--ocm-out needs a file name}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1'; run scripts/image.sh --help" ;;
  esac
done

[ -x "$binary" ] || die "no spr binary at $binary: build it first (bash scripts/dev.sh build) or pass --binary PATH"
for tool in tar gzip sha256sum ldd dpkg-query git; do
  command -v "$tool" >/dev/null || die "'$tool' is not on PATH; install it (Debian: scripts/setup.sh)"
done
tar --version | head -1 | grep -q 'GNU tar' || die "GNU tar is needed (for --sort=name, --mtime)"

version=$(sed -n 's/^project(spr VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ -n "$version" ] || die "cannot read the version from project(spr VERSION ...) in $src/CMakeLists.txt"
revision=$(git -C "$src" rev-parse HEAD 2>&1) || die "the revision label needs git HEAD of $src: $revision"
if [ -n "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  echo "image.sh: warning: the work tree has uncommitted changes; the revision label says $revision" >&2
fi
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct)}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
case "$(dpkg --print-architecture)" in
  amd64) arch=amd64 ;; arm64) arch=arm64 ;; *) die "unsupported architecture $(dpkg --print-architecture)" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/spr-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 022

# --- the root filesystem ---------------------------------------------------------------
# Root-owned entries go in rootfs/; the two directories user 65532 owns in nonroot/ (tar
# gives each part its owner, so the script needs no root and no chown).
root=$work/rootfs
mkdir -p "$root"/usr/local/bin "$root"/usr/lib "$root"/etc/ssl/certs "$root"/home "$root"/var/lib "$root"/tmp
ln -s usr/lib "$root/lib"                       # Debian bookworm is merged-/usr
install -m 0755 "$binary" "$root/usr/local/bin/spr"

# The libraries ldd resolves (by the path it resolved, copied under that name) and the
# loader the binary's PT_INTERP names.
libs=$(ldd "$binary" | awk '/=> \// {print $3} /^\t\/[^ ]*ld-linux/ {print $1}' | sort -u)
[ -n "$libs" ] || die "ldd found no libraries for $binary (is it a dynamic executable for this machine?)"
reals=""
for lib in $libs; do
  real=$(readlink -f "$lib")
  dir=$(dirname "$real"); dir=${dir#/usr}     # /usr/lib/x86_64-linux-gnu -> /lib/x86_64-linux-gnu
  mkdir -p "$root/usr$dir"
  install -m 0644 "$real" "$root/usr$dir/$(basename "$lib")"
  reals+=" $real ${real#/usr}"                # merged-/usr: dpkg may know either name
done
# The loader must also answer at the path PT_INTERP names (/lib64/... on amd64).
interp=$(ldd "$binary" | awk '/^\t\/[^ ]*ld-linux/ {print $1}')
interp_copy=$(readlink -f "$interp"); interp_copy=/usr${interp_copy#/usr}
interp_path=${interp#/}
case "$interp_path" in lib/*|lib64/*) interp_path=usr/$interp_path ;; esac
if [ ! -e "$root/$interp_path" ]; then        # e.g. /lib64/ld-linux-x86-64.so.2
  mkdir -p "$(dirname "$root/$interp_path")"
  ln -s "$interp_copy" "$root/$interp_path"
fi
[ -d "$root/usr/lib64" ] && ln -s usr/lib64 "$root/lib64"
chmod 0755 "$root"/usr/lib/*/ld-linux* 2>/dev/null || true
# Their packages' copyright files go along (one dpkg-query: each call reads every list).
# shellcheck disable=SC2086
packages=$(dpkg-query -S $reals 2>/dev/null | cut -d: -f1 | sort -u || true)
for pkg in $packages; do
  if [ -f "/usr/share/doc/$pkg/copyright" ]; then
    install -D -m 0644 "/usr/share/doc/$pkg/copyright" "$root/usr/share/doc/$pkg/copyright"
  fi
done

ca=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca" ] || die "no CA bundle at $ca; install ca-certificates"
install -m 0644 "$ca" "$root$ca"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
chmod 0644 "$root"/etc/passwd "$root"/etc/group "$root"/etc/hosts
chmod 1777 "$root/tmp"

nonroot=$work/nonroot
mkdir -p "$nonroot/home/nonroot" "$nonroot/var/lib/spr"   # home; spr run's default journal parent
chmod 0755 "$nonroot/home/nonroot" "$nonroot/var/lib/spr"

# --- the layer: sorted entries, fixed mtime, numeric owners ----------------------------
tar_common=(--sort=name --mtime="@$epoch" --numeric-owner --format=posix
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
layer_tar=$work/layer.tar
tar "${tar_common[@]}" --owner=0 --group=0 -C "$root" -cf "$layer_tar" .
tar "${tar_common[@]}" --owner=65532 --group=65532 -C "$nonroot" -rf "$layer_tar" ./home/nonroot ./var/lib/spr
diff_id=$(sha256sum "$layer_tar" | cut -d' ' -f1)
gzip -n <"$layer_tar" >"$work/layer.tar.gz"

# --- the OCI image layout ---------------------------------------------------------------
layout=$out/oci
rm -rf "$layout"
mkdir -p "$layout/blobs/sha256"
# put_blob FILE: stores FILE by its digest; sets blob_digest and blob_size.
put_blob() {
  blob_digest=$(sha256sum "$1" | cut -d' ' -f1)
  blob_size=$(stat -c %s "$1")
  cp "$1" "$layout/blobs/sha256/$blob_digest"
}
put_blob "$work/layer.tar.gz"
layer_digest=$blob_digest layer_size=$blob_size

labels=$(printf '"org.opencontainers.image.source":"%s","org.opencontainers.image.version":"%s","org.opencontainers.image.revision":"%s","org.opencontainers.image.created":"%s","org.opencontainers.image.title":"spr","org.opencontainers.image.licenses":"Apache-2.0"' \
  "$source_url" "$version" "$revision" "$created")
printf '{"architecture":"%s","os":"linux","created":"%s","config":{"User":"65532:65532","Entrypoint":["/usr/local/bin/spr"],"Env":["PATH=/usr/local/bin:/usr/bin:/bin","HOME=/home/nonroot"],"WorkingDir":"/home/nonroot","Labels":{%s}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","created_by":"scripts/image.sh"}]}' \
  "$arch" "$created" "$labels" "$diff_id" "$created" >"$work/config.json"
put_blob "$work/config.json"
config_digest=$blob_digest config_size=$blob_size

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}],"annotations":{%s}}' \
  "$config_digest" "$config_size" "$layer_digest" "$layer_size" "$labels" >"$work/manifest.json"
put_blob "$work/manifest.json"
manifest_digest=$blob_digest manifest_size=$blob_size

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest_digest" "$manifest_size" "$arch" "$version" >"$layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

if [ -n "$archive" ]; then   # oci-archive: the same layout as one tar (skopeo's oci-archive: transport)
  tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$archive" .
fi

# --- the OCM component descriptor (a component archive: descriptor + blobs/) -----------
ocm=$out/ocm
rm -rf "$ocm"
mkdir -p "$ocm/blobs"
{
  printf 'meta:\n  schemaVersion: v2\ncomponent:\n'
  printf '  name: %s\n  version: %s\n  provider: openmcp-project\n' "$component_name" "$version"
  printf '  creationTime: "%s"\n  repositoryContexts: []\n  componentReferences: []\n' "$created"
  printf '  labels:\n    - name: openmcp.cloud/service-provider\n      value: spr\n'
  printf '  sources:\n    - name: spr\n      version: %s\n      type: git\n' "$version"
  printf '      access:\n        type: gitHub\n        repoUrl: %s\n        commit: %s\n' "$source_url" "$revision"
  printf '  resources:\n    - name: image\n      version: %s\n      type: ociImage\n      relation: local\n' "$version"
  printf '      access:\n        type: ociArtifact\n        imageReference: %s:%s@sha256:%s\n' "$image_name" "$version" "$manifest_digest"
  printf '      digest:\n        hashAlgorithm: SHA-256\n        normalisationAlgorithm: ociArtifactDigest/v1\n        value: %s\n' "$manifest_digest"
  for crd in "$src"/deploy/crds/*.yaml; do
    base=$(basename "$crd" .yaml)                  # crossplane.services.open-control-plane.io_crossplanes
    name=crd-$(echo "${base#*_}-${base%%.*}" | tr '[:upper:]_.' '[:lower:]--')   # crd-crossplanes-crossplane
    sum=$(sha256sum "$crd" | cut -d' ' -f1)
    cp "$crd" "$ocm/blobs/sha256.$sum"
    printf '    - name: %s\n      version: %s\n      type: crd\n      relation: local\n' "$name" "$version"
    printf '      labels:\n        - name: file\n          value: deploy/crds/%s.yaml\n' "$base"
    printf '      access:\n        type: localBlob\n        localReference: sha256.%s\n        mediaType: application/x-yaml\n' "$sum"
    printf '      digest:\n        hashAlgorithm: SHA-256\n        normalisationAlgorithm: genericBlobDigest/v1\n        value: %s\n' "$sum"
  done
} >"$ocm/component-descriptor.yaml"
if [ -n "$ocm_out" ]; then
  mkdir -p "$(dirname "$ocm_out")"
  cp "$ocm/component-descriptor.yaml" "$ocm_out"
fi

echo "image: $image_name:$version@sha256:$manifest_digest ($arch, layer $layer_size bytes)"
echo "layout: $layout${archive:+, archive: $archive}; OCM component archive: $ocm"
