#!/usr/bin/env bash
# Every guest integration test; the last line is the count of this run.
source "$(dirname "$0")/lib.sh"
: >"$COUNTS"
bash "$ROOT/scripts/guest/kecho.sh"
bash "$ROOT/scripts/guest/khttpd.sh"
p=$(grep -c '^pass' "$COUNTS") f=$(grep -c '^fail' "$COUNTS")
echo "guest: $p passed, $f failed"
[ "$f" = 0 ]
