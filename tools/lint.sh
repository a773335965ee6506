#!/usr/bin/env bash
# entrelab's source lint (the ctest `lint`): assignments inside if/while
# conditions, banned functions, comments naming issues or files outside the
# repository; function length with --report-long / --enforce-long.
# The rules and options: tools/lint.py --help.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v python3 >/dev/null 2>&1; then
    echo "lint: python3 not found" >&2
    exit 2
fi
exec python3 "$here/lint.py" --root "$here/.." "$@"
