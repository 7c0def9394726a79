#!/usr/bin/env bash
# make soak (debug guest): per module, hostile input, load/unload cycles under load with held
# idle and mid-request clients, and allocation-failure injection with a 1,000-client run;
# after each part kmemleak, the counters and the part's dmesg are checked. Then the tests that
# moved here from `make check`: the 1,000-client echo run, the 64 MiB file, the hardening
# parts churn (3,000 connections per module) and redbot (REDbot against nginx), and the
# scripts whose long tests make check leaves out (lib.sh "Long tests"), run whole.
# Durations: SOAK_SECS (hostile input per module, default 300), SOAK_CYCLES (default 100),
# FAULT_SECS (default 120); SEED replays the storms.
source "$(dirname "$0")/lib.sh"
: >"$COUNTS"
plan 29
secs=${SOAK_SECS:-300} cycles=${SOAK_CYCLES:-100}
F=/sys/kernel/debug
"$BIN/itest" mkroot /tmp/ktcp-www --outside /tmp/ktcp-outside --big-mib 64 >/dev/null || { echo "soak.sh: itest mkroot failed"; exit 1; }

no_leaks() { echo scan >$F/kmemleak; sleep 6; echo scan >$F/kmemleak; ! grep -q "$1" $F/kmemleak; }

for spec in "kecho_rs 127.0.0.1:12345 echo" "khttpd_rs 127.0.0.1:8081 http"; do
  read -r mod addr proto <<<"$spec"
  args=(); [ $proto = http ] && args=(root=/tmp/ktcp-www)
  dmesg_mark "$mod-storm"
  insmod "$MODDIR/$mod.ko" "${args[@]}"
  check soak/$mod-storm-${secs}s bash -o pipefail -c "\"$BIN/itest\" storm --addr $addr --proto $proto --secs $secs --clients 32 ${SEED:+--seed $SEED} | tee /tmp/soak-storm.log"
  check soak/$mod-all-closed wait_idle $mod 30
  check soak/$mod-counters-balance counters_balance $mod
  echo "  soak: $mod counters $(cd $F/$mod && for c in accepted closed active refused timeouts; do printf '%s=%s ' $c "$(cat $c)"; done)"
  check soak/$mod-no-leaks no_leaks $mod
  rmmod $mod
  check soak/$mod-storm-dmesg-clean dmesg_clean_since "$mod-storm"

  dmesg_mark "$mod-cycles"
  if [ $proto = echo ]; then
    load="$BIN/kecho-bench --addr $addr --clients 8 --rounds 100000 --size 8192 --timeout-s 30 --until-closed"
    hold="20 4 echo $addr"
  else
    load="$BIN/htstress-rs -n 100000000 -c 8 --duration 60 --timeout-s 10 --until-refused http://$addr/big.bin"
    hold="20 4 http $addr /big.bin"
    args+=(keepalive_timeout=0)
  fi
  # Idle, busy (mid-response) and load clients at every unload.
  HOLD=$hold check soak/$mod-load-unload-x$cycles unload_cycles "$cycles" "$MODDIR/$mod.ko" "$load" "${args[@]}"
  check soak/$mod-no-leaks-after-cycles no_leaks $mod
  check soak/$mod-cycles-dmesg-clean dmesg_clean_since "$mod-cycles"

  dmesg_mark "$mod-faults"
  FAULT_SECS=${FAULT_SECS:-120} FAULT_CLIENTS=1000 run_script faults.sh ${mod%_rs}
  check soak/$mod-faults-dmesg-clean dmesg_clean_since "$mod-faults"
done

# Moved here from make check: 1,000 echo clients at once; a 64 MiB file; churn and REDbot.
dmesg_mark moved
insmod "$MODDIR/kecho_rs.ko"
itest_suite kecho --addr 127.0.0.1:12345 --filter concurrent_1000_clients
rmmod kecho_rs
insmod "$MODDIR/khttpd_rs.ko" root=/tmp/ktcp-www
itest_suite khttpd --addr 127.0.0.1:8081 --root /tmp/ktcp-www --filter big_file_intact
rmmod khttpd_rs
HARD_PARTS="churn redbot" run_script hardening.sh
# make check's long tests (LONG=0 there): these scripts whole, long tests included (LONG=1):
# kecho.sh (idle_do_not_stall_active, load_unload_cycles), khttpd.sh (stat_rates_match_counters,
# access_log_json, trace_cmd_and_perf, keepalive_active_not_closed_early, load_unload_cycles),
# hardening http and fifo (keepalive_idle_80pct_then_4mib_x5, fifo_300_concurrent_403).
LONG=1 run_script kecho.sh
LONG=1 run_script khttpd.sh
LONG=1 RUN_ID=hardening-long run_script hardening.sh http fifo
# tls.sh whole: 1,000 TLS keep-alive clients at once, a 64 MiB file over TLS, a 60 s storm on
# the HTTPS port.
LONG=1 run_script tls.sh
# DKMS as on a real machine: dkms install, status and remove in the guest (minutes under TCG).
DKMS_GUEST=full run_script dkms.sh
check soak/moved-tests-dmesg-clean dmesg_clean_since moved
end_plan
echo "soak: $(totals)"
