#!/usr/bin/env bash
# Installs everything waitscope needs from Debian 12 packages.
#   tools/install-deps.sh          build dependencies
#   tools/install-deps.sh --demo   build + what the quick-start demo runs (PostgreSQL, Redis, Python drivers)
#   tools/install-deps.sh --test   build + demo + test dependencies (servers, clients, fuzzing, packaging)
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
  libyaml-cpp-dev libcurl4-openssl-dev
  dpkg-dev file
)
# tools/demo/shop: a Python web shop on PostgreSQL, Redis and a local SMTP sink.
demo_pkgs=(
  python3 python3-psycopg2 python3-redis
  postgresql postgresql-contrib
  redis-server redis-tools
  openssl
)
test_pkgs=(
  python3-jsonschema python3-pymysql python3-protobuf
  golang-go
  mariadb-server mariadb-client
  nginx-light curl wrk libssl-dev
  prometheus systemd man-db groff-base adduser util-linux
  procps # pgrep: tools/run-tests.sh stops its background builds with it
)

pkgs=("${build_pkgs[@]}")
case "${1:-}" in
  --demo) pkgs+=("${demo_pkgs[@]}") ;;
  --test) pkgs+=("${demo_pkgs[@]}" "${test_pkgs[@]}") ;;
  "") ;;
  *)
    echo "install-deps: unknown option '$1' (use --demo or --test)" >&2
    exit 2
    ;;
esac

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
