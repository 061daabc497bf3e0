#!/usr/bin/env bash
# The project's entry points: `demo` sets up, builds and runs `spr demo`; `test` sets up,
# builds and runs the whole suite; `build` only builds. Build dir: $SPR_BUILD_DIR or ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${SPR_BUILD_DIR:-build}"
jobs="${SPR_JOBS:-$(nproc)}"

setup_and_build() {
  bash scripts/setup.sh
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j "$jobs"
}

case "${1:-}" in
  demo)
    shift
    setup_and_build
    exec "$build/cli/spr" demo "$@"
    ;;
  test)
    setup_and_build
    cd "$build"
    ctest --output-on-failure -j "$jobs" --timeout 600
    ;;
  build)
    setup_and_build
    ;;
  *)
    echo "usage: scripts/dev.sh demo|test|build" >&2
    exit 2
    ;;
esac
