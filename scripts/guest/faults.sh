#!/usr/bin/env bash
# Allocation-failure injection confined to one module's call stacks (failslab and
# fail_page_alloc with require-start/require-end = the module's address range), under hostile
# input (and, with FAULT_CLIENTS=1000 as in `make soak`, a 1,000-client run). Afterwards:
# injection off, a valid request is answered, every connection is closed, the counters add
# up, kmemleak has nothing from the module.
# Usage: faults.sh kecho|khttpd   (FAULT_SECS: storm length, default 20; SEED: storm seed;
# FAULT_CLIENTS; FAULTS_LEAKS)
source "$(dirname "$0")/lib.sh"
which=$1
clients=${FAULT_CLIENTS:-0}
# FAULTS_LEAKS=later: the kmemleak check is left to the caller (all.sh scans once for both
# modules at the end instead of twice per module: a scan takes tens of seconds under TCG).
tests=(storm-under-injection injected serves-after all-closed counters-balance rmmod)
[ "${FAULTS_LEAKS:-now}" = now ] && tests+=(no-module-leaks)
[ "$clients" -gt 0 ] && tests+=(clients-$clients-under-injection)
plan ${#tests[@]}
case $which in
  kecho) mod=kecho_rs addr=127.0.0.1:12345 proto=echo args=();;
  khttpd) mod=khttpd_rs addr=127.0.0.1:8081 proto=http args=(root=/tmp/ktcp-www keepalive_timeout=5 header_timeout=5)
    "$BIN/itest" mkroot /tmp/ktcp-www --outside /tmp/ktcp-outside --big-mib 4 >/dev/null || { echo "faults.sh: itest mkroot failed"; exit 1; };;
esac
secs=${FAULT_SECS:-20}
F=/sys/kernel/debug
if [ ! -d $F/failslab ] || [ ! -d $F/fail_page_alloc ]; then
  for t in "${tests[@]}"; do skip "faults/$which-$t" "this kernel has no fault injection (the debug flavour has it)"; done
  end_plan
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

# no_module_leaks: no kmemleak report whose allocation trace passes through the module.
no_module_leaks() {
  echo scan >$F/kmemleak; sleep 6; echo scan >$F/kmemleak
  if grep -q "$mod" $F/kmemleak; then grep -B2 -A14 "$mod" $F/kmemleak | head -n 40; return 1; fi
}

# result_ok FILE COND...: the tool's RESULT line satisfies each awk condition (e.g. bad==0).
result_ok() {
  local file=$1; shift
  awk -v conds="$*" '/^RESULT / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }; seen = 1 }
    END { if (!seen) { print "no RESULT line"; exit 1 }
      n = split(conds, c, " "); for (i = 1; i <= n; i++) {
        if (!match(c[i], /(==|>)/)) { print "bad condition " c[i]; exit 1 }
        k = substr(c[i], 1, RSTART - 1); op = substr(c[i], RSTART, RLENGTH); want = substr(c[i], RSTART + RLENGTH) + 0
        got = v[k] + 0
        if (!(k in v) || (op == "==" && got != want) || (op == ">" && got <= want)) { print "RESULT " k "=" v[k] ", want " c[i]; bad = 1 } }
      exit bad }' "$file" || { tail -n 12 "$file"; return 1; }
}

# abort_failed: the kernel's count of resets it could not send for lack of memory (TcpExt
# TCPAbortFailed), printed beside the client runs under injection: a reset lost that way
# leaves a peer whose data was acknowledged waiting for ever (a lost FIN is not counted).
abort_failed() {
  awk '$1 == "TcpExt:" { if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1 } else v = $col["TCPAbortFailed"] }
    END { print v + 0 }' /proc/net/netstat
}

echo_clients_under_injection() {
  timeout 300 "$BIN/kecho-bench" --addr $addr --clients "$clients" --rounds 3 --size 128 --timeout-s 120 \
    --until-closed >/tmp/fault-clients.log 2>&1 || { tail -n 12 /tmp/fault-clients.log; return 1; }
}

http_clients_under_injection() {
  timeout 300 "$BIN/htstress-rs" -n $((clients * 3)) -c "$clients" --timeout-s 60 --max-time-s 120 \
    "http://$addr/a.txt" >/tmp/fault-clients.log 2>&1
  result_ok /tmp/fault-clients.log 's2xx>0' bad==0 timeouts==0 s4xx==0
}

insmod "$MODDIR/$mod.ko" "${args[@]}"
before=$(injected)
inject on
# Under injection a single connection may be dropped: the valid exchange after the storm may
# take up to 20 fresh connections.
check faults/$which-storm-under-injection "$BIN/itest" storm --addr $addr --proto $proto --secs "$secs" --clients 32 \
  --final-tries 20 ${SEED:+--seed "$SEED"}
if [ "$clients" -gt 0 ]; then
  # Clients may be closed or reset (an allocation failed); never a wrong byte, a malformed
  # response, a 4xx or a hang.
  if [ $proto = echo ]; then
    lost=$(abort_failed)
    check faults/$which-clients-$clients-under-injection echo_clients_under_injection
  else
    lost=$(abort_failed)
    check faults/$which-clients-$clients-under-injection http_clients_under_injection
  fi
  echo "  faults: resets the kernel could not send during the client run: $(( $(abort_failed) - lost )) (TCPAbortFailed)"
fi
inject off
n=$(( $(injected) - before ))
echo "  faults: $n allocation failures injected into $mod's call stacks"
check faults/$which-injected eval "[ $n -gt 0 ]"
if [ $proto = echo ]; then
  check faults/$which-serves-after "$BIN/kecho-bench" --addr $addr --clients 20 --rounds 5 --size 64 --timeout-s 60
else
  check faults/$which-serves-after eval "curl -sf -m 20 -o $TMPD/after http://$addr/a.txt && cmp $TMPD/after /tmp/ktcp-www/a.txt"
fi
check faults/$which-all-closed wait_idle $mod 30
check faults/$which-counters-balance counters_balance $mod
for c in accepted closed active refused timeouts errors; do counter $mod $c; printf -v line '%s %s=%s' "${line:-  faults: counters}" $c "$REPLY"; done; echo "$line"
[ "${FAULTS_LEAKS:-now}" = now ] && check faults/$which-no-module-leaks no_module_leaks
check faults/$which-rmmod rmmod_timed $mod
end_plan
