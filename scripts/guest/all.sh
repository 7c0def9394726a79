#!/usr/bin/env bash
# Every guest integration test of `make check`; the last line is the count of this run.
# Each script runs through run_script, which fails it if it ran more or fewer tests than it
# planned; check.sh checks this script's own plan from the counts.
source "$(dirname "$0")/lib.sh"
: >"$COUNTS"
export ITEST_LOCK=$TMPD/itest.lock
plan 5
# One after the other: kecho/nodelay_round_trips and kecho/rmmod_under_load failed when
# kecho.sh ran beside khttpd.sh in the same 2 emulated vCPUs.
run_script kecho.sh
FAULT_SECS=${FAULT_SECS:-5} run_script faults.sh kecho
run_script khttpd.sh
FAULT_SECS=${FAULT_SECS:-5} run_script faults.sh khttpd
run_script hardening.sh
end_plan
echo "TIME all $SECONDS s"
echo "guest: $(totals)"
