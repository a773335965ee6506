#!/usr/bin/env bash
# The systemd units: `systemd-analyze security` rates each 2.5 or better,
# `systemd-analyze verify` accepts each (with the built binaries and man
# pages), both run the same user with Type=notify, and the man pages render.
#   test_units.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze is not installed (Debian's systemd package)"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for unit in entrelab-node entrelab-broker; do
  file=$src/deploy/$unit.service
  out=$(systemd-analyze security --offline=true "$file" 2>&1) || true
  score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  if [ -z "$score" ]; then
    echo "SKIP: this systemd-analyze has no --offline security (systemd >= 252 has)"; exit 77
  fi
  if awk -v s="$score" 'BEGIN { exit !(s > 2.5) }'; then
    echo "FAIL: $unit exposure $score > 2.5"; printf '%s\n' "$out" | grep '✗'; fail=1
  else
    echo "$unit: exposure $score"
  fi
  grep -q '^Type=notify$' "$file" || { echo "FAIL: $unit is not Type=notify"; fail=1; }
  grep -q '^User=entrelab$' "$file" || { echo "FAIL: $unit does not run as entrelab"; fail=1; }
  # verify with the binaries of this build (the unit names /usr/bin)
  sed "s#/usr/bin/#$build/#" "$file" >"$tmp/$unit.service"
  if [ -d "$build/man" ]; then
    MANPATH=$build/man systemd-analyze verify "$tmp/$unit.service" || fail=1
  else
    systemd-analyze verify --man=no "$tmp/$unit.service" || fail=1
  fi
done
# the two units agree on the user and on the home the package gives it
diff <(grep -E '^(User|Group|UMask|Type)=' "$src/deploy/entrelab-node.service") \
     <(grep -E '^(User|Group|UMask|Type)=' "$src/deploy/entrelab-broker.service") \
  || { echo "FAIL: the units disagree"; fail=1; }
# man pages: built, and they render
if [ -d "$build/man" ]; then
  for page in man1/entrelab.1 man8/entrelab-node.8 man8/entrelab-broker.8 man5/entrelab.conf.5; do
    [ -s "$build/man/$page" ] || { echo "FAIL: $page not built"; fail=1; continue; }
    if command -v man >/dev/null; then
      text=$(MANWIDTH=80 man -l "$build/man/$page" 2>/dev/null | col -b)
      printf '%s' "$text" | grep -q '^NAME' || { echo "FAIL: $page does not render"; fail=1; }
    fi
  done
  # every command of `entrelab --help` is in entrelab(1)
  while read -r words; do
    [ -n "$words" ] || continue
    grep -q "^\*$words" "$src/docs/man/entrelab.1.scd" \
      || { echo "FAIL: entrelab(1) lacks '$words'"; fail=1; }
  done < <("$build/entrelab" --help | sed -n 's/^  \([a-z]\+\( [a-z]\+\)\?\)  .*/\1/p;s/^  \([a-z]\+\( [a-z]\+\)\?\) [A-Z[].*/\1/p')
else
  echo "note: scdoc missing, man pages not built (deploy/install-deps.sh installs it)"
fi
[ "$fail" = 0 ] && echo "units: ok"
exit "$fail"
