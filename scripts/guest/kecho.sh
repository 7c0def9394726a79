#!/usr/bin/env bash
# kecho_rs guest tests: every behaviour of the foundation issue, against the real module.
# (The 1,000-client echo test runs in `make soak`.) STORM_SECS, CYCLES, SEED, JOBS: README.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace-lib.sh"
plan 29
KO=$MODDIR/kecho_rs.ko
ADDR=127.0.0.1:12345

# Refused parameters, and a port taken by someone else (-EADDRINUSE and a dmesg line naming
# the port). One at a time: concurrent loads of one .ko file share a single result.
busybox nc -l -p 12399 >/dev/null 2>&1 &
holder=$!
for ((i = 0; i < 100; i++)); do port_listening 12399 && break; snooze 0.1; done
check kecho/param_port_zero insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid port=0" port=0
check kecho/param_port_too_big insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid port=70000" port=70000
check kecho/param_backlog_zero insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid backlog=0" backlog=0
check kecho/param_max_connections insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid max_connections" max_connections=0
check kecho/param_bind_not_an_address insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid bind=127.0.0.256" bind=127.0.0.256
check kecho/param_bind_empty insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid bind=:" bind=
# bind: the default :: takes IPv4 (mapped) and IPv6 clients; an IPv4 address only IPv4; ::1
# only IPv6.
check kecho/bind_default_dual_stack bind_accepts "$KO" kecho_rs 12346 :: "v4 v6"
check kecho/bind_ipv4_only bind_accepts "$KO" kecho_rs 12346 127.0.0.1 v4
check kecho/bind_ipv6_only bind_accepts "$KO" kecho_rs 12346 ::1 v6
check kecho/port_in_use insmod_fails "$KO" "Address already in use" "port 12399 is already in use" port=12399
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

insmod "$KO" port=12345 backlog=256 bench=0
check kecho/params_in_sysfs eval 'param_eq kecho_rs port 12345 && param_eq kecho_rs backlog 256 && param_eq kecho_rs bench N &&
  param_eq kecho_rs bind ::'
check kecho/trace_conn_events conn_events_fields kecho_rs 12345
itest_suite kecho --addr $ADDR --jobs "${JOBS:-6}" --skip concurrent_1000_clients
check kecho/storm "$BIN/itest" storm --addr $ADDR --proto echo --secs "${STORM_SECS:-3}" --clients 32 ${SEED:+--seed "$SEED"}
# The same module over IPv6: echo payloads and a storm on ::1.
itest_suite kecho --addr "[::1]:12345" --jobs "${JOBS:-6}" --filter payload_64k,all_byte_values,random_pieces,half_close,reset_client
check kecho/storm_ipv6 "$BIN/itest" storm --addr "[::1]:12345" --proto echo --secs 2 --clients 16 ${SEED:+--seed "$SEED"}
check kecho/connections_all_closed wait_idle kecho_rs 10
check kecho/counters_balance counters_balance kecho_rs
check kecho/latency_histograms latency_sane kecho_rs 100
# Run-time settings: a shorter idle_timeout applies to the next connection; bad writes fail.
check_alone kecho/runtime_idle_timeout timeout_after_write kecho_rs idle_timeout 1 300 12345 '' 3500
check kecho/runtime_bad_writes_refused eval 'param_write_refused kecho_rs idle_timeout 86401 &&
  param_write_refused kecho_rs idle_timeout -1 && param_write_refused kecho_rs max_connections 0 &&
  param_write_refused kecho_rs max_connections x && param_eq kecho_rs idle_timeout 300'
check_alone kecho/rmmod_under_load hold_and_rmmod kecho_rs echo $ADDR 100 20
# The same over IPv6 (long: make soak).
rmmod_under_load_ipv6() { insmod "$KO" && hold_and_rmmod kecho_rs echo "[::1]:12345" 100 20; }
check_alone_long kecho/rmmod_under_load_ipv6 rmmod_under_load_ipv6

insmod "$KO" max_connections=50
itest_suite maxconn --addr $ADDR --max 50 --proto echo
check kecho/refused_counted counter_at_least kecho_rs refused 1
rmmod kecho_rs

# bench=1: the same echo on a per-CPU bound workqueue.
insmod "$KO" bench=1
check kecho/bench_bound_echo "$BIN/kecho-bench" --addr $ADDR --clients 200 --rounds 2 --size 512 --timeout-s 60
# No worker at high priority has run kecho_rs's work so far (the control for the next check).
check kecho/default_workers_not_highpri eval '! highpri_workers kecho_rs || { echo "at nice -20:" $REPLY; false; }'
rmmod kecho_rs

# highpri=1: the same echo, served by workers at nice -20 (WQ_HIGHPRI).
insmod "$KO" highpri=1
highpri_echo() {
  "$BIN/kecho-bench" --addr $ADDR --clients 200 --rounds 2 --size 512 --timeout-s 60 &&
    param_eq kecho_rs highpri Y || return 1
  highpri_workers kecho_rs || { echo "no kworker at nice -20 ran kecho_rs's work"; return 1; }
  echo "note: at nice -20:" $REPLY
}
check kecho/highpri_echo highpri_echo
rmmod kecho_rs

# Load/unload cycles, each under load (mid-stream clients); the load ends with the module.
check_alone_long kecho/load_unload_cycles unload_cycles "${CYCLES:-2}" "$KO" \
  "$BIN/kecho-bench --addr $ADDR --clients 16 --rounds 100000 --size 4096 --timeout-s 30 --until-closed"
end_plan
