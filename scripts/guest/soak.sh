#!/usr/bin/env bash
# make soak (debug guest): per module, hostile input, load/unload cycles under load, and
# allocation-failure injection; after each part kmemleak, the counters and dmesg are checked.
# Durations: SOAK_SECS (hostile input per module, default 300), SOAK_CYCLES (default 100),
# FAULT_SECS (default 120).
source "$(dirname "$0")/lib.sh"
: >"$COUNTS"
secs=${SOAK_SECS:-300} cycles=${SOAK_CYCLES:-100}
F=/sys/kernel/debug
"$BIN/itest" mkroot /tmp/ktcp-www --outside /tmp/ktcp-outside --big-mib 16 >/dev/null

no_leaks() { echo scan >$F/kmemleak; sleep 6; echo scan >$F/kmemleak; ! grep -q "$1" $F/kmemleak; }

for spec in "kecho_rs 127.0.0.1:12345 echo" "khttpd_rs 127.0.0.1:8081 http"; do
  read -r mod addr proto <<<"$spec"
  args=(); [ $proto = http ] && args=(root=/tmp/ktcp-www)
  insmod "$MODDIR/$mod.ko" "${args[@]}"
  check soak/$mod-storm-${secs}s bash -o pipefail -c "\"$BIN/itest\" storm --addr $addr --proto $proto --secs $secs --clients 32 --seed $RANDOM | tee /tmp/soak-storm.log"
  grep -h '^storm:' /tmp/soak-storm.log 2>/dev/null
  check soak/$mod-all-closed wait_idle $mod 30
  check soak/$mod-counters-balance counters_balance $mod
  echo "  soak: $mod counters $(cd $F/$mod && for c in accepted closed active refused timeouts; do printf '%s=%s ' $c "$(cat $c)"; done)"
  check soak/$mod-no-leaks no_leaks $mod
  rmmod $mod

  if [ $proto = echo ]; then
    load="$BIN/kecho-bench --addr $addr --clients 8 --rounds 100000 --size 8192 --timeout-s 15"
  else
    load="timeout 4 $BIN/htstress-rs -n 1000000 -c 8 --duration 15 --timeout-s 5 http://$addr/big.bin"
  fi
  # Idle, busy and mid-request clients at every unload.
  load="$BIN/itest hold --addr $addr --idle 20 --busy 4 --proto $proto --secs 30 & $load; wait"
  check soak/$mod-load-unload-x$cycles unload_cycles "$cycles" "$MODDIR/$mod.ko" "$load" "${args[@]}"
  check soak/$mod-no-leaks-after-cycles no_leaks $mod
  FAULT_SECS=${FAULT_SECS:-120} bash "$ROOT/scripts/guest/faults.sh" ${mod%_rs}
done
p=$(grep -c '^pass' "$COUNTS" || true) f=$(grep -c '^fail' "$COUNTS" || true)
echo "soak: $p passed, $f failed"
[ "$f" = 0 ]
