#!/usr/bin/env bash
# Install the Debian packages entrelab needs to build and test, if missing.
# Idempotent; works as root or through sudo; prints what it installs.
#   deploy/install-deps.sh           build + test dependencies
#   deploy/install-deps.sh --bench   also mosquitto + libmosquitto-dev and nginx-light
#                                    (the benchmarks' peers)
set -euo pipefail

pkgs=(build-essential cmake pkg-config protobuf-c-compiler libprotobuf-c-dev
      libzmq3-dev libsodium-dev liblmdb-dev lmdb-utils libical-dev libinih-dev
      libcmocka-dev libjansson-dev jq python3 python3-nacl python3-zmq procps faketime
      libmicrohttpd-dev libsystemd-dev python3-icalendar python3-dateutil
      python3-prometheus-client chromium strace scdoc lintian)
for arg in "$@"; do
  case "$arg" in
    --bench) pkgs+=(mosquitto libmosquitto-dev nginx-light) ;;
    --fuzz)  pkgs+=(clang libclang-rt-14-dev) ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}"; then
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
