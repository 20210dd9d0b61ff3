#!/bin/sh
# Checks that the vendored contract schema (tests/schema/report.schema.json)
# matches the shared one at ../shared/schema/report.schema.json relative to
# the repository root. A checkout without ../shared (CI, a release tarball)
# skips the check and passes, because the vendored copy is then the contract.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
vendored="$root/tests/schema/report.schema.json"
shared="$root/../shared/schema/report.schema.json"
if [ ! -f "$shared" ]; then
  echo "skipped: no ../shared"
  exit 0
fi
if cmp -s "$vendored" "$shared"; then
  echo "in sync: $vendored"
  exit 0
fi
echo "out of sync: $vendored differs from $shared; copy the shared schema over the vendored one" >&2
diff -u "$vendored" "$shared" >&2 || true
exit 1
