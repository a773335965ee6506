#!/usr/bin/env bash
# The docs tell one first-run flow: the block between the first-run markers
# is the same in README.md, docs/CLI.md and deploy/RUNNING.md; and no
# Markdown link of the repository points outside it.
#   test_docs.sh SOURCE_DIR
set -euo pipefail
src=${1:?source dir}
fail=0
block() { sed -n '/^<!-- first-run/,/^<!-- \/first-run -->/p' "$src/$1"; }
ref=$(block README.md)
[ -n "$ref" ] || { echo "FAIL: README.md has no first-run block"; exit 1; }
for f in docs/CLI.md deploy/RUNNING.md; do
  if [ "$(block "$f")" != "$ref" ]; then
    echo "FAIL: the first-run block of $f differs from README.md's:"
    diff <(printf '%s\n' "$ref") <(block "$f") | head -20
    fail=1
  fi
done
# every relative link resolves inside the repository
root=$(cd "$src" && pwd -P)
while IFS= read -r md; do
  dir=$(dirname "$md")
  while IFS= read -r target; do
    case "$target" in http*|mailto:*|\#*|man:*) continue ;; esac
    path=${target%%#*}
    [ -n "$path" ] || continue
    full=$(cd "$dir" && realpath -m "$path")
    case "$full" in
      "$root"/*) [ -e "$full" ] || { echo "FAIL: $md links to missing $target"; fail=1; } ;;
      *) echo "FAIL: $md links outside the repository: $target"; fail=1 ;;
    esac
  done < <(grep -o '](\([^)]*\))' "$md" | sed 's/^](\(.*\))$/\1/')
done < <(cd "$src" && git ls-files '*.md' 2>/dev/null | sed "s#^#$src/#" || find "$src" -name '*.md' -not -path '*/build*')
[ "$fail" = 0 ] && echo "docs: one first-run flow, every link inside the repository"
exit "$fail"
