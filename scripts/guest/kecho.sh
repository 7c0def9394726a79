#!/usr/bin/env bash
# kecho_rs guest tests: every behaviour of the foundation issue, against the real module.
source "$(dirname "$0")/lib.sh"
KO=$MODDIR/kecho_rs.ko
ADDR=127.0.0.1:12345

check kecho/param_port_zero insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid port=0" port=0
check kecho/param_port_too_big insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid port=70000" port=70000
check kecho/param_backlog_zero insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid backlog=0" backlog=0
check kecho/param_max_connections insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid max_connections" max_connections=0

# A port taken by someone else: -EADDRINUSE and a dmesg line naming the port.
python3 -c 'import socket,time; s=socket.socket(); s.bind(("0.0.0.0",12399)); s.listen(); open("/tmp/held","w").close(); time.sleep(30)' &
holder=$!
for ((i = 0; i < 300; i++)); do [ -f /tmp/held ] && break; sleep 0.1; done
check kecho/port_in_use insmod_fails "$KO" "Address already in use" "port 12399 is already in use" port=12399
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

insmod "$KO" port=12345 backlog=256 bench=0
check kecho/params_in_sysfs bash -c '[ "$(cat /sys/module/kecho_rs/parameters/port)" = 12345 ] &&
  [ "$(cat /sys/module/kecho_rs/parameters/backlog)" = 256 ] && [ "$(cat /sys/module/kecho_rs/parameters/bench)" = N ]'
itest_suite kecho --addr $ADDR
check kecho/storm "$BIN/itest" storm --addr $ADDR --proto echo --secs "${STORM_SECS:-20}" --clients 32 --seed 7
check kecho/connections_all_closed wait_idle kecho_rs 10
check kecho/counters_balance counters_balance kecho_rs
check kecho/rmmod_under_load hold_and_rmmod kecho_rs echo $ADDR 100 20

insmod "$KO" max_connections=50
itest_suite maxconn --addr $ADDR --max 50 --proto echo
check kecho/refused_counted bash -c '[ "$(cat /sys/kernel/debug/kecho_rs/refused)" -ge 1 ]'
rmmod kecho_rs

# bench=1: the same echo on a per-CPU bound workqueue.
insmod "$KO" bench=1
check kecho/bench_bound_echo "$BIN/kecho-bench" --addr $ADDR --clients 200 --rounds 5 --size 512 --timeout-s 60
rmmod kecho_rs

# Load/unload cycles, each under load (mid-stream clients).
check kecho/load_unload_cycles unload_cycles "${CYCLES:-20}" "$KO" \
  "$BIN/kecho-bench --addr $ADDR --clients 16 --rounds 1000 --size 4096 --timeout-s 10"
