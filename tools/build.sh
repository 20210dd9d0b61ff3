#!/usr/bin/env bash
# Configures and builds waitscope into BUILD_DIR (default: build/).
#   tools/build.sh [BUILD_DIR] [extra cmake args...]
# BUILD_TARGET=name builds one target instead of everything.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
