#!/usr/bin/env bash
# Every guest integration test of `make check`; the last line is the count of this run.
# Each script runs through run_script, which fails it if it ran more or fewer tests than it
# planned; check.sh checks this script's own plan from the counts.
#
# Two lanes run at once, one per module (a module cannot be loaded twice): kecho_rs (its
# suite, the echo part of hardening) and khttpd_rs (its suite, the other hardening parts).
# They share the lock ITEST_LOCK (lib.sh "Lanes"): a test that measures time (unloads under
# load, timeouts; check_alone, or itest's alone tests) runs with nothing of the other lane
# beside it. Then, one after the other: fault injection per module (its knobs are global, and
# an allocation in softirq work done on kecho_rs's stack may serve the other lane's packets),
# the modules as DKMS installs them (modprobe, modprobe.d; scripts/guest/dkms.sh), and one
# kmemleak check for every part (a scan takes seconds under TCG).
# Each lane writes its output to $KTCP_OUT/lane-MODULE.log (kept on the host if the guest dies),
# printed here when the lane ends. LANES=0 runs everything one after the other.
# HARD_PARTS picks the hardening parts of the khttpd_rs lane (echo runs in the kecho_rs lane).
# Moved to `make soak`: the 1,000-client runs, long storms, more load/unload cycles, the
# hardening parts churn (3,000 connections x 2, with their kmemleak scans) and redbot, and the
# long tests (LONG=0: each named on a MOVED line; lib.sh "Long tests").
source "$(dirname "$0")/lib.sh"
: >"$COUNTS"
export FAULTS_LEAKS=later
# The long tests (9 s or more here) are named on MOVED lines and run in make soak.
export LONG=${LONG:-0}
FAULT_SECS=${FAULT_SECS:-3}
plan 9

lane_kecho() {
  run_script kecho.sh
  RUN_ID=hardening-kecho run_script hardening.sh echo
}
lane_khttpd() {
  local parts=() p
  # churn also loads kecho_rs: it runs in make soak only.
  for p in ${HARD_PARTS:-params http dotfiles refused budget fifo}; do
    case $p in echo|churn) echo "all.sh: hardening part $p is not for the khttpd_rs lane (left out)";; *) parts+=("$p");; esac
  done
  run_script khttpd.sh
  RUN_ID=hardening-khttpd run_script hardening.sh "${parts[@]}"
  run_script tls.sh
}

if [ "${LANES:-1}" = 1 ]; then
  export ITEST_LOCK=$TMPD/lanes.lock
  logs=${KTCP_OUT:-$TMPD}
  echo "lanes: kecho_rs and khttpd_rs at once (output: $logs/lane-kecho.log, $logs/lane-khttpd.log)"
  lane_kecho >"$logs/lane-kecho.log" 2>&1 &
  a=$!
  lane_khttpd >"$logs/lane-khttpd.log" 2>&1 &
  b=$!
  wait $a; echo "== lane kecho_rs (ended at $SECONDS s)"; cat "$logs/lane-kecho.log"
  wait $b; echo "== lane khttpd_rs (ended at $SECONDS s)"; cat "$logs/lane-khttpd.log"
  unset ITEST_LOCK
else
  lane_kecho
  lane_khttpd
fi
FAULT_SECS=$FAULT_SECS run_script faults.sh kecho
FAULT_SECS=$FAULT_SECS run_script faults.sh khttpd
# Both modules from the host's dkms install, with modprobe.d options (check.sh builds them
# beside the lanes; dkms.sh waits for them).
run_script dkms.sh
check leaks/kmemleak-empty kmemleak_empty
end_plan
echo "TIME all $SECONDS s"
echo "guest: $(totals)"
