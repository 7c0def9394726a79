#!/usr/bin/env bash
# Every guest integration test; the last line is the count of this run.
source "$(dirname "$0")/lib.sh"
: >"$COUNTS"
bash "$ROOT/scripts/guest/kecho.sh"
bash "$ROOT/scripts/guest/khttpd.sh"
# The short version of the soak's allocation-failure part.
FAULT_SECS=${FAULT_SECS:-15} bash "$ROOT/scripts/guest/faults.sh" kecho
FAULT_SECS=${FAULT_SECS:-15} bash "$ROOT/scripts/guest/faults.sh" khttpd
p=$(grep -c '^pass' "$COUNTS" || true) f=$(grep -c '^fail' "$COUNTS" || true)
echo "guest: $p passed, $f failed"
[ "$f" = 0 ]
