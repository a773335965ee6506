#!/usr/bin/env bash
# Fuzz every decoder with libFuzzer (clang, AddressSanitizer + UBSan).
#   deploy/fuzz.sh [SECONDS] [TARGET...]
#       installs clang (deploy/install-deps.sh --fuzz), builds the fuzz
#       targets in build-fuzz/, runs each for SECONDS (default 60) on its
#       seeds, committed corpus and regression inputs, and prints per target
#       the executions, the corpus size and the crashes. A crash input is
#       copied to tests/fuzz/regress/TARGET/ (ctest replays every file there:
#       commit it with the fix). Exit 1 when any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=60
targets=()
for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    ''|*[!0-9]*) targets+=("$arg") ;;
    *) secs=$arg ;;
  esac
done
deploy/install-deps.sh --fuzz >&2
build=build-fuzz
CC=clang cmake -S . -B "$build" -DEL_FUZZ=ON -DEL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    t=$(basename "$f" .c); targets+=("${t#fuzz_}")
  done
fi
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target el_fuzz_seeds \
  $(printf 'fuzz_%s ' "${targets[@]}") >&2
seeds=$build/fuzz-seeds
"$build/tests/fuzz/el_fuzz_seeds" "$seeds" >&2
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
crashed=0
printf '%-14s %12s %8s %8s\n' target execs corpus crashes
for t in "${targets[@]}"; do
  work=$build/fuzz-run/$t
  rm -rf "$work"; mkdir -p "$work/corpus" "$work/crashes"
  dirs=("$work/corpus")
  for d in "$seeds/$t" tests/fuzz/corpus/"$t" tests/fuzz/regress/"$t"; do
    [ -d "$d" ] && dirs+=("$d")
  done
  # demo data seeds the text formats, as the ctest replays do
  case "$t" in ics|import) dirs+=(deploy/demo/*/) ;; config) dirs+=(deploy/examples) ;; esac
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/crashes/" "${dirs[@]}" \
    >"$work/log" 2>&1 || true
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  n_corpus=$(find "$work/corpus" -type f | wc -l)
  n_crash=$(find "$work/crashes" -type f | wc -l)
  printf '%-14s %12s %8s %8s\n' "$t" "${execs:-?}" "$n_corpus" "$n_crash"
  if [ "$n_crash" -gt 0 ]; then
    crashed=1
    mkdir -p tests/fuzz/regress/"$t"
    cp "$work"/crashes/* tests/fuzz/regress/"$t"/
    echo "  $t: crash inputs copied to tests/fuzz/regress/$t/ (log: $work/log)" >&2
    grep -m3 -E 'ERROR: (AddressSanitizer|libFuzzer)|runtime error' "$work/log" | sed 's/^/  /' >&2 || true
  fi
done
exit "$crashed"
