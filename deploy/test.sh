#!/usr/bin/env bash
# Build entrelab and run every test: once in a normal build, then again in an
# AddressSanitizer + UndefinedBehaviorSanitizer build; a Release build must
# compile as well.
#   deploy/test.sh [--no-asan]
set -euo pipefail
cd "$(dirname "$0")/.."
asan=1
for arg in "$@"; do
  case "$arg" in
    --no-asan) asan=0 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
jobs=$(nproc 2>/dev/null || echo 2)

deploy/install-deps.sh

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
echo "== tests"
(cd build && ctest --output-on-failure -j "$jobs" --timeout 600)

# the optimiser warns about what the default build does not see, and the
# README deploys a Release build: it must compile (-Werror) too
echo "== build (Release, as deployed)"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j "$jobs"

if [ "$asan" = 1 ]; then
  echo "== build (ASan + UBSan)"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DEL_SANITIZE=ON >/dev/null
  cmake --build build-asan -j "$jobs"
  echo "== tests (ASan + UBSan)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd build-asan && ctest --output-on-failure -j "$jobs" --timeout 900)
fi
echo "== all tests passed"
