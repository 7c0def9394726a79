#!/usr/bin/env bash
# khttpd_rs guest tests: every behaviour of the khttpd_rs issue, against the real module.
source "$(dirname "$0")/lib.sh"
KO=$MODDIR/khttpd_rs.ko
ADDR=127.0.0.1:8081
WWW=/tmp/ktcp-www OUTSIDE=/tmp/ktcp-outside

"$BIN/itest" mkroot $WWW --outside $OUTSIDE --big-mib "${BIG_MIB:-64}" >/dev/null
touch /tmp/ktcp-plain-file

check khttpd/param_port_zero insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid port=0" port=0
check khttpd/param_keepalive_negative insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid keepalive_timeout" keepalive_timeout=-1
check khttpd/param_header_too_big insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid header_timeout" header_timeout=100000
check khttpd/param_root_not_dir insmod_fails "$KO" "Not a directory" "root=/tmp/ktcp-plain-file" root=/tmp/ktcp-plain-file
check khttpd/param_root_missing insmod_fails "$KO" "No such file\|Unknown symbol" "root=/nonexistent" root=/nonexistent

# Hello mode: the C khttpd's behaviour.
insmod "$KO"
itest_suite hello --addr $ADDR
check khttpd/hello_curl bash -c "curl -sf http://$ADDR/anything | grep -q 'Hello World'"
rmmod khttpd_rs

# Static files, with short timeouts so the timeout tests are quick.
insmod "$KO" root=$WWW header_timeout=3 keepalive_timeout=4
check khttpd/params_in_sysfs bash -c '[ "$(cat /sys/module/khttpd_rs/parameters/root)" = '$WWW' ] &&
  [ "$(cat /sys/module/khttpd_rs/parameters/keepalive_timeout)" = 4 ]'
itest_suite khttpd --addr $ADDR --root $WWW --header-timeout 3 --keepalive-timeout 4
check khttpd/curl_file bash -c "curl -sf http://$ADDR/a.txt | cmp - $WWW/a.txt"
check khttpd/curl_range bash -c "[ \"\$(curl -sf -r 2-5 http://$ADDR/a.txt)\" = \"\$(head -c 6 $WWW/a.txt | tail -c 4)\" ]"
check khttpd/ipv4_loopback_range bash -c "curl -sf -o /dev/null http://127.0.0.2:8081/a.txt"
check khttpd/storm "$BIN/itest" storm --addr $ADDR --proto http --secs "${STORM_SECS:-20}" --clients 32 --seed 11
check khttpd/connections_all_closed wait_idle khttpd_rs 15
check khttpd/counters_balance counters_balance khttpd_rs
check khttpd/counters_count_requests bash -c '[ "$(cat /sys/kernel/debug/khttpd_rs/requests)" -gt 100 ] &&
  [ "$(cat /sys/kernel/debug/khttpd_rs/responses_4xx)" -gt 10 ]'
check khttpd/errors_rate_limited bash -c '[ "$(dmesg | grep -c khttpd_rs)" -lt 20 ]'
check khttpd/rmmod_under_load hold_and_rmmod khttpd_rs http $ADDR 100 20

# max_connections: the next client gets 503 and a close. Long keep-alive so held ones stay.
insmod "$KO" root=$WWW max_connections=40 keepalive_timeout=600 header_timeout=600
itest_suite maxconn --addr $ADDR --max 40 --proto http
rmmod khttpd_rs

# bench=1 (bound workqueue) serves the same.
insmod "$KO" root=$WWW bench=1
check khttpd/bench_bound_htstress "$BIN/htstress-rs" -n 2000 -c 16 -k --timeout-s 20 http://$ADDR/a.txt
rmmod khttpd_rs

check khttpd/load_unload_cycles unload_cycles "${CYCLES:-20}" "$KO" \
  "$BIN/htstress-rs -n 100000 -c 8 -k --duration 5 --timeout-s 5 http://$ADDR/big.bin" root=$WWW
