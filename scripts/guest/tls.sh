#!/usr/bin/env bash
# khttpd_rs over HTTPS (tls_port): the handshake by the TLS agent (tls-agent/, through
# net/handshake), then the same HTTP session over the kernel's TLS layer. Runs in the khttpd_rs
# lane. A certificate is made here (openssl), for 127.0.0.1, ::1 and localhost.
# BIG_MIB, SEED: see README.
source "$(dirname "$0")/lib.sh"
plan 14
KO=$MODDIR/khttpd_rs.ko
WWW=/tmp/ktcp-www PORT=8443 ADDR=127.0.0.1:8443
C=$TMPD/tls AGENT=${KTCP_TLS_AGENT:-$BIN/ktcp-tls-agent}
mkdir -p $C
"$BIN/itest" mkroot $WWW --outside /tmp/ktcp-outside --big-mib "${BIG_MIB:-8}" >/dev/null || { echo "tls.sh: itest mkroot failed"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ktcp-test \
  -addext "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" -keyout $C/key.pem -out $C/cert.pem 2>$C/openssl.log ||
  { echo "tls.sh: openssl could not make a certificate: $(<$C/openssl.log)"; exit 1; }
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
curl_tls() { curl -sS --tlsv1.3 --cacert $C/cert.pem --max-time 30 "$@"; }

check tls/param_tls_port_same_as_port insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid tls_port=8081: the same as port" tls_port=8081
check tls/param_handshake_timeout_zero insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid handshake_timeout=0" tls_port=$PORT handshake_timeout=0

check tls/agent_starts start_agent
# A handshake takes 0.3 to 5 s in the emulated debug guest under load: 10 s here, 2 s below
# for the tests that wait for timeouts.
insmod "$KO" root=$WWW tls_port=$PORT handshake_timeout=10

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
  openssl s_client -quiet -tls1_3 -alpn http/1.1 -CAfile $C/cert.pem -connect $ADDR 2>$C/s_client.err >$C/s_client.out &&
  grep -q '^HTTP/1.1 200' $C/s_client.out && grep -q 'alpha: the a.txt fixture' $C/s_client.out"
check tls/big_file_intact eval "curl_tls -o $C/big https://$ADDR/big.bin && cmp $C/big $WWW/big.bin"
check tls/ipv6_dual_stack eval "curl_tls -g -o $C/a6 https://[::1]:$PORT/a.txt && cmp $C/a6 $WWW/a.txt"
# Keep-alive: three requests on one connection; pipelining: two in one write.
check tls/keepalive_one_connection eval "curl_tls -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' \
  https://$ADDR/a.txt https://$ADDR/b.txt https://$ADDR/c.txt >$C/nc && [ \"\$(tr -d '\n' <$C/nc)\" = 100 ]"
check tls/pipelined_two eval "printf 'GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
  openssl s_client -quiet -tls1_3 -CAfile $C/cert.pem -connect $ADDR 2>/dev/null >$C/pipe.out &&
  [ \$(grep -c '^HTTP/1.1 200' $C/pipe.out) = 2 ]"

check tls/handshakes_counted eval 'tls_counter handshakes; echo "note: tls_handshakes $REPLY"; [ "$REPLY" = 8 ]'
rmmod khttpd_rs
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
# rmmod with 20 handshakes pending in a new agent (no ClientHello): canceled within the bound.
rmmod_pending() {
  local fds=() fd i t0
  start_agent || return 1
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
