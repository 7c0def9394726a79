#!/usr/bin/env bash
# khttpd_rs over HTTPS (tls_port): the handshake by the TLS agent (tls-agent/, through
# net/handshake), then the same HTTP session over the kernel's TLS layer. Runs in the khttpd_rs
# lane. A test CA and a server certificate it signs are made here (openssl), for 127.0.0.1, ::1
# and localhost. The TLS clients: curl, openssl s_client and tls-client (userspace-tests/,
# rustls: verified keep-alive loads, held connections, a hostile storm).
# BIG_MIB, SEED, LONG: see README.
source "$(dirname "$0")/lib.sh"
plan 25
KO=$MODDIR/khttpd_rs.ko
WWW=/tmp/ktcp-www PORT=8443 ADDR=127.0.0.1:8443
C=$TMPD/tls AGENT=${KTCP_TLS_AGENT:-$BIN/ktcp-tls-agent}
mkdir -p $C
"$BIN/itest" mkroot $WWW --outside /tmp/ktcp-outside --big-mib "${BIG_MIB:-8}" >/dev/null || { echo "tls.sh: itest mkroot failed"; exit 1; }
# make_cert: a CA (clients trust it) and the server's certificate (the agent's), as a site's
# would be: rustls, like browsers, refuses a CA certificate as a server's own.
make_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ktcp-test-ca \
    -keyout $C/ca.key -out $C/ca.pem &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=ktcp-test \
      -keyout $C/key.pem -out $C/cert.csr &&
    printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' >$C/ext.cnf &&
    openssl x509 -req -in $C/cert.csr -CA $C/ca.pem -CAkey $C/ca.key -days 2 -extfile $C/ext.cnf -out $C/cert.pem
}
make_cert 2>$C/openssl.log || { echo "tls.sh: openssl could not make the certificates: $(<$C/openssl.log)"; exit 1; }
printf 'cert = "%s"\nkey = "%s"\n' $C/cert.pem $C/key.pem >$C/agent.toml

# start_agent / stop_agent: the agent, logging to $C/agent.log; it is ready once it joined
# the handshake family's group (its "listening for handshake requests" line).
agent_pid=''
start_agent() {
  touch $C/agent.log
  "$AGENT" --config $C/agent.toml >>$C/agent.log 2>&1 &
  agent_pid=$!
  wait_line $C/agent.log "[INFO ] listening for handshake requests" 30 $agent_pid || { echo "the agent did not get ready: $(<$C/agent.log)"; return 1; }
}
stop_agent() {
  [ -n "$agent_pid" ] || return 0
  kill -TERM $agent_pid 2>/dev/null; wait $agent_pid 2>/dev/null; agent_pid=''
}
# The agent's log and the clients' output stay in the run's directory.
trap 'stop_agent; cp -r $C "${KTCP_OUT:-/tmp}/tls-logs" 2>/dev/null' EXIT
tls_counter() { counter khttpd_rs "tls_$1"; }
# curl_tls ARGS...: curl over TLS 1.3 with the test certificate.
curl_tls() { curl -sS --tlsv1.3 --cacert $C/ca.pem --max-time 30 "$@"; }
# tls_client MODE ARGS...: tls-client against this port, bodies compared with $WWW's files.
# Its summary lines are the test's notes.
tls_client() {
  local m=$1 rc; shift
  "$BIN/tls-client" "$m" --addr $ADDR --cafile $C/ca.pem --www $WWW "$@" >$C/client.out 2>&1
  rc=$?
  sed 's/^/note: /' $C/client.out
  return $rc
}
# 1,000 clients at once need as many descriptors.
ulimit -n 8192

check tls/param_tls_port_same_as_port insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid tls_port=8081: the same as port" tls_port=8081
check tls/param_handshake_timeout_zero insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid handshake_timeout=0" tls_port=$PORT handshake_timeout=0

check tls/agent_starts start_agent
# A handshake takes 0.3 to 5 s in the emulated debug guest under load: 30 s here, 2 s below
# for the tests that wait for timeouts.
# No keep-alive or header timeout: the held clients below stay until rmmod. 1,000 clients
# arriving at once wait in the listen backlog while the agent works (handshakes take 0.1 to
# 5 s each in the emulated debug guest).
insmod "$KO" root=$WWW tls_port=$PORT handshake_timeout=30 keepalive_timeout=0 header_timeout=0 backlog=1024
# A body of several TLS records (16 KiB each at most) for the rustls clients.
head -c 300K /dev/urandom >$WWW/mid.bin

# One file per TLS 1.3 cipher suite, each checked byte for byte; ALPN http/1.1.
ciphers() {
  local s
  for s in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
    curl_tls --tls13-ciphers $s -o $C/a.$s -w '%{http_code} %{ssl_verify_result}\n' https://$ADDR/a.txt >$C/code.$s || return 1
    echo "note: $s: $(<$C/code.$s)"
    [ "$(<$C/code.$s)" = "200 0" ] && cmp $C/a.$s $WWW/a.txt || return 1
  done
}
check tls/each_cipher_suite ciphers
check tls/openssl_s_client_alpn eval "printf 'GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
  openssl s_client -quiet -tls1_3 -alpn http/1.1 -CAfile $C/ca.pem -connect $ADDR 2>$C/s_client.err >$C/s_client.out &&
  grep -q '^HTTP/1.1 200' $C/s_client.out && grep -q 'alpha: the a.txt fixture' $C/s_client.out"
# The body goes by page reference through kTLS (MSG_SPLICE_PAGES): bytes_spliced grows by it.
big_file() {
  local s0
  counter khttpd_rs bytes_spliced; s0=$REPLY
  curl_tls -o $C/big https://$ADDR/big.bin && cmp $C/big $WWW/big.bin || return 1
  counter khttpd_rs bytes_spliced
  echo "note: bytes_spliced +$((REPLY - s0)) for $(stat -c %s $WWW/big.bin) bytes of body"
  [ $((REPLY - s0)) -ge "$(stat -c %s $WWW/big.bin)" ]
}
check tls/big_file_intact big_file
check tls/ipv6_dual_stack eval "curl_tls -g -o $C/a6 https://[::1]:$PORT/a.txt && cmp $C/a6 $WWW/a.txt"
check tls/rustls_ipv6 eval "ADDR=[::1]:$PORT tls_client get --path /a.txt --path /mid.bin --clients 4 --requests 3"
# Keep-alive: three requests on one connection; pipelining: two in one write.
check tls/keepalive_one_connection eval "curl_tls -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' \
  https://$ADDR/a.txt https://$ADDR/b.txt https://$ADDR/c.txt >$C/nc && [ \"\$(tr -d '\n' <$C/nc)\" = 100 ]"
check tls/pipelined_two eval "printf 'GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
  openssl s_client -quiet -tls1_3 -CAfile $C/ca.pem -connect $ADDR 2>/dev/null >$C/pipe.out &&
  [ \$(grep -c '^HTTP/1.1 200' $C/pipe.out) = 2 ]"

check tls/handshakes_counted eval 'tls_counter handshakes; echo "note: tls_handshakes $REPLY (3 suites, s_client, the big file, 1 + 4 over IPv6, keep-alive, pipelining)"; [ "$REPLY" = 12 ]'
# rustls clients: 20 connections open at once, 5 requests each over three files, every body
# compared byte for byte; TLS 1.3 and ALPN http/1.1 are required by the client.
check tls/rustls_keepalive_verified tls_client get --path /a.txt --path /mid.bin --path /c.txt --clients 20 --requests 5 --all-open
# Silent clients (a TCP connection, no ClientHello) each hold one of the agent's handshake
# threads until the handshake timeout (30 s here): four of them must not stall a good client.
silent_then_good() {
  local fds=() fd i rc
  for ((i = 0; i < 4; i++)); do exec {fd}<>/dev/tcp/127.0.0.1/$PORT && fds+=($fd); done
  snooze 0.5
  tls_client get --path /a.txt --step-secs 10
  rc=$?
  for fd in "${fds[@]}"; do exec {fd}<&-; done
  return $rc
}
check tls/silent_clients_do_not_stall_others silent_then_good
# Slow readers of a file with Connection: close, with the server's send buffer held at 4 KiB
# (tcp_wmem, for this test alone), less than the file's last TLS record (12 KiB): kTLS still
# holds records when each session ends, so every close waits until TCP has them all and the
# close_notify went (tls_flushes +1 per client, no tls_flush_timeouts), and each body arrives
# whole, then a clean close_notify. (At 16 KiB only some closes found records held, by
# timing: 0 of 4 in 3 of 8 runs once closing connections pooled their buffers.)
slow_readers() {
  local wmem f0 t0 rc
  wmem=$(sysctl -n net.ipv4.tcp_wmem)
  tls_counter flushes; f0=$REPLY; tls_counter flush_timeouts; t0=$REPLY
  sysctl -qw net.ipv4.tcp_wmem="4096 4096 4096"
  tls_client get --path /mid.bin --clients 4 --close --rcvbuf 4096 --read-pause-ms 20
  rc=$?
  sysctl -qw net.ipv4.tcp_wmem="$wmem"
  tls_counter flushes; echo "note: tls_flushes +$((REPLY - f0))"
  [ $rc = 0 ] && [ $((REPLY - f0)) -ge 4 ] || return 1
  tls_counter flush_timeouts; echo "note: tls_flush_timeouts +$((REPLY - t0))"
  [ $((REPLY - t0)) = 0 ]
}
check_alone tls/slow_reader_close_gets_tail slow_readers
# 1,000 keep-alive clients open at once. They arrive together; the agent does 2 to 10
# handshakes a second here, so most wait in the listen backlog, up to 50 in net/handshake's
# queue, whose wait counts against handshake_timeout: 120 s for this test.
thousand() {
  local rc
  rmmod khttpd_rs &&
    insmod "$KO" root=$WWW tls_port=$PORT handshake_timeout=120 keepalive_timeout=0 header_timeout=0 backlog=1024 || return 1
  tls_client get --path /a.txt --path /mid.bin --clients 1000 --requests 3 --all-open --step-secs 600
  rc=$?
  # A fresh load: its counters are this test's alone. Every client gets its handshake.
  local -A n
  for c in handshakes failed timeouts refused; do tls_counter $c; n[$c]=$REPLY; printf 'note: tls_%s %s\n' $c "$REPLY"; done
  [ "${n[handshakes]}" -ge 1000 ] && [ "${n[timeouts]}" = 0 ] && [ "${n[refused]}" = 0 ] || rc=1
  rmmod khttpd_rs && insmod "$KO" root=$WWW tls_port=$PORT handshake_timeout=30 keepalive_timeout=0 header_timeout=0 backlog=1024 &&
    return $rc
}
check_long tls/thousand_keepalive_clients thousand
big64() {
  head -c 64M /dev/urandom >$WWW/big64.bin || return 1
  tls_client get --path /big64.bin --step-secs 120
  local rc=$?
  rm -f $WWW/big64.bin
  return $rc
}
check_long tls/big_file_64mib_intact big64

# rmmod with 100 TLS clients connected, half of them in the middle of a request head: every
# connection is closed, within the bound.
rmmod_held() {
  local t0 pid rc
  "$BIN/tls-client" hold --addr $ADDR --cafile $C/ca.pem --www $WWW --clients 100 --close-within 60 >$C/hold.out 2>&1 &
  pid=$!
  wait_line $C/hold.out "held " 600 $pid && grep -q "^held 100 of 100" $C/hold.out ||
    { kill $pid 2>/dev/null; wait $pid; cat $C/hold.out; return 1; }
  # Still all connected as rmmod starts (none closed by a timeout meanwhile).
  counter khttpd_rs active
  echo "note: active connections at rmmod: $REPLY"
  [ "$REPLY" -ge 100 ] || { kill $pid 2>/dev/null; wait $pid; return 1; }
  now_ms; t0=$REPLY
  rmmod khttpd_rs || return 1
  now_ms
  wait $pid; rc=$?
  sed 's/^/note: /' $C/hold.out
  echo "note: rmmod with 100 TLS clients connected took $((REPLY - t0)) ms (bound $RMMOD_MAX_MS)"
  [ $rc = 0 ] && [ $((REPLY - t0)) -le "$RMMOD_MAX_MS" ]
}
check_alone tls/rmmod_with_100_tls_clients rmmod_held
[ -d /sys/module/khttpd_rs ] && rmmod khttpd_rs
insmod "$KO" root=$WWW tls_port=$PORT handshake_timeout=2

# Hostile clients: plain HTTP, garbage, a ClientHello cut short, one that says nothing. Each
# fails or times out (counted), and the server goes on serving.
hostile() {
  local fd f0 f1 t0 t1 i
  tls_counter failed; f0=$REPLY; tls_counter timeouts; t0=$REPLY
  # Plain HTTP to the HTTPS port gets no HTTP answer (and never the file).
  curl -s --max-time 10 http://$ADDR/a.txt >$C/plain.out
  grep -q alpha $C/plain.out && { echo "plain HTTP on the HTTPS port got the file"; return 1; }
  exec {fd}<>/dev/tcp/127.0.0.1/$PORT && printf 'garbage\x00\xff%.0s' {1..50} >&$fd; exec {fd}<&-
  # A TLS record header promising 512 bytes of ClientHello, then 10 of them, then silence.
  exec {fd}<>/dev/tcp/127.0.0.1/$PORT && printf '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03abcd' >&$fd
  local fd2; exec {fd2}<>/dev/tcp/127.0.0.1/$PORT
  for ((i = 0; i < 100; i++)); do
    tls_counter failed; f1=$REPLY; tls_counter timeouts; t1=$REPLY
    [ $((f1 - f0)) -ge 2 ] && [ $((t1 - t0)) -ge 2 ] && break
    snooze 0.2
  done
  exec {fd}<&- {fd2}<&-
  echo "note: tls_failed +$((f1 - f0)), tls_timeouts +$((t1 - t0)) after 4 hostile clients"
  [ $((f1 - f0)) -ge 2 ] && [ $((t1 - t0)) -ge 2 ] || return 1
  curl -sf -o /dev/null http://127.0.0.1:8081/a.txt && curl_tls -o $C/after https://$ADDR/a.txt && cmp $C/after $WWW/a.txt
}
check tls/hostile_clients_counted hostile
# Hostile and good clients mixed (tls-client storm: plain HTTP, garbage, ClientHellos cut
# short, silence, forged and cut records after the handshake, close_notify mid-request,
# resets, pipelining); no wrong answer, and served afterwards over TLS and plain HTTP.
storm() {
  tls_client storm --secs "$1" --concurrency "$2" --step-secs 10 ${SEED:+--seed $SEED} "${@:3}" &&
    curl -sf -o /dev/null http://127.0.0.1:8081/a.txt
}
check tls/storm_5s storm 5 8
# Records that are not data after the handshake: close_notify mid-request, a KeyUpdate (6.12's
# kTLS receive side cannot follow it), a forged record. Each must end the connection, never
# hang it or get an answer.
check tls/non_data_records_end_connection storm 2 4 --only close-notify-mid-request --only key-update --only forged-record
check_long tls/storm_60s storm 60 32

# The agent killed with handshakes in flight: they are canceled at their deadline (counted
# as timeouts, or as refused for those still waiting for room in net/handshake's queue,
# which only the agent drains); then, with no agent at all, clients are refused at once
# (counted, one dmesg line), and plain HTTP is served throughout.
agent_killed() {
  local fds=() fd i t0 t1 r0
  tls_counter timeouts; t0=$REPLY; tls_counter refused; t0=$((t0 + REPLY))
  # Ten ClientHello-less connections keep handshakes pending in the agent.
  for ((i = 0; i < 10; i++)); do exec {fd}<>/dev/tcp/127.0.0.1/$PORT && fds+=($fd); done
  snooze 0.5
  kill -KILL $agent_pid; wait $agent_pid 2>/dev/null; agent_pid=''
  for ((i = 0; i < 60; i++)); do
    tls_counter timeouts; t1=$REPLY; tls_counter refused; t1=$((t1 + REPLY))
    [ $((t1 - t0)) -ge 10 ] && break
    snooze 0.2
  done
  for fd in "${fds[@]}"; do exec {fd}<&-; done
  echo "note: tls_timeouts + tls_refused +$((t1 - t0)) for 10 handshakes in flight when the agent died"
  [ $((t1 - t0)) -ge 10 ] || return 1
  tls_counter refused; r0=$REPLY
  curl_tls --max-time 8 -o /dev/null https://$ADDR/a.txt 2>/dev/null && { echo "served without an agent"; return 1; }
  tls_counter refused
  echo "note: tls_refused +$((REPLY - r0)) with no agent"
  [ $((REPLY - r0)) -ge 1 ] && dmesg | grep -q 'khttpd_rs: HTTPS clients are refused: no TLS agent is running' &&
    curl -sf -o /dev/null http://127.0.0.1:8081/a.txt
}
check_alone tls/agent_killed_then_absent agent_killed
# A lying agent (tls-client lying-agent: DONE with status 0 and no handshake): the module
# checks that kTLS really is on the socket, so a plain HTTP request to the HTTPS port is
# failed (counted), never answered in plaintext.
lying_agent() {
  local pid f0 rc
  tls_counter failed; f0=$REPLY
  "$BIN/tls-client" lying-agent --count 1 --secs 60 >$C/lying.out 2>&1 &
  pid=$!
  wait_line $C/lying.out "lying agent: listening" 30 $pid || { cat $C/lying.out; return 1; }
  curl -s --max-time 10 http://$ADDR/a.txt >$C/lying.curl
  wait $pid; rc=$?
  sed 's/^/note: /' $C/lying.out
  tls_counter failed
  echo "note: tls_failed +$((REPLY - f0)); the plain request got $(wc -c <$C/lying.curl) bytes"
  [ $rc = 0 ] && [ $((REPLY - f0)) = 1 ] && ! grep -q alpha $C/lying.curl && [ ! -s $C/lying.curl ]
}
check tls/lying_agent_not_trusted lying_agent
# rmmod with 20 handshakes pending in a new agent (no ClientHello): canceled within the bound.
rmmod_pending() {
  local fds=() fd i t0
  start_agent || return 1
  # A deadline far past the bound: only the cancel can end these handshakes in time.
  rmmod khttpd_rs && insmod "$KO" root=$WWW tls_port=$PORT handshake_timeout=60 || return 1
  for ((i = 0; i < 20; i++)); do exec {fd}<>/dev/tcp/127.0.0.1/$PORT && fds+=($fd); done
  snooze 0.5
  now_ms; t0=$REPLY
  rmmod khttpd_rs || return 1
  now_ms
  for fd in "${fds[@]}"; do exec {fd}<&-; done
  echo "note: rmmod with ${#fds[@]} handshakes pending took $((REPLY - t0)) ms"
  [ $((REPLY - t0)) -le "$RMMOD_MAX_MS" ]
}
check_alone tls/rmmod_with_handshakes_pending rmmod_pending
check tls/agent_log_clean eval "! grep -i panick $C/agent.log"
end_plan
