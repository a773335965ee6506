#!/usr/bin/env bash
# Bash completion of entrelab (the script `entrelab help-completion` writes
# and the build installs): commands, subcommands, options of the command
# being typed, directories after --node. Run by ctest as deploy_completion.
#   test_completion.sh ENTRELAB_BINARY
set -euo pipefail
cli=${1:?the entrelab binary}
script=$(mktemp)
trap 'rm -f "$script"' EXIT
"$cli" help-completion >"$script"
bash -n "$script" || { echo "FAIL: the completion script does not parse"; exit 1; }
fail=0
# complete WANT WORDS...: the last word is the one being completed
complete_is() {
  local want=$1
  shift
  local got
  got=$(bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
                 _entrelab; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
        _ "$script" "$@")
  if [ "${got% }" != "$want" ]; then
    echo "FAIL: entrelab ${*:2}<TAB>: got '${got% }', want '$want'"
    fail=1
  fi
}
complete_is "event" entrelab ev
complete_is "equipment" entrelab equ
complete_is "bookings" entrelab bookin
complete_is "add availability" entrelab equipment a
complete_is "--from" entrelab event list --fr
complete_is "--from" entrelab --node /tmp event list --fr
complete_is "--opening-hours" entrelab admit KEY --op
complete_is "--weeks" entrelab equipment availability tour --we
complete_is "--json" entrelab --js
# every command's options, from its own --help, are offered for it
while read -r words; do
  # shellcheck disable=SC2086
  opts=$("$cli" $words --help | sed -n 's/^  \(--[a-z-]*\).*/\1/p' | sort | tr '\n' ' ')
  # shellcheck disable=SC2086
  got=$(bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _entrelab;
                 printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$script" \
        entrelab $words X --)
  for o in $opts; do
    case " $got " in *" $o "*) ;; *) echo "FAIL: entrelab $words: $o not completed"; fail=1 ;; esac
  done
done < <("$cli" --help | sed -n 's/^  \([a-z]*\( [a-z]*\)\?\) .*/\1/p' | sed 's/ [A-Z].*//')
[ "$fail" = 0 ] && echo "completion: ok"
exit "$fail"
