#!/usr/bin/env bash
# Allocation-failure injection confined to one module's call stacks (failslab and
# fail_page_alloc with require-start/require-end = the module's address range), under hostile
# input and a 1,000-client run. Afterwards: injection off, a valid request is answered, every
# connection is closed, the counters add up, kmemleak has nothing from the module.
# Usage: faults.sh kecho|khttpd   (FAULT_SECS: storm length, default 20)
source "$(dirname "$0")/lib.sh"
which=$1
case $which in
  kecho) mod=kecho_rs addr=127.0.0.1:12345 proto=echo args=();;
  khttpd) mod=khttpd_rs addr=127.0.0.1:8081 proto=http args=(root=/tmp/ktcp-www keepalive_timeout=5 header_timeout=5)
    "$BIN/itest" mkroot /tmp/ktcp-www --outside /tmp/ktcp-outside --big-mib 4 >/dev/null;;
esac
secs=${FAULT_SECS:-20}
F=/sys/kernel/debug
if [ ! -d $F/failslab ] || [ ! -d $F/fail_page_alloc ]; then
  echo "SKIP faults/$which: this kernel has no fault injection (the debug flavour has it)"
  exit 0
fi

inject() { # inject on|off
  local base size end d
  read -r base size < <(awk -v m="$mod" '$1 == m { print $6, $2 }' /proc/modules)
  end=$(printf '0x%x' $((base + size)))
  for d in failslab fail_page_alloc; do
    if [ "$1" = on ]; then
      echo "$base" >$F/$d/require-start; echo "$end" >$F/$d/require-end
      echo 32 >$F/$d/stacktrace-depth; echo N >$F/$d/task-filter
      [ -e $F/$d/ignore-gfp-wait ] && echo N >$F/$d/ignore-gfp-wait
      echo 1 >$F/$d/verbose; echo -1 >$F/$d/times; echo 1 >$F/$d/interval
      echo "${FAULT_PROBABILITY:-5}" >$F/$d/probability
    else
      echo 0 >$F/$d/probability
    fi
  done
}

injected() { dmesg | grep -c 'FAULT_INJECTION: forcing a failure'; }

# leaks_from_module: kmemleak reports whose allocation trace passes through the module.
no_module_leaks() {
  echo scan >$F/kmemleak; sleep 6; echo scan >$F/kmemleak
  if grep -q "$mod" $F/kmemleak; then grep -B2 -A14 "$mod" $F/kmemleak | head -n 40; return 1; fi
}

insmod "$MODDIR/$mod.ko" "${args[@]}"
before=$(injected)
inject on
"$BIN/itest" storm --addr $addr --proto $proto --secs "$secs" --clients 32 --seed 23 >/tmp/fault-storm.log 2>&1
if [ $proto = echo ]; then
  timeout 300 "$BIN/kecho-bench" --addr $addr --clients 1000 --rounds 3 --size 128 --timeout-s 120 >/tmp/fault-1k.log 2>&1
else
  timeout 300 "$BIN/htstress-rs" -n 3000 -c 1000 --timeout-s 20 --max-time-s 120 http://$addr/a.txt >/tmp/fault-1k.log 2>&1
fi
inject off
n=$(( $(injected) - before ))
echo "  faults: $n allocation failures injected into $mod's call stacks"
echo "  faults: 1000-client run under injection: $(grep -E '^RESULT' /tmp/fault-1k.log | grep -oE ' (errors|failed|completed|s2xx)=[0-9]+' | tr '\n' ' ')"
check faults/$which-injected bash -c "[ $n -gt 0 ]"
if [ $proto = echo ]; then
  check faults/$which-serves-after "$BIN/kecho-bench" --addr $addr --clients 20 --rounds 5 --size 64 --timeout-s 60
else
  check faults/$which-serves-after bash -c "curl -sf -m 20 http://$addr/a.txt | cmp - /tmp/ktcp-www/a.txt"
fi
check faults/$which-all-closed wait_idle $mod 30
check faults/$which-counters-balance counters_balance $mod
echo "  faults: counters $(cd $F/$mod && for c in accepted closed active refused timeouts errors; do printf '%s=%s ' $c "$(cat $c)"; done)"
check faults/$which-no-module-leaks no_module_leaks
check faults/$which-rmmod rmmod_timed $mod
