#!/usr/bin/env bash
# Runs spr's libFuzzer targets (tests/fuzz/README.md). Builds them with clang, libFuzzer,
# ASan and UBSan into build-fuzz/ (SPR_FUZZ_BUILD_DIR), then fuzzes each named target for
# SECONDS (default 600) under `nice`, growing a working corpus in build-fuzz/corpus/<target>
# (seeded from tests/fuzz/corpus/<target>; the checked-in seeds are left alone). Crashes
# land in build-fuzz/artifacts/<target>/; the log ends with libFuzzer's final stats.
# --keep-going fuzzes in libFuzzer's fork mode, past crashes, for the whole time.
#   scripts/fuzz.sh [--time SECONDS] [--keep-going] [TARGET...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SPR_FUZZ_BUILD_DIR:-build-fuzz}
seconds=600
all=(journal_record watch_stream kubeconfig sim_request lifecycle)
targets=()
keep=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --time) seconds=$2; shift 2 ;;
    --keep-going) keep=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1); shift ;;
    --help|-h) sed -n '2,8p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown flag $1 (use --time SECONDS, --keep-going, then target names)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ -d tests/fuzz/corpus/$t ]] || { echo "fuzz.sh: no target $t (targets: ${all[*]})" >&2; exit 2; }
done
command -v clang++-14 >/dev/null || { echo "fuzz.sh: clang++-14 not found: apt-get install clang-14" >&2; exit 2; }
if [[ ! -f $build/build.ninja ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSPR_BUILD_TESTS=OFF -DSPR_BUILD_BENCH=OFF -DSPR_BUILD_FUZZ=ON -DSPR_FUZZ_LIBFUZZER=ON >/dev/null
fi
nice -n 10 ninja -C "$build" -j "${SPR_JOBS:-2}" "${targets[@]/#/fuzz_}"
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
  cp -n tests/fuzz/corpus/"$t"/* "$build/corpus/$t/" 2>/dev/null || true
  echo "== fuzz_$t for ${seconds}s (log: $build/fuzz_$t.log)"
  nice -n 10 "$build/tests/fuzz/fuzz_$t" ${keep[@]+"${keep[@]}"} -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t/" "$build/corpus/$t" >"$build/fuzz_$t.log" 2>&1 || true
  grep -E "^#[0-9]+ +DONE|^#[0-9]+: cov|^stat::|ERROR|SUMMARY" "$build/fuzz_$t.log" | tail -12
  ls "$build/artifacts/$t"
done
