#!/usr/bin/env bash
# Builds the Debian package: a Release build in build-deb/ (tests off), then
# `cpack -G DEB`. Prints the .deb's absolute path as its last line.
#   tools/build-deb.sh [BUILD_DIR] [extra cmake args...]
# WAITSCOPE_DEB_REUSE=1 packages an already configured BUILD_DIR as it is
# (the test suite packages the build it just tested instead of compiling
# everything again).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build-deb}
shift || true

if [[ ! -f packaging/waitscope.yaml ]] && ! grep -q -- '-DWAITSCOPE_DEFAULT_CONFIG=' <<<"$*"; then
  echo "build-deb: packaging/waitscope.yaml (the default agent config) is missing" >&2
  exit 1
fi
for tool in cpack dpkg-deb dpkg-shlibdeps gzip; do
  command -v "$tool" >/dev/null || { echo "build-deb: $tool not found (tools/install-deps.sh installs it)" >&2; exit 1; }
done

if [[ "${WAITSCOPE_DEB_REUSE:-0}" == 1 && -f "$build_dir/CMakeCache.txt" ]]; then
  echo "build-deb: packaging the existing build in $build_dir" >&2
else
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWAITSCOPE_TESTS=OFF "$@" >/dev/null
fi
# cpack builds the rest (its preinstall step depends on `all`).
cmake --build "$build_dir" -j"$(nproc)" --target waitscope waitscope_manpage
rm -f "$build_dir"/waitscope_*.deb
(cd "$build_dir" && cpack -G DEB >cpack.log 2>&1) || {
  echo "build-deb: cpack failed; its log:" >&2
  cat "$build_dir/cpack.log" >&2
  exit 1
}
debs=("$build_dir"/waitscope_*.deb)
[[ -f ${debs[0]} ]] || { echo "build-deb: cpack made no waitscope_*.deb in $build_dir" >&2; exit 1; }
realpath "${debs[0]}"
