#!/usr/bin/env bash
# The `make run` demo, inside the perf guest.
source "$(dirname "$0")/lib.sh"
MODDIR=$ROOT/build/perf
say() { printf '\n== %s\n' "$*"; }

say "kecho_rs: insmod port=12345"
insmod "$MODDIR/kecho_rs.ko" port=12345
dmesg | grep kecho_rs | tail -n 1
echo "parameters: $(cd /sys/module/kecho_rs/parameters && for p in *; do printf '%s=%s ' "$p" "$(cat "$p")"; done)"
say "three echo round trips (bash /dev/tcp)"
exec 3<>/dev/tcp/127.0.0.1/12345
for msg in "hello, kernel" "echo from a workqueue" "bye"; do
  printf '%s\n' "$msg" >&3
  IFS= read -r -t 5 reply <&3
  printf 'sent %-24s got %s\n' "'$msg'" "'$reply'"
done
exec 3>&-

say "short bench: kecho_rs vs the userspace epoll echo server (200 clients x 20 round trips x 64 B)"
out=$(mktemp -d)
"$BIN/kecho-bench" --addr 127.0.0.1:12345 --clients 200 --rounds 20 --size 64 --server kecho_rs --scenario demo \
  | grep RESULT >"$out/kecho.txt"
"$BIN/user-echo-server" --port 12346 --threads 2 >/dev/null & ues=$!
sleep 1
"$BIN/kecho-bench" --addr 127.0.0.1:12346 --clients 200 --rounds 20 --size 64 --server user-epoll --scenario demo \
  | grep RESULT >"$out/user.txt"
kill "$ues"; wait "$ues" 2>/dev/null
"$BIN/bench-report" --baseline user-epoll "$out"/*.txt
echo "kecho_rs counters: $(cd /sys/kernel/debug/kecho_rs && for c in *; do printf '%s=%s ' "$c" "$(cat "$c")"; done)"
rmmod kecho_rs
dmesg | grep kecho_rs | tail -n 1

say "khttpd_rs: serving a demo directory"
demo=/tmp/ktcp-demo && mkdir -p $demo/docs
printf '<!doctype html><title>ktcp-rs</title><h1>Served from the kernel</h1>\n' >$demo/index.html
printf 'plain text, %s\n' "$(uname -r)" >$demo/hello.txt
printf 'a b c\n' >$demo/docs/notes.txt
# HTTPS: a certificate made for the demo, the TLS agent, and tls_port.
tls=$(mktemp -d)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=ktcp-demo \
  -addext "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" -keyout $tls/key.pem -out $tls/cert.pem 2>/dev/null
printf 'cert = "%s"\nkey = "%s"\n' $tls/cert.pem $tls/key.pem >$tls/agent.toml
: >$tls/agent.log
"$BIN/ktcp-tls-agent" --config $tls/agent.toml 2>>$tls/agent.log & agent=$!
wait_line $tls/agent.log "[INFO ] listening for handshake requests" 30 $agent || cat $tls/agent.log
insmod "$MODDIR/khttpd_rs.ko" root=$demo tls_port=8443
dmesg | grep khttpd_rs | tail -n 2
say "curl -si http://127.0.0.1:8081/"
curl -si http://127.0.0.1:8081/; echo
say "curl -s http://127.0.0.1:8081/hello.txt"
curl -s http://127.0.0.1:8081/hello.txt
say "curl -sI http://127.0.0.1:8081/docs (a directory without its slash)"
curl -sI http://127.0.0.1:8081/docs
say "curl -s http://127.0.0.1:8081/docs/ (listing)"
curl -s http://127.0.0.1:8081/docs/; echo
say "curl -s -r 0-4 http://127.0.0.1:8081/hello.txt (range)"
curl -s -r 0-4 http://127.0.0.1:8081/hello.txt; echo
say "curl -si 'http://127.0.0.1:8081/../../etc/passwd' --path-as-is"
curl -si --path-as-is 'http://127.0.0.1:8081/../../etc/passwd' | head -n 1
say "curl --cacert cert.pem https://127.0.0.1:8443/hello.txt (TLS 1.3: handshake by ktcp-tls-agent, records by kTLS)"
curl -sS --cacert $tls/cert.pem -w '(%{http_code}, %{scheme}, verify %{ssl_verify_result})\n' https://127.0.0.1:8443/hello.txt
grep -m1 'handshake peer=' $tls/agent.log
say "htstress-rs: 2000 keep-alive requests, 16 connections"
"$BIN/htstress-rs" -n 2000 -c 16 -k http://127.0.0.1:8081/hello.txt | grep -E 'req/s|latency|RESULT' | head -n 3
echo "khttpd_rs counters: $(cd /sys/kernel/debug/khttpd_rs && for c in *; do printf '%s=%s ' "$c" "$(cat "$c")"; done)"
rmmod khttpd_rs
dmesg | grep khttpd_rs | tail -n 1
kill $agent; wait $agent 2>/dev/null
