#!/usr/bin/env bash
# Installs everything waitscope needs from Debian 12 packages.
#   tools/install-deps.sh          build dependencies
#   tools/install-deps.sh --test   build + test dependencies (servers, clients, fuzzing)
# Idempotent; needs root (apt-get). Set WAITSCOPE_SKIP_APT=1 to skip it on a
# machine that is already set up.
set -euo pipefail

if [[ "${WAITSCOPE_SKIP_APT:-0}" == 1 ]]; then
  echo "install-deps: WAITSCOPE_SKIP_APT=1, not installing packages"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: run as root (it uses apt-get)" >&2
  exit 1
fi

build_pkgs=(
  build-essential cmake ninja-build pkg-config git
  clang llvm bpftool
  libbpf-dev libelf-dev zlib1g-dev
  libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libbenchmark-dev libexpat1-dev
)
test_pkgs=(
  python3 python3-jsonschema python3-psycopg2 python3-pymysql
  golang-go
  postgresql postgresql-contrib
  mariadb-server mariadb-client
  redis-server redis-tools
  nginx-light curl
)

pkgs=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#pkgs[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
