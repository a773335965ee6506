#!/usr/bin/env bash
# Build the fuzz targets (clang, libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer) and run each for a while.
#   deploy/fuzz.sh [SECONDS] [TARGET...]
#     SECONDS   per target (default 60)
#     TARGET    names as in tests/fuzz/fuzz_TARGET.c (default: all)
# Environment: EL_FUZZ_BUILD  the build folder (default build-fuzz in the
# source tree; its corpus/TARGET folders keep what was found between runs).
# Prints per target: executions, corpus size (inputs in the working corpus
# after the run) and crashes. Every crash, leak, timeout or out-of-memory
# input is copied to tests/fuzz/regress/TARGET/, which ctest's
# fuzz_replay_TARGET replays (commit it with the fix). libFuzzer stops at the
# first crash: the target is started again for the rest of its time (at most
# 5 crashes per target). Exit 0 when no target crashed, 1 otherwise, 2 on a
# usage or build error.
set -euo pipefail

src="$(cd "$(dirname "$0")/.." && pwd)"
secs=60
targets=()
for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    *)
      if [[ "$arg" =~ ^[0-9]+$ ]] && [ ${#targets[@]} -eq 0 ] && [ "$secs" = 60 ] \
         && [ ! -f "$src/tests/fuzz/fuzz_$arg.c" ]; then
        secs="$arg"
      elif [ -f "$src/tests/fuzz/fuzz_$arg.c" ]; then
        targets+=("$arg")
      else
        echo "fuzz.sh: no fuzz target '$arg' (tests/fuzz/fuzz_$arg.c)" >&2; exit 2
      fi ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$src"/tests/fuzz/fuzz_*.c; do
    t="$(basename "$f" .c)"; targets+=("${t#fuzz_}")
  done
fi

# clang and its libFuzzer/sanitizer runtimes: an optional step of install-deps
if ! command -v clang >/dev/null \
   || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz.sh: clang or libFuzzer missing: deploy/install-deps.sh --fuzz"
  "$src/deploy/install-deps.sh" --fuzz || { echo "fuzz.sh: cannot install clang" >&2; exit 2; }
fi

# files in a folder (0 when it does not exist)
count() { find "$1" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

bld="${EL_FUZZ_BUILD:-$src/build-fuzz}"
exes=(el_fuzz_seeds)
for t in "${targets[@]}"; do exes+=("fuzz_$t"); done
mkdir -p "$bld"
echo "fuzz.sh: building in $bld"
if ! { CC=clang cmake -S "$src" -B "$bld" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DEL_FUZZ=ON -DEL_SANITIZE=ON >"$bld/configure.log" 2>&1 \
       && nice cmake --build "$bld" -j"$(nproc)" --target "${exes[@]}" \
            >"$bld/build.log" 2>&1; }; then
  tail -30 "$bld/configure.log" "$bld/build.log" 2>/dev/null >&2
  echo "fuzz.sh: build failed (logs in $bld)" >&2; exit 2
fi
rm -rf "$bld/seeds"
"$bld/tests/fuzz/el_fuzz_seeds" "$bld/seeds" >/dev/null

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
total_crashes=0
rows=()
for t in "${targets[@]}"; do
  exe="$bld/tests/fuzz/fuzz_$t"
  work="$bld/corpus/$t"; art="$bld/crashes/$t"; log="$bld/logs/$t.log"
  rm -rf "$art"                 # this run's crashes only (earlier ones are in regress/)
  mkdir -p "$work" "$art" "$(dirname "$log")"
  : >"$log"
  dirs=("$work")
  for d in "$bld/seeds/$t" "$src/tests/fuzz/corpus/$t" "$src/tests/fuzz/regress/$t"; do
    [ -d "$d" ] && dirs+=("$d")
  done
  case "$t" in
    ics|import) for d in "$src"/deploy/demo/*/; do dirs+=("$d"); done ;;
    config) dirs+=("$src/deploy/examples") ;;
  esac
  execs=0; crashes=0
  end=$(( $(date +%s) + secs ))
  while :; do
    left=$(( end - $(date +%s) ))
    [ "$left" -ge 1 ] || break
    before=$(count "$art")
    set +e
    "$exe" -max_total_time="$left" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$art/" "${dirs[@]}" >>"$log" 2>&1
    rc=$?
    set -e
    n=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    execs=$(( execs + ${n:-0} ))
    sed -i 's/stat::number_of_executed_units/stat::counted_executed_units/' "$log"
    after=$(count "$art")
    if [ "$rc" -eq 0 ] || [ "$after" -eq "$before" ]; then
      [ "$rc" -eq 0 ] || { echo "fuzz.sh: fuzz_$t exited $rc without an artifact (see $log)" >&2; crashes=$((crashes + 1)); }
      break
    fi
    crashes=$(( crashes + after - before ))
    [ "$crashes" -lt 5 ] || break
  done
  if ls "$art"/* >/dev/null 2>&1; then
    mkdir -p "$src/tests/fuzz/regress/$t"
    for f in "$art"/*; do cp "$f" "$src/tests/fuzz/regress/$t/"; done
  fi
  total_crashes=$(( total_crashes + crashes ))
  rows+=("$(printf '%-14s %12s %8s %8s' "$t" "$execs" "$(count "$work")" "$crashes")")
  echo "fuzz.sh: $t: $execs executions, $crashes crashes"
done

echo
printf '%-14s %12s %8s %8s\n' target executions corpus crashes
printf '%s\n' "${rows[@]}"
if [ "$total_crashes" -gt 0 ]; then
  echo "fuzz.sh: $total_crashes crash inputs saved under tests/fuzz/regress/ (logs in $bld/logs)"
  exit 1
fi
echo "fuzz.sh: no crash in ${#targets[@]} targets, ${secs} s each"
