#!/bin/sh
# Checks Prometheus expositions with Prometheus' own parser and linter
# (promtool, Debian package `prometheus`). Exit 77 (ctest SKIP) when absent.
set -eu
if ! command -v promtool >/dev/null 2>&1; then
  echo "SKIP: promtool not found; install Debian's 'prometheus' package (tools/install-deps.sh --test)" >&2
  exit 77
fi
for file in "$@"; do
  echo "promtool check metrics < $file"
  promtool check metrics < "$file"
done
