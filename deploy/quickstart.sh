#!/usr/bin/env bash
# entrelab quickstart: a small federation on this machine, in one command.
#
#   deploy/quickstart.sh [options]
#
# Installs the missing Debian packages (deploy/install-deps.sh), builds, then
# starts one broker and three site nodes on free loopback ports in a temporary
# folder, admits the sites (the last one joins with an invite), imports the
# demo data of deploy/demo/ at each site (events .ics, equipment CSV, Fab
# Manager members CSV), and shows from a village site: the network's agenda
# for the coming weeks, the network's machines, a booking of the central
# site's lathe confirmed by its owner, and `entrelab status`. It stops every
# daemon it started and exits 0. The demo season is moved by whole weeks so
# that it starts in the coming week, whatever today's date.
#
# options:
#   --federated            also start a second network (the fablabs of the Vercors,
#                          deploy/demo/vercors/: a broker and two sites), link the
#                          two brokers with `entrelab federate`, and show from a
#                          Vercors site our events and machines, a booking of our
#                          laser confirmed across the networks, and none of our members
#   --keep                 leave the daemons running and print commands to try
#   --ics FILE...          also import these iCalendar files (at the central site)
#   --equipment FILE...    also import these equipment files (CSV or fablabs.io JSON)
#   --no-demo              import only the files given with --ics / --equipment
#   --build-dir DIR        build there (default: build/, as deploy/test.sh)
#   --no-build             use the programs already built in the build dir
#   --weeks N              agenda length (default 6)
#   --timeout SECONDS      how long to wait for the network to converge (default 120)
#   --help                 this text
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
demo="$here/demo"

keep=0 build=1 use_demo=1 weeks=6 timeout=120 federated=0
build_dir="$root/build"
ics_files=() equipment_files=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p'; }
die() { echo "quickstart: $*" >&2; exit 1; }

list=""
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1; list="" ;;
    --federated) federated=1; list="" ;;
    --no-build) build=0; list="" ;;
    --no-demo) use_demo=0; list="" ;;
    --build-dir) [ $# -ge 2 ] || die "--build-dir needs a directory"; build_dir=$2; shift; list="" ;;
    --weeks) [ $# -ge 2 ] || die "--weeks needs a number"; weeks=$2; shift; list="" ;;
    --timeout) [ $# -ge 2 ] || die "--timeout needs seconds"; timeout=$2; shift; list="" ;;
    --ics) list=ics ;;
    --equipment) list=equipment ;;
    -h|--help) usage; exit 0 ;;
    --*) echo "quickstart: unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
      case "$list" in
        ics) ics_files+=("$1") ;;
        equipment) equipment_files+=("$1") ;;
        *) echo "quickstart: unexpected argument $1 (see --help)" >&2; exit 2 ;;
      esac ;;
  esac
  shift
done
[[ "$weeks" =~ ^[0-9]+$ ]] && [ "$weeks" -ge 1 ] || die "--weeks: a number of weeks"
[[ "$timeout" =~ ^[0-9]+$ ]] && [ "$timeout" -ge 1 ] || die "--timeout: seconds"
for f in "${ics_files[@]}" "${equipment_files[@]}"; do
  [ -r "$f" ] || { echo "quickstart: cannot read $f" >&2; exit 2; }
done
if [ "$use_demo" = 0 ] && [ ${#ics_files[@]} -eq 0 ] && [ ${#equipment_files[@]} -eq 0 ]; then
  echo "quickstart: --no-demo needs --ics or --equipment files" >&2; exit 2
fi
# absolute paths: the commands below run from other directories
abs() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
for i in "${!ics_files[@]}"; do ics_files[$i]=$(abs "${ics_files[$i]}"); done
for i in "${!equipment_files[@]}"; do equipment_files[$i]=$(abs "${equipment_files[$i]}"); done

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ -t 1 ] || say() { printf '\n== %s\n' "$*"; }

# ------------------------------------------------------------ build
if [ "$build" = 1 ]; then
  say "Dependencies and build ($build_dir)"
  "$here/install-deps.sh"
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)" \
        --target entrelab entrelab-node entrelab-broker
fi
for p in jq python3; do
  command -v "$p" >/dev/null || die "$p is missing: run deploy/install-deps.sh"
done
build_dir=$(cd "$build_dir" 2>/dev/null && pwd) || die "no build directory $build_dir"
cli="$build_dir/entrelab" node_bin="$build_dir/entrelab-node" broker_bin="$build_dir/entrelab-broker"
for b in "$cli" "$node_bin" "$broker_bin"; do
  [ -x "$b" ] || die "$b is not built (drop --no-build, or give --build-dir)"
done

# ------------------------------------------------------------ state, daemons
# a short path: ipc:// socket paths are limited to ~100 bytes
tmp=$(mktemp -d /tmp/entrelab-qs.XXXXXX)
pids=()
stop_all() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$keep" = 1 ] && [ "$rc" = 0 ]; then
    exit 0
  fi
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  fi
  if [ "$rc" = 0 ]; then
    rm -rf "$tmp"
  elif [ "$rc" = 130 ] || [ "$rc" = 143 ]; then
    rm -rf "$tmp"
    echo "quickstart: interrupted; every daemon it started is stopped" >&2
  else
    echo "quickstart: failed; state and logs kept in $tmp" >&2
  fi
  exit "$rc"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export TZ=${TZ:-Europe/Paris}
unset ENTRELAB_NODE
el() { "$cli" --node "$1" "${@:2}"; }

# Wait until "$@" succeeds, polling; a clear message and the logs on timeout.
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "quickstart: timed out after ${timeout}s waiting for $what" >&2
      for l in "$tmp"/*.log; do
        echo "---- last lines of $l" >&2
        tail -n 15 "$l" >&2 || true
      done
      exit 1
    fi
    sleep 0.2
  done
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

fast=(--set reconnect_ivl_ms=100 --set reconnect_ivl_max_ms=1000
      --set heartbeat_ivl_ms=1000 --set heartbeat_timeout_ms=5000 --set log_level=info)
fast+=(--timezone Europe/Paris)     # the demo's sites are in Thiers

start_daemon() {     # DIR BINARY NAME
  local log="$tmp/$3.log"
  "$2" --config "$1/entrelab.conf" >"$log" 2>&1 </dev/null &
  pids+=($!)
  wait_for "$3 to answer on its control socket" el "$1" status
}

say "A network in $tmp"
hub="$tmp/hub"
port=$(free_port)
broker_key=$("$cli" init "$hub" --broker --listen "tcp://127.0.0.1:$port" "${fast[@]}" --json \
             | jq -r .key_checked)
start_daemon "$hub" "$broker_bin" hub
echo "broker   $broker_key  tcp://127.0.0.1:$port"

# sites.csv: dir, name, kind, town, address, latitude, longitude, services, opening_hours
mapfile -t sites < <(python3 - "$demo/sites.csv" <<'EOF'
import csv, sys
for row in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    print("\t".join(row[k].replace("\t", " ") for k in ("dir", "name", "kind", "town", "address")))
EOF
)
[ ${#sites[@]} -ge 2 ] || die "deploy/demo/sites.csv lists no sites"
declare -A site_dir site_name site_key site_http
central="" village=""
order=()
how=()
last=$((${#sites[@]} - 1))
for i in "${!sites[@]}"; do
  IFS=$'\t' read -r dir name kind town address <<<"${sites[$i]}"
  d="$tmp/$dir"
  http="127.0.0.1:$(free_port)"     # each site's read-only web endpoint
  if [ "$i" -lt "$last" ]; then
    # admitted by key: the site sends its key, the broker's coordinator admits it
    key=$("$cli" init "$d" --connect "tcp://127.0.0.1:$port" --broker-key "$broker_key" \
            --http "$http" "${fast[@]}" --json | jq -r .key_checked)
    how+=("admitted")
  else
    # the last one joins with a one-time invite token
    token=$(el "$hub" invite --name "$name" --kind "$kind" \
              --join-listen "tcp://127.0.0.1:$(free_port)" --json | jq -r .token)
    "$cli" init "$d" --http "$http" "${fast[@]}" >/dev/null
    key=$(el "$d" join "$token" --json | jq -r .site_checked)
    how+=("joined with an invite")
  fi
  # the directory entry, with the town and address (for an invited site: completed)
  el "$hub" admit "$key" --name "$name" --kind "$kind" --town "$town" --address "$address" \
    >/dev/null
  site_dir[$dir]=$d site_name[$dir]=$name site_key[$dir]=$key site_http[$dir]=$http
  order+=("$dir")
  [ "$kind" = central ] && [ -z "$central" ] && central=$dir
  [ "$kind" = peripheral ] && [ -z "$village" ] && village=$dir
done
[ -n "$central" ] && [ -n "$village" ] || die "sites.csv needs a central and a peripheral site"
for dir in "${order[@]}"; do
  start_daemon "${site_dir[$dir]}" "$node_bin" "$dir"
done
is_admitted() { [ "$(el "$1" status --json | jq -r .admitted)" = true ]; }
for i in "${!order[@]}"; do
  dir=${order[$i]}
  wait_for "${site_name[$dir]} to be admitted" is_admitted "${site_dir[$dir]}"
  printf '%-8s %s  %s (%s)\n' "site" "${site_key[$dir]}" "${site_name[$dir]}" "${how[$i]}"
done

# ------------------------------------------------------------ imports
# demo_shift TODAY OUT DIR...: for each DIR, OUT/DIR/events.ics is the demo
# calendar with every date moved by one whole number of weeks, the smallest
# that puts the earliest start on or after TODAY; prints that number of days.
# Local times (TZID, floating) stay as they are on the wall clock; UTC times
# (UNTIL, DTSTAMP) move with the wall clock of Europe/Paris, so that a moved
# UNTIL still ends the series after the same local occurrence across DST.
demo_shift() {
  python3 - "$demo" "$@" <<'EOF'
import datetime, os, re, sys, zoneinfo
demo, today, out, dirs = sys.argv[1], datetime.date.fromisoformat(sys.argv[2]), sys.argv[3], sys.argv[4:]
paris, utc = zoneinfo.ZoneInfo("Europe/Paris"), datetime.timezone.utc
DATED = {"DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "EXDATE", "RDATE", "DTSTAMP",
         "LAST-MODIFIED", "CREATED"}
STAMP = re.compile(r"(?<![0-9])([0-9]{8})(?:T([0-9]{6})(Z?))?(?![0-9])")

def move(value, days):
    step = datetime.timedelta(days=days)
    def one(m):
        if m.group(2) is None:
            return (datetime.datetime.strptime(m.group(1), "%Y%m%d") + step).strftime("%Y%m%d")
        t = datetime.datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S")
        if not m.group(3):
            return (t + step).strftime("%Y%m%dT%H%M%S")
        wall = t.replace(tzinfo=utc).astimezone(paris).replace(tzinfo=None) + step
        return wall.replace(tzinfo=paris).astimezone(utc).strftime("%Y%m%dT%H%M%SZ")
    return STAMP.sub(one, value)

def walk(text, days):
    """@text with its dates moved by @days, and its earliest DTSTART (a date)."""
    lines, out, earliest, in_tz, i = text.split("\r\n"), [], None, False, 0
    while i < len(lines):
        j = i + 1
        while j < len(lines) and lines[j][:1] in (" ", "\t"):     # folded (RFC 5545 3.1)
            j += 1
        phys, i = lines[i:j], j
        line = phys[0] + "".join(p[1:] for p in phys[1:])
        name = re.split(r"[;:]", line, maxsplit=1)[0].upper()
        if line.upper() in ("BEGIN:VTIMEZONE", "END:VTIMEZONE"):
            in_tz = line.upper().startswith("BEGIN")
        if in_tz or ":" not in line or name not in DATED | {"RRULE", "EXRULE"}:
            out.extend(phys)
            continue
        head, value = line.split(":", 1)
        if name in ("RRULE", "EXRULE"):
            value = re.sub(r"(?<=UNTIL=)[0-9TZ]+", lambda m: move(m.group(0), days), value)
        else:
            if name == "DTSTART" and STAMP.match(value):
                d = datetime.datetime.strptime(value[:8], "%Y%m%d").date()
                earliest = d if earliest is None else min(earliest, d)
            value = move(value, days)
        line = head + ":" + value
        while len(line) > 75:           # fold again (these lines are ASCII)
            out.append(line[:75])
            line = " " + line[75:]
        out.append(line)
    return "\r\n".join(out), earliest

texts = {}
for d in dirs:
    path = os.path.join(demo, d, "events.ics")
    if os.path.exists(path):
        with open(path, encoding="utf-8", newline="") as f:
            texts[d] = f.read()
starts = [s for s in (walk(t, 0)[1] for t in texts.values()) if s]
if not starts:
    sys.exit("quickstart: no DTSTART in the demo calendars")
days = 7 * -(-(today - min(starts)).days // 7)
for d, t in texts.items():
    os.makedirs(os.path.join(out, d), exist_ok=True)
    with open(os.path.join(out, d, "events.ics"), "w", encoding="utf-8", newline="") as f:
        f.write(walk(t, days)[0])
print(days)
EOF
}
import() {           # DIR KIND FILE: one import, its report; a refused file is said, not fatal
  local out rc=0
  out=$(el "$1" "$2" import "$3" 2>&1) || rc=$?
  printf '%s\n' "$out" | sed 's/^/  /'
  [ "$rc" = 0 ] || [ "$rc" = 2 ] || die "import of $3 failed"
}
if [ "$use_demo" = 1 ]; then
  # The demo calendars are written for a season from December 2026 to June
  # 2027. Import copies moved by whole weeks (weekdays and local times kept)
  # so that the season starts in the coming week: the agenda below is never
  # empty and the booking never in the past, whatever today's date.
  shifted=$(demo_shift "$(date +%Y-%m-%d)" "$tmp/demo" "${order[@]}") \
    || die "cannot move the demo season to today"
  echo "demo season moved by $shifted days, to start within a week of today"
  for dir in "${order[@]}"; do
    say "Demo data of ${site_name[$dir]} (deploy/demo/$dir)"
    for kind in event equipment member; do
      case $kind in event) f=events.ics ;; equipment) f=equipment.csv ;; member) f=members.csv ;; esac
      src="$demo/$dir/$f"
      [ "$kind" = event ] && src="$tmp/demo/$dir/$f"
      [ -f "$src" ] && import "${site_dir[$dir]}" "$kind" "$src"
    done
  done
fi
if [ ${#ics_files[@]} -gt 0 ] || [ ${#equipment_files[@]} -gt 0 ]; then
  say "Your files, imported at ${site_name[$central]}"
  for f in "${ics_files[@]}"; do import "${site_dir[$central]}" event "$f"; done
  for f in "${equipment_files[@]}"; do import "${site_dir[$central]}" equipment "$f"; done
fi

# ------------------------------------------------------------ convergence
# Every daemon holds the same entries as the broker and no link is behind.
all_dirs=("$hub")
for dir in "${order[@]}"; do all_dirs+=("${site_dir[$dir]}"); done
converged() {
  local want="" got
  for d in "${all_dirs[@]}"; do
    got=$(el "$d" status --json | jq -r '[.store.entries, .store.origins,
            ([.peers[] | select(.connected) | .behind] | add // 0)] | @tsv') || return 1
    read -r entries origins behind <<<"$got"
    [ "$behind" = 0 ] || return 1
    [ -z "$want" ] && want="$entries/$origins"
    [ "$entries/$origins" = "$want" ] || return 1
  done
}
say "Waiting for every site to hold every entry"
wait_for "the four daemons to converge" converged
echo "converged: $(el "$hub" status --json | jq -r .store.entries) entries on each of ${#all_dirs[@]} daemons"

V=${site_dir[$village]}
# ------------------------------------------------------------ agenda
from=$(date +%Y-%m-%d)
to=$(date -d "$from + $weeks weeks" +%Y-%m-%d)
day=$(date -d "$from + 2 days" +%Y-%m-%d)      # the booking's day
say "The network's agenda, $from to $to, seen from ${site_name[$village]}"
el "$V" event list --from "$from" --to "$to"

# ------------------------------------------------------------ equipment
say "The network's machines, seen from ${site_name[$village]}"
el "$V" equipment list

# ------------------------------------------------------------ a booking
lathe=$(el "$V" equipment list --json --category lathe --site "${site_name[$central]}" \
        | jq -r '.equipment[0].key // empty')
if [ -n "$lathe" ]; then
  say "${site_name[$village]} books the lathe of ${site_name[$central]}"
  training=$(el "$V" equipment show "$lathe" --site "${site_name[$central]}" --json \
             | jq -r .equipment.required_training)
  member=$(el "$V" member list --json --site "${site_name[$village]}" \
           | jq -r --arg t "$training" \
             '[.members[] | select($t == "" or (.trainings | index($t)))][0] // empty
              | .key + "\t" + .name')
  book=(book "$lathe" --site "${site_name[$central]}" --from "$day 09:00" --to "$day 12:00"
        --purpose "mitres de couteaux" --wait 30)
  if [ -n "$member" ]; then
    IFS=$'\t' read -r member_key member_name <<<"$member"
    echo "member: $member_name ($member_key), trained on ${training:-nothing needed}"
    book+=(--member "$member_key")
  fi
  printf '$ entrelab'
  for w in "${book[@]}"; do [[ "$w" == *" "* ]] && printf ' "%s"' "$w" || printf ' %s' "$w"; done
  echo
  id=$(el "$V" --json "${book[@]}" | jq -r .id)
  answered() {
    [ "$(el "$V" bookings list --json | jq -r --arg id "$id" \
          '.bookings[] | select(.id == $id) | .status')" != pending ]
  }
  wait_for "the owner's answer to $id" answered
  el "$V" bookings list --json | jq -r --arg id "$id" \
    '.bookings[] | select(.id == $id) | "booking \(.status): \(.equipment) at \(.owner_name), \(.start) to \(.end), for \(.requester_name)\(if .reason != "" then " — " + .reason else "" end)"'
else
  say "No lathe at ${site_name[$central]}: no booking to show"
fi

# ------------------------------------------------------------ web
say "The network on the web, served by ${site_name[$village]}"
web="http://${site_http[$village]}"
echo "agenda     $web/   (also /equipment, /sites, /embed)"
n_feed=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=10).read().count(b"BEGIN:VEVENT"))' \
         "$web/agenda.ics") || die "the web endpoint did not answer at $web/agenda.ics"
echo "calendar   webcal://${site_http[$village]}/agenda.ics   ($n_feed events)"
echo "open data  $web/api/events  $web/api/equipment  $web/api/sites"
echo "metrics    $web/metrics"

# ------------------------------------------------------------ a second network
if [ "$federated" = 1 ]; then
  vdemo="$demo/vercors"
  say "A second network: the fablabs of the Vercors (deploy/demo/vercors)"
  vhub="$tmp/vercors-hub"
  vport=$(free_port)
  vkey=$("$cli" init "$vhub" --broker --listen "tcp://127.0.0.1:$vport" "${fast[@]}" --json \
         | jq -r .key)
  start_daemon "$vhub" "$broker_bin" vercors-hub
  echo "broker   $vkey  tcp://127.0.0.1:$vport"
  mapfile -t vsites < <(python3 - "$vdemo/sites.csv" <<'EOF'
import csv, sys
for row in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    print("\t".join(row[k].replace("\t", " ") for k in ("dir", "name", "kind", "town", "address")))
EOF
)
  vdirs=() vnames=()
  for line in "${vsites[@]}"; do
    IFS=$'\t' read -r dir name kind town address <<<"$line"
    d="$tmp/vercors-$dir"
    key=$("$cli" init "$d" --connect "tcp://127.0.0.1:$vport" --broker-key "$vkey" "${fast[@]}" \
            --json | jq -r .key)
    el "$vhub" admit "$key" --name "$name" --kind "$kind" --town "$town" --address "$address" \
      >/dev/null
    start_daemon "$d" "$node_bin" "vercors-$dir"
    vdirs+=("$dir") vnames+=("$name")
  done
  for i in "${!vdirs[@]}"; do
    wait_for "${vnames[$i]} to be admitted" is_admitted "$tmp/vercors-${vdirs[$i]}"
    echo "site     ${vnames[$i]}"
  done
  vshift=$(demo_shift "$(date +%Y-%m-%d)" "$tmp/demo" "${vdirs[@]/#/vercors/}")
  for i in "${!vdirs[@]}"; do
    dir=${vdirs[$i]}
    say "Demo data of ${vnames[$i]} (deploy/demo/vercors/$dir)"
    import "$tmp/vercors-$dir" event "$tmp/demo/vercors/$dir/events.ics"
    if [ -f "$vdemo/$dir/equipment.csv" ]; then
      import "$tmp/vercors-$dir" equipment "$vdemo/$dir/equipment.csv"
    fi
    if [ -f "$vdemo/$dir/members.csv" ]; then
      import "$tmp/vercors-$dir" member "$vdemo/$dir/members.csv"
    fi
  done
  echo "(the Vercors season moved by $vshift days)"

  say "The two networks federate: each broker links to the other"
  echo "\$ entrelab --node hub federate $vkey tcp://127.0.0.1:$vport --name \"Fablabs du Vercors\" --share events,equipment,bookings"
  el "$hub" federate "$vkey" "tcp://127.0.0.1:$vport" --name "Fablabs du Vercors" \
    --share events,equipment,bookings >/dev/null
  el "$vhub" federate "$broker_key" "tcp://127.0.0.1:$port" --name "Réseau de la Durolle" \
    --share events,equipment,bookings >/dev/null
  L="$tmp/vercors-${vdirs[-1]}"
  LNAME=${vnames[-1]}
  C_NAME=${site_name[$central]}
  laser_seen() {
    [ -n "$(el "$L" equipment list --json --category laser_cutter --site "$C_NAME" \
            | jq -r '.equipment[0].key // empty')" ]
  }
  wait_for "our laser to reach $LNAME" laser_seen
  el "$hub" federation list

  say "Both networks' agenda, $from to $to, seen from $LNAME (Vercors)"
  el "$L" event list --from "$from" --to "$to"
  say "The machines $LNAME sees (ours only when bookable by the federation)"
  el "$L" equipment list
  say "$LNAME books the laser of $C_NAME, across the networks"
  laser=$(el "$L" equipment list --json --category laser_cutter --site "$C_NAME" \
          | jq -r '.equipment[0].key')
  vmember=$(el "$L" member list --json | jq -r \
            '[.members[] | select(.trainings | index("laser_cutter"))][0] // empty | .key')
  vbook=(book "$laser" --site "$C_NAME" --from "$day 14:00" --to "$day 16:00"
         --purpose "gravure de manches" --wait 30)
  if [ -n "$vmember" ]; then vbook+=(--member "$vmember"); fi
  vid=$(el "$L" --json "${vbook[@]}" | jq -r .id)
  vanswered() {
    [ "$(el "$L" bookings list --json | jq -r --arg id "$vid" \
          '.bookings[] | select(.id == $id) | .status')" != pending ]
  }
  wait_for "the owner's answer to $vid" vanswered
  el "$L" bookings list --json | jq -r --arg id "$vid" \
    '.bookings[] | select(.id == $id) | "booking \(.status): \(.equipment) at \(.owner_name), \(.start) to \(.end), for \(.requester_name)\(if .reason != "" then " — " + .reason else "" end)"'
  say "Members of our network seen from $LNAME"
  ourkeys=$(printf '%s\n' "${site_key[@]}" | jq -R . | jq -sc .)
  el "$L" member list --json | jq -r --argjson ours "$ourkeys" \
    '"\(.members | length) members listed there, \([.members[] | select(.origin as $o
      | $ours | index($o))] | length) of ours (a member crosses only with the sharing level federation)"' 
fi

# ------------------------------------------------------------ status
say "entrelab status, at ${site_name[$village]}"
el "$V" status

if [ "$keep" = 1 ]; then
  say "The network keeps running"
  cat <<EOF
State and logs: $tmp
Daemons (pids ${pids[*]}): stop them with
  kill ${pids[*]}; rm -rf $tmp

Open $web/ in a browser, or subscribe a calendar app to
  webcal://${site_http[$village]}/agenda.ics

Try, as the village (${site_name[$village]}):
  export ENTRELAB_NODE=$V
  $cli event list --from $from --to $to
  $cli event export > network.ics
  $cli equipment list --category 3d_printer
  $cli member list
  $cli bookings list
  $cli status
and as the central site:
  export ENTRELAB_NODE=${site_dir[$central]}
  $cli event add --summary "Atelier découverte" --start "$day 14:00" --duration 2h
  $cli bookings policy manual
EOF
else
  say "Done: stopping the daemons (run with --keep to leave them running)"
fi
