#!/usr/bin/env bash
# Whether README.md allows a test to be skipped, and why. A skip is allowed only by a bullet
# "- `PATTERN`: why" (PATTERN a shell glob over test names) in the list that follows the line
# "Tests that may be skipped, and why" in the README's "Tests" section.
# Usage: scripts/allowed-skips.sh README TEST_NAME   (prints the reason; exit 1 if not allowed)
readme=$1 name=$2
while IFS=$'\t' read -r pattern why; do
  # shellcheck disable=SC2053 # the pattern is a glob on purpose
  if [[ $name == $pattern ]]; then echo "$why"; exit 0; fi
done < <(awk '/^Tests that may be skipped, and why/ { on = 1; next }
  on && /^- `[^`]+`: / { p = $0; sub(/^- `/, "", p); why = p; sub(/`: .*/, "", p); sub(/^[^`]*`: /, "", why)
    print p "\t" why; next }
  on && /^  / { next }
  on { on = 0 }' "$readme")
exit 1
