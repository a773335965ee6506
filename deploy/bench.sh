#!/usr/bin/env bash
# Benchmark entrelab against this machine's own limits and a peer.
#   deploy/bench.sh [--quick] [--json] [--runs N]
#       install the bench dependencies, build Release in build-release/, run
#       every figure N times (default 3) on loopback, print the table (median,
#       min, max); with --json print one JSON object (table on stderr).
#       Full run < 10 min, --quick < 2 min (smaller N, see sizes below).
#   deploy/bench.sh --smoke --build-dir DIR [--json]
#       tiny N, no install, no rebuild: the programs of DIR (the ctest smoke test).
#   --build-dir DIR  build (or with --no-build, reuse) DIR instead of build-release/
#   --no-build       no install, no build: run the programs already in the build dir
# A figure whose program is not built, or which fails, is null with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
src_dir=$(pwd)

mode=full
json=0
runs=3
build_dir=""
no_build=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --smoke) mode=smoke ;;
    --json) json=1 ;;
    --runs) runs=${2:?--runs needs a count}; shift ;;
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift ;;
    --no-build) no_build=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$runs" in ''|*[!0-9]*) echo "bench.sh: --runs needs a number" >&2; exit 2 ;; esac
if [ "$runs" -lt 1 ]; then echo "bench.sh: --runs must be >= 1" >&2; exit 2; fi

log() { echo "bench: $*" >&2; }

# ---- sizes per mode ----------------------------------------------------------
# (name: what one run does; each figure runs $runs times)
case "$mode" in
  full)
    curve_n=500000; sign_n=100000; verify_n=40000
    lmdb_commits=3000; lmdb_batches=200; floor_r=2000; peer_n=100000
    catchup_n=200000; live_n=100000; latency_n=2000; rss_records=10000; rss_sites=1000; fanout_n=10000
    http_events=1000; http_s=5; query_n=100000; query_l=1000
    run_timeout=300 ;;
  quick)
    curve_n=100000; sign_n=20000; verify_n=5000
    lmdb_commits=500; lmdb_batches=30; floor_r=500; peer_n=20000
    catchup_n=20000; live_n=20000; latency_n=300; rss_records=10000; rss_sites=1000; fanout_n=2000
    http_events=1000; http_s=2; query_n=100000; query_l=1000
    run_timeout=120 ;;
  smoke)
    curve_n=2000; sign_n=200; verify_n=100
    lmdb_commits=20; lmdb_batches=2; floor_r=50; peer_n=500
    catchup_n=500; live_n=500; latency_n=50; rss_records=200; rss_sites=20; fanout_n=100
    http_events=50; http_s=0.3; query_n=500; query_l=50
    run_timeout=120 ;;
esac

# ---- build ---------------------------------------------------------------
if [ "$mode" = smoke ]; then
  if [ -z "$build_dir" ]; then echo "bench.sh: --smoke needs --build-dir" >&2; exit 2; fi
elif [ "$no_build" = 1 ]; then
  build_dir=${build_dir:-$src_dir/build-release}
  if [ ! -d "$build_dir/tools/bench" ]; then echo "bench.sh: no bench programs in $build_dir" >&2; exit 2; fi
else
  build_dir=${build_dir:-$src_dir/build-release}
  deploy/install-deps.sh --bench >&2
  log "Release build in $build_dir"
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >&2
  cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)" >&2
fi
build_dir=$(cd "$build_dir" && pwd)
bin_dir=$build_dir/tools/bench

# Everything the runs write (LMDB environments, daemon state, broker configs)
# lives under the build dir: one filesystem for the raw baselines and the daemons.
work=$(mktemp -d "$build_dir/bench-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
samples=$work/samples.tsv
: >"$samples"

info() { printf 'info\t%s\t%s\n' "$1" "$2" >>"$samples"; }
null() { printf 'null\t%s\t%s\n' "$1" "$2" >>"$samples"; }
sample() { printf 'sample\t%s\t%s\n' "$1" "$2" >>"$samples"; }

info date "$(date -u '+%Y-%m-%d %H:%M UTC')"
info machine "$(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
info filesystem "$(df -T "$work" 2>/dev/null | awk 'NR==2 {print $2 " (" $1 ")"}')"
info mode "$mode, $runs runs per figure (interleaved rounds), build $build_dir"

# Runs are interleaved: round 1 runs every figure once, then round 2, ... so
# that a burst of load from elsewhere on the machine spreads over all figures
# instead of skewing one baseline and, through it, a ratio.
#
# run_figure PROG "KEY..." ARGS... — run PROG once (this round); it must print
# every KEY once as KEY=value. A failure makes the figure's keys null with the
# reason, and the figure is skipped in later rounds. The values of a figure
# are kept only if every round succeeded (the report ignores samples of a
# key that also has a null).
run_figure() {
  local prog=$1 keys=$2
  shift 2
  local exe=$bin_dir/$prog
  local tmp=$work/run.$prog
  mkdir -p "$tmp"
  [ -e "$tmp/failed" ] && return 0
  if [ ! -x "$exe" ]; then
    local why="$prog not built yet"
    case "$prog" in
      peer_mqtt_bridge) why="peer_mqtt_bridge not built (libmosquitto-dev missing: deploy/install-deps.sh --bench)" ;;
    esac
    for k in $keys; do null "$k" "$why"; done
    log "$prog: $why"
    : >"$tmp/failed"
    return 0
  fi
  local rc k v reason n
  log "round $round/$runs: $prog $*"
  rc=0
  local t0=$SECONDS
  timeout --kill-after=10 "$run_timeout" "$exe" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  log "  ($prog took $((SECONDS - t0)) s)"
  if [ "$rc" -ne 0 ]; then
    reason=$(grep '^error:' "$tmp/err" | tail -1 | sed 's/^error: //')
    [ "$rc" -eq 124 ] && reason="timed out after ${run_timeout}s${reason:+: $reason}"
    reason="$prog failed in round $round (exit $rc)${reason:+: $reason}"
    log "$reason"
    sed 's/^/  /' "$tmp/err" | tail -20 >&2
    for k in $keys; do null "$k" "$reason"; done
    : >"$tmp/failed"
    return 0
  fi
  grep -v '^error:' "$tmp/err" | sed 's/^/  /' >&2 || true
  for k in $keys; do
    n=0
    while IFS= read -r v; do
      if ! [[ "$v" =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then n=-1; break; fi
      n=$((n + 1))
    done < <(sed -n "s/^$k=//p" "$tmp/out")
    if [ "$n" -ne 1 ]; then
      for k in $keys; do null "$k" "$prog printed no single valid value for $k in round $round"; done
      : >"$tmp/failed"
      return 0
    fi
  done
  for k in $keys; do sample "$k" "$(sed -n "s/^$k=//p" "$tmp/out")"; done
}

# ---- raw baselines -----------------------------------------------------------
fig_raw_curve()  { run_figure raw_curve "raw_curve_msgs_per_s" -n "$curve_n"; }
fig_raw_crypto() { run_figure raw_crypto "raw_sign_per_s raw_verify_per_s" -n "$sign_n" -v "$verify_n"; }
fig_raw_lmdb()   { run_figure raw_lmdb "raw_commit_per_s raw_batch_puts_per_s" -d "$work" -c "$lmdb_commits" -b "$lmdb_batches"; }
fig_floor()      { run_figure floor_rtt "floor_us floor_curve_rtt_p50_us floor_commit_p50_us floor_curve_rtt_p99_us floor_commit_p99_us" -d "$work" -r "$floor_r"; }
fig_peer()       { run_figure peer_mqtt_bridge "peer_mqtt_bridge_msgs_per_s" -n "$peer_n" -d "$work"; }
# nginx serving the feed el_bench_http saved this round (fig_http runs first)
fig_http_peer()  { run_figure peer_http_static "nginx_static_req_per_s" -f "$work/agenda.ics" -d "$work" -c 16 -s "$http_s" -R 1; }

# ---- entrelab figures (broker and nodes as real processes) -----------------
# Each program starts entrelab-broker / entrelab-node from $build_dir in a
# fresh state dir under $work and prints its figures as name=value.
fig_catchup()  { run_figure el_bench_catchup "catchup_entries_per_s federation_catchup_entries_per_s" -b "$build_dir" -d "$work" -R 1 -n "$catchup_n" -o 10 -F; }
fig_live()     { run_figure el_bench_live "live_entries_per_s" -b "$build_dir" -d "$work" -R 1 -n "$live_n"; }
fig_latency()  { run_figure el_bench_latency "latency_p50_us latency_p99_us" -b "$build_dir" -d "$work" -R 1 -n "$latency_n" -r 200; }
fig_http()     { rm -f "$work/agenda.ics"; run_figure el_bench_http "http_agenda_req_per_s" -b "$build_dir" -d "$work" -R 1 -e "$http_events" -c 16 -s "$http_s" -o "$work/agenda.ics"; }
fig_query()    { run_figure el_bench_query "event_show_us event_list_page_us event_window_us" -b "$build_dir" -d "$work" -n "$query_n" -l "$query_l"; }
fig_rss()      { run_figure el_bench_rss "node_rss_idle_kib node_anon_kib broker_rss_per_site_kib store_bytes_per_entry fanout_deliveries_per_s" -b "$build_dir" -d "$work" -R 1 -e "$rss_records" -c "$rss_sites" -f "$fanout_n"; }

# how busy the machine was (other jobs skew every figure): load average and
# the kernel's pressure stall information, share of time some task waited
s_load() {
  local psi_cpu psi_io
  psi_cpu=$(sed -n 's/^some avg10=[^ ]* avg60=\([^ ]*\).*/\1/p' /proc/pressure/cpu 2>/dev/null)
  psi_io=$(sed -n 's/^some avg10=[^ ]* avg60=\([^ ]*\).*/\1/p' /proc/pressure/io 2>/dev/null)
  echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg)${psi_cpu:+, cpu pressure ${psi_cpu}%}${psi_io:+, io pressure ${psi_io}%} (60 s)"
}
load_start=$(s_load)
start=$(date +%s)
# each figure starts with the page cache flushed: no figure pays for the
# previous one's writeback
for ((round = 1; round <= runs; round++)); do
  for fig in fig_raw_curve fig_raw_crypto fig_raw_lmdb fig_floor fig_peer \
             fig_catchup fig_live fig_latency fig_rss fig_http fig_http_peer fig_query; do
    sync
    "$fig"
  done
done
info elapsed "$(( $(date +%s) - start )) s"
info "load at start" "$load_start"
info "load at end" "$(s_load)"

if [ "$json" = 1 ]; then
  python3 "$src_dir/tools/bench/bench_report.py" "$samples" --json
else
  python3 "$src_dir/tools/bench/bench_report.py" "$samples"
fi
