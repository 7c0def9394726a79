#!/usr/bin/env bash
# Every guest integration test of `make check`; the last line is the count of this run.
# Each script runs through run_script, which fails it if it ran more or fewer tests than it
# planned; check.sh checks this script's own plan from the counts. The suites run one after
# the other; hardening.sh uses both modules and runs last. One kmemleak
# check at the end covers every part (a scan takes tens of seconds under TCG).
# Moved to `make soak`: the 1,000-client runs, long storms, more load/unload cycles, and the
# hardening parts churn (3,000 connections x 2, with their kmemleak scans) and redbot.
source "$(dirname "$0")/lib.sh"
: >"$COUNTS"
# itest tests marked alone (timing-sensitive) run with no itest test of the other lane.
export ITEST_LOCK=$TMPD/itest.lock FAULTS_LEAKS=later
plan 6
# One after the other: kecho/nodelay_round_trips and kecho/rmmod_under_load failed in one
# make check when kecho.sh ran beside khttpd.sh in the same 2 emulated vCPUs.
run_script kecho.sh
FAULT_SECS=${FAULT_SECS:-3} run_script faults.sh kecho
run_script khttpd.sh
FAULT_SECS=${FAULT_SECS:-3} run_script faults.sh khttpd
HARD_PARTS=${HARD_PARTS:-params http dotfiles refused budget echo fifo} run_script hardening.sh
check leaks/kmemleak-empty kmemleak_empty
end_plan
echo "TIME all $SECONDS s"
echo "guest: $(totals)"
