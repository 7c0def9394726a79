#!/usr/bin/env bash
# make bench, guest side: kecho_rs and khttpd_rs against their peers, all in this one boot.
# Usage (perf guest, repo root): bash scripts/guest/bench.sh [echo] [http] [conc] [stream] [trace] [tls] [profile]
#   (default: echo http conc stream tls; conc is conc-echo plus conc-http, which can also be
#   named alone)
#   echo  kecho-bench, 64 B / 4 KiB / 64 KiB: kecho_rs (unbound and bound workqueue) vs
#         user-echo-server (epoll)
#   http  1 KiB / 16 KiB / 1 MiB files at 1 / 32 / 256 / 1,000 clients, wrk (keep-alive) and
#         ab (a new connection per request): khttpd_rs vs nginx (configured as an admin would)
#   conc  100 / 1,000 / 10,000 clients held across two phases, and the threads and memory
#         that 10,000 idle connections cost each server
#   stream  100 small-request clients alone and beside one 1 GiB stream
#   trace   the trace events' cost: built in but off, and with the access log, against a
#           build without them (KTCP_TRACE=0)
#   profile  where each HTTP server's CPU goes: `perf record -a` (cpu-clock, 1 kHz, no call
#         graphs: they cost too much under TCG) over one keep-alive and one new-connection
#         run of 1 KiB to 32 clients, each server alone; profile.txt has, per run, the microseconds per request of the top symbols, of every
#         process (comm) and of each object (dso). Not in the default parts.
#   tls   HTTPS, 1 KiB / 16 KiB / 1 MiB: keep-alive (wrk) at 32 and 256 clients, a new
#         connection per request (ab) at 1 and 32: khttpd_rs (tls_port, ktcp-tls-agent) vs
#         nginx, TLS 1.3 only, one certificate, no session resumption on either
# Every echo, http and tls cell runs REPEATS times (default 3), the servers alternating
# (A B A B A B); conc and stream run once. Every client run is wrapped in GNU time and framed
# by /proc/stat and /proc/net/snmp reads, and its RESULT line gains the guest's busy CPU, the
# client's own CPU, the server's CPU per request and the connections the client opened.
# BENCH_QUICK=1 shrinks every duration, count and the matrix, for iterating on this script.
# Writes $KTCP_OUT/bench/: {echo,http,conc,stream,trace,tls,profile-runs}.txt (RESULT lines),
# profile.txt (the profile part's breakdowns), latency.txt (the
# modules' latency histograms per load), mem.txt (MEM lines), tls-counters.txt (khttpd_rs's
# HTTPS counters and the agent's handshakes per load),
# failures.txt (one line per client or server failure), logs/ (every client's output).
# Exits 1 when a server failed to answer; slow numbers are never a failure.
FLAVOUR=perf
source "$(dirname "$0")/lib.sh"

OUT=${KTCP_OUT:?run this in the guest (scripts/vm.sh)}/bench
LOGS=$OUT/logs
WWW=/tmp/bench-www
NGX=/tmp/bench-nginx
KECHO_PORT=12345 USER_ECHO_PORT=12346 KHTTPD_PORT=8081 NGINX_PORT=8082
KHTTPD_TLS_PORT=8443 NGINX_TLS_PORT=8444
BARE_PORT=8083   # bare_tcp_sampled's listener, which never accepts
TLS=/tmp/bench-tls   # the certificate, its key and the agent's config and log
QUICK=${BENCH_QUICK:-0}
REPEATS=${REPEATS:-3}
REP=1   # the repeat being run; every RESULT line carries it as repeat=
HZ=$(getconf CLK_TCK)
parts=${*:-echo http conc stream tls}
mkdir -p "$LOGS"
: >"$OUT/failures.txt"

# pick FULL QUICK: the value for this run's size.
pick() { if [ "$QUICK" = 1 ]; then echo "$2"; else echo "$1"; fi; }
say() { printf '[bench %4ds] %s\n' "$SECONDS" "$*"; }
failed() { echo "FAIL $*" | tee -a "$OUT/failures.txt"; }
# field LINE KEY: the value of KEY in a RESULT line (builtins only: it runs a dozen times a run).
field() {
  local - token
  set -f   # no globbing of the tokens, for this function only
  for token in $1; do [[ $token == "$2="* ]] && { echo "${token#*=}"; return; }; done
}

# ---- measuring a client run ---------------------------------------------------------------

# cpu_sample: the wall clock (s) and the guest's busy and idle+iowait jiffies (all CPUs), in
# CPU_T, CPU_BUSY, CPU_IDLE; read with builtins, so that no process runs for it.
cpu_sample() {
  local cpu user nice system idle iowait irq softirq steal rest
  read -r cpu user nice system idle iowait irq softirq steal rest </proc/stat
  CPU_T=$EPOCHREALTIME
  CPU_BUSY=$((user + nice + system + irq + softirq + steal)) CPU_IDLE=$((idle + iowait))
}
# active_opens: TCP connections this guest has opened (Tcp: ActiveOpens), in REPLY.
active_opens() {
  local -a names values
  local line i
  while read -r line; do
    case $line in
      Tcp:\ RtoAlgorithm*) read -ra names <<<"$line";;
      Tcp:\ [0-9]*) read -ra values <<<"$line";;
    esac
  done </proc/net/snmp
  for i in "${!names[@]}"; do [ "${names[$i]}" = ActiveOpens ] && REPLY=${values[$i]}; done
}
# drained PORT: waits (at most 5 s) until no connection is established on PORT, so that the
# server's work of closing the client's connections counts in its own run, not the next one.
drained() {
  local i
  for ((i = 0; i < 50; i++)); do [ "$(established "$1")" = 0 ] && return; snooze 0.1; done
}

# measured PORT LOG CMD...: runs the client CMD (output in LOG) under GNU time and sets
# MEASURED to "wall_s= busy_s= busy_ticks_s= client_cpu_s= connects=": the client's wall time;
# the guest's busy CPU from its start until the server on PORT has closed every connection,
# as CPUs x elapsed time minus idle and iowait (both kept by the clock in this NO_HZ kernel;
# busy_ticks_s, the busy jiffies sampled by the tick, falls short under TCG, which loses
# ticks, and is only shown); the client's own user+sys CPU; the TCP connections opened
# meanwhile. Returns CMD's status.
measured() {
  local port=$1 log=$2 t0 busy0 idle0 t1 status; shift 2
  cpu_sample; t0=$CPU_T busy0=$CPU_BUSY idle0=$CPU_IDLE
  active_opens; local opens0=$REPLY
  /usr/bin/time -o "$log.time" -f 'CLIENT_CPU %U %S' "$@" >"$log" 2>&1
  status=$?
  t1=$EPOCHREALTIME
  drained "$port"
  cpu_sample
  active_opens
  MEASURED=$(awk -v t0="$t0" -v t1="$t1" -v t2="$CPU_T" -v cpus="$(nproc)" -v idle=$((CPU_IDLE - idle0)) \
    -v ticks=$((CPU_BUSY - busy0)) -v hz="$HZ" -v opens=$((REPLY - opens0)) '
    /^CLIENT_CPU / { cpu = $2 + $3 }
    END {
      printf "wall_s=%.3f busy_s=%.3f busy_ticks_s=%.3f client_cpu_s=%.3f connects=%d", t1 - t0,
        cpus * (t2 - t0) - idle / hz, ticks / hz, cpu, opens
    }' "$log.time")
  return "$status"
}

# cpu_fields LINE: what MEASURED adds to a RESULT line: itself, the server's CPU per request
# (busy minus the client's CPU, over the requests served), the client's load (its CPU over
# its wall time; >= 0.9 means one vCPU: the client, not the server, set the pace) and, for a
# load on connections that should stay open, the reconnects (connections beyond one per client;
# wrk opens one more first, to probe the address; kecho-bench one more for its stream client).
cpu_fields() {
  local line=$1 expected=-1
  case $(field "$line" tool) in
    wrk) expected=$(($(field "$line" clients) + 1));;
    kecho-bench) expected=$(($(field "$line" clients) + $([ -n "$(field "$line" stream_mib_s)" ] && echo 1 || echo 0)));;
  esac
  awk -v measured="$MEASURED" -v requests="$(field "$line" requests)" -v expected="$expected" \
    -v has_reconnects="$(field "$line" reconnects)" -v rep="$REP" '
    BEGIN {
      n = split(measured, kv, "[ =]"); for (i = 1; i < n; i += 2) m[kv[i]] = kv[i + 1]
      printf "%s repeat=%d", measured, rep
      if (requests > 0) printf " server_us_per_req=%.2f", (m["busy_s"] - m["client_cpu_s"]) * 1e6 / requests
      if (m["wall_s"] > 0) printf " client_load=%.3f", m["client_cpu_s"] / m["wall_s"]
      if (expected >= 0 && has_reconnects == "") {
        r = m["connects"] - expected; printf " reconnects=%d", (r > 0 ? r : 0)
      }
    }'
}

# keep FILE LOG STATUS LINE: appends a client's RESULT line (with cpu_fields) to FILE and shows
# its summary; a missing line, a non-zero status, errors>0 or no request answered is a failure
# (bench-report also leaves such a run out of its table and lists it).
keep() {
  local file=$1 log=$2 status=$3 line=$4 name errors
  name=$(basename "$log" .log)
  if [ -z "$line" ]; then
    failed "$name: no result (status $status)"; tail -n 5 "$log" | sed 's/^/    /'; return
  fi
  line="$line $(cpu_fields "$line")"
  echo "$line" >>"$file"
  errors=$(field "$line" errors)
  printf '  %-30s rps %9s  p99 %8s us  us/req %8s  client %5s  errors %s reconnects %s\n' "$name" \
    "$(field "$line" rps)" "$(field "$line" p99_us)" "$(field "$line" server_us_per_req)" \
    "$(field "$line" client_load)" "${errors:-?}" "$(field "$line" reconnects | grep . || echo -)"
  if [ "$status" != 0 ] || [ "${errors:-1}" != 0 ] || [ "$(field "$line" requests)" = 0 ]; then
    failed "$name: status $status, errors=${errors:-?}, requests=$(field "$line" requests)"; grep -iE 'error|fail|refused|reset' "$log" | head -n 5 | sed 's/^/    /'
  fi
}

# ---- servers ----------------------------------------------------------------------------

# load MODULE PARAM...: the module on 127.0.0.1 (bind=), where nginx and the epoll server
# listen: its default `::` (dual-stack) would give each IPv4 client an IPv6 socket, 208 bytes
# bigger (TCPv6 2,444 against TCP 2,236 in this kernel's slabs), on our side only.
load() {
  local mod=$1; shift
  insmod "$MODDIR/$mod.ko" bind=127.0.0.1 "$@" || { failed "insmod $mod bind=127.0.0.1 $*"; return 1; }
}
unload() { rmmod "$1" || failed "rmmod $1"; }
# keep_latency MODULE WHAT: appends the module's latency histograms (debugfs `latency`: queue
# delay, service time, accept to first byte; ns) to latency.txt, under the heading WHAT.
keep_latency() {
  local polls=''
  [ -r "/sys/kernel/debug/$1/send_polls" ] &&
    polls=" (send_polls $(cat "/sys/kernel/debug/$1/send_polls"), moved $(cat "/sys/kernel/debug/$1/send_polls_moved"))"
  { echo "== $1: $2$polls"; cat "/sys/kernel/debug/$1/latency" 2>&1; echo; } >>"$OUT/latency.txt"
}

user_echo_start() {
  "$BIN/user-echo-server" --port $USER_ECHO_PORT --threads "$(nproc)" --backlog 4096 >"$LOGS/user-echo-server.log" 2>&1 &
  USER_ECHO_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do grep -q '^listening' "$LOGS/user-echo-server.log" && return 0; sleep 0.1; done
  failed "user-echo-server did not start"; return 1
}
user_echo_stop() { kill "$USER_ECHO_PID" 2>/dev/null; wait "$USER_ECHO_PID" 2>/dev/null; }

# The documents both HTTP servers serve: index.html (1 KiB of HTML, for conc and stream) and
# the files of the http matrix, file-1k.html, file-16k.html and file-1m.html.
make_www() {
  local size
  mkdir -p "$WWW"
  { printf '<!DOCTYPE html>\n<html><body><pre>\n'
    yes 'ktcp-rs bench: the same 1 KiB page from both HTTP servers.' | head -n 20
  } | head -c 1002 >"$WWW/index.html"
  printf '\n</pre></body></html>\n' >>"$WWW/index.html"
  for size in 1k 16k 1m; do
    yes 'ktcp-rs bench: the same file from both HTTP servers.' | head -c "$(numfmt --from=iec "${size^^}")" \
      >"$WWW/file-$size.html"
  done
}

# nginx_start CLIENTS [tls]: nginx as a production admin runs it: a worker per vCPU, each
# listening on its own SO_REUSEPORT socket, open_file_cache, sendfile, TCP_NOPUSH/NODELAY, no
# access log, keep-alive connections never closed by a request count, and a connection table
# sized to the scenario (CLIENTS + 128 per worker: one worker may get every client). With tls,
# also HTTPS on NGINX_TLS_PORT, as khttpd_rs and its agent serve it: TLS 1.3 only, the same
# certificate, no session tickets or cache (the agent resumes no session), ALPN as nginx does
# by default, and no kTLS (ssl_conf_command Options KTLS is not set, the default): OpenSSL
# encrypts in user space, so sendfile does not apply to these responses. The plain server then
# has stub_status at /nginx-status, for served_requests.
nginx_start() {
  local conns=$(($1 + 128)) tls_server='' status=''
  mkdir -p "$NGX/logs"
  [ "${2:-}" = tls ] && status="
    location = /nginx-status { stub_status; }" tls_server="
  server {
    listen 127.0.0.1:$NGINX_TLS_PORT ssl reuseport deferred backlog=4096;
    ssl_certificate $TLS/cert.pem;
    ssl_certificate_key $TLS/key.pem;
    ssl_protocols TLSv1.3;
    ssl_session_tickets off;
    ssl_session_cache off;
    root $WWW;
    index index.html;
  }"
  cat >"$NGX/nginx.conf" <<EOF
user root;
worker_processes $(nproc);
worker_rlimit_nofile $((2 * conns + 64));
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections $conns; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  keepalive_requests 1000000000;
  keepalive_timeout 120s;
  client_header_timeout 120s;
  default_type text/html;
  client_body_temp_path $NGX/body;
  proxy_temp_path $NGX/proxy;
  fastcgi_temp_path $NGX/fastcgi;
  uwsgi_temp_path $NGX/uwsgi;
  scgi_temp_path $NGX/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT reuseport deferred backlog=4096;
    root $WWW;
    index index.html;$status
  }$tls_server
}
EOF
  nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" >"$LOGS/nginx-start.log" 2>&1 ||
    { failed "nginx did not start: $(tail -n 3 "$NGX/logs/error.log" "$LOGS/nginx-start.log" | tr '\n' ' ')"; return 1; }
}
nginx_stop() {
  local i
  [ -f "$NGX/nginx.pid" ] || return 0
  nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" -s stop 2>/dev/null
  for ((i = 0; i < 100; i++)); do [ -f "$NGX/nginx.pid" ] || break; sleep 0.1; done
  grep -E '\[(alert|crit|emerg)\]' "$NGX/logs/error.log" | head -n 5 | sed 's/^/  nginx: /'
}

# ---- clients ----------------------------------------------------------------------------

# run_log SCENARIO SERVER: the log of this run (the repeat in its name when there are several).
run_log() { echo "$LOGS/$1-$2$([ "$REPEATS" -gt 1 ] && echo "-r$REP").log"; }

# kecho FILE SERVER SCENARIO PORT ARGS...: one kecho-bench run; per-phase success is added to
# its RESULT line as phaseK_ok=<clients that completed phase K>.
kecho() {
  local file=$1 server=$2 scenario=$3 port=$4; shift 4
  local log status line
  log=$(run_log "$scenario" "$server")
  measured "$port" "$log" timeout -k 5 300 "$BIN/kecho-bench" --addr 127.0.0.1:"$port" --server "$server" \
    --scenario "$scenario" "$@"
  status=$?
  line=$(grep '^RESULT ' "$log" | tail -n 1)
  [ -n "$line" ] && line="$line $(sed -n 's/^phase \([0-9]*\): \([0-9]*\)\/.*/phase\1_ok=\2/p' "$log" | tr '\n' ' ')"
  keep "$file" "$log" "$status" "${line% }"
}

# htstress FILE SERVER SCENARIO PORT ARGS...
htstress() {
  local file=$1 server=$2 scenario=$3 port=$4; shift 4
  local log status
  log=$(run_log "$scenario" "$server")
  measured "$port" "$log" timeout -k 5 200 "$BIN/htstress-rs" --server "$server" --scenario "$scenario" \
    --timeout-s 20 --max-time-s 150 "$@" "http://127.0.0.1:$port/index.html"
  status=$?
  keep "$file" "$log" "$status" "$(grep '^RESULT ' "$log" | tail -n 1)"
}

# wrk FILE SERVER SCENARIO PORT PATH CLIENTS SECS: keep-alive load; its report becomes a
# RESULT line. errors counts wrk's socket errors (connect, read, write, timeout) and non-2xx.
wrk_run() {
  local file=$1 server=$2 scenario=$3 port=$4 path=$5 clients=$6 secs=$7
  local log status threads=2
  log=$(run_log "$scenario" "$server")
  [ "$clients" -lt 2 ] && threads=1
  measured "$port" "$log" timeout -k 5 $((secs + 60)) wrk -t "$threads" -c "$clients" -d "${secs}s" \
    --timeout "$((secs > 10 ? 2 * secs : 10))s" \
    --latency "http://127.0.0.1:$port/$path"
  status=$?
  keep "$file" "$log" "$status" "$(wrk_result "$log" "$server" "$scenario" "$clients")"
}

# wrk_result LOG SERVER SCENARIO CLIENTS [REQUESTS SECS]: the RESULT line of a wrk report;
# with REQUESTS and SECS (a measured window, wrk_window) its requests and rps are those.
# errors counts wrk's socket errors (connect, TLS handshakes included; read, write, timeout)
# and non-2xx.
wrk_result() {
  awk -v server="$2" -v scenario="$3" -v clients="$4" -v window_requests="${5:-}" -v window_s="${6:-}" '
    function us(v) {
      if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return (v + 0) * 1e3
      if (v ~ /s$/) return (v + 0) * 1e6; if (v ~ /m$/) return (v + 0) * 6e7; return v + 0
    }
    /^ +50%/ { p50 = us($2) }
    /^ +99%/ { p99 = us($2) }
    / requests in / { requests = $1 }
    /Socket errors:/ { gsub(",", ""); sockerr = $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { non2xx = $5 }
    /^Requests\/sec:/ { rps = $2 }
    END {
      if (rps == "") exit
      if (window_s != "") { requests = window_requests; rps = (window_s > 0 ? window_requests / window_s : 0) }
      printf "RESULT tool=wrk scenario=%s server=%s clients=%d requests=%d errors=%d socket_errors=%d non2xx=%d rps=%.1f p50_us=%.0f p99_us=%.0f keepalive=1\n",
        scenario, server, clients, requests, sockerr + non2xx, sockerr, non2xx, rps, p50, p99
    }' "$1"
}

# ab FILE SERVER SCENARIO PORT PATH CLIENTS SECS MAX [SCHEME]: a new connection per request (no
# -k), at most MAX requests or SECS seconds; -r counts receive errors instead of aborting on
# the first. Over https ab's TLS failures count as errors (tls_errors: its "SSL handshake
# failed", "SSL read failed" and "SSL write failed" lines): ab counts a failed handshake as a
# complete request, and as a failed one only if its length differs from the first answer's,
# so that failures from the first request on would not show in "Failed requests" at all.
# Its "SSL/TLS Protocol" line gives tls_version= and cipher=.
ab_run() {
  local file=$1 server=$2 scenario=$3 port=$4 path=$5 clients=$6 secs=$7 max=$8 scheme=${9:-http}
  local log status line
  log=$(run_log "$scenario" "$server")
  measured "$port" "$log" timeout -k 5 $((secs + 60)) ab -r -s $((secs > 10 ? 2 * secs : 10)) -c "$clients" -t "$secs" -n "$max" \
    "$scheme://127.0.0.1:$port/$path"
  status=$?
  line=$(awk -v server="$server" -v scenario="$scenario" -v clients="$clients" -v tls="$([ "$scheme" = https ] && echo 1)" '
    /^Complete requests:/ { requests = $3 }
    /^Failed requests:/ { failed = $3 }
    /^Non-2xx responses:/ { non2xx = $3 }
    /^Requests per second:/ { rps = $4 }
    /^ +50% / { p50 = $2 * 1000 }
    /^ +99% / { p99 = $2 * 1000 }
    # Not anchored: the first may follow "Benchmarking ... (be patient)..." on its line.
    /SSL (handshake|read|write) failed/ { tls_errors += gsub(/SSL (handshake|read|write) failed/, "&") }
    /^SSL\/TLS Protocol:/ { split($3, proto, ","); version = proto[1]; cipher = proto[2] }
    END {
      if (rps == "") exit
      printf "RESULT tool=ab scenario=%s server=%s clients=%d requests=%d errors=%d failed=%d non2xx=%d rps=%.1f p50_us=%.0f p99_us=%.0f keepalive=0",
        scenario, server, clients, requests, failed + non2xx + tls_errors, failed, non2xx, rps, p50, p99
      if (tls) printf " tls_errors=%d tls_version=%s cipher=%s", tls_errors, (version == "" ? "-" : version), (cipher == "" ? "-" : cipher)
      printf "\n"
    }' "$log")
  keep "$file" "$log" "$status" "$line"
}

# ---- threads and memory -----------------------------------------------------------------

# established PORT: server-side TCP connections in ESTABLISHED on PORT.
established() {
  awk -v port="$(printf ':%04X' "$1")" '$4 == "01" && substr($2, length($2) - 4) == port { n++ } END { print n + 0 }' \
    /proc/net/tcp
}
# settle PORT...: waits (at most 15 s) until no connection is established on the PORTs, so
# sockets of the previous run are not freed during the next measurement, then drops the
# page cache so MemAvailable moves only with what the connections cost.
settle() {
  local i port busy
  for ((i = 0; i < 60; i++)); do
    busy=0
    for port; do busy=$((busy + $(established "$port"))); done
    [ "$busy" = 0 ] && break
    sleep 0.25
  done
  sleep 1
  sync
  echo 3 >/proc/sys/vm/drop_caches
}
# snapshot: "processes threads MemAvailable_KiB" for the whole guest.
snapshot() {
  echo "$(ps -e --no-headers | wc -l) $(ps -eL --no-headers | wc -l) $(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)"
}
# mem_line PAIR SERVER CONNS BEFORE DURING: records one MEM line.
mem_line() {
  local -a b=($4) d=($5)
  local line
  line=$(awk -v pair="$1" -v server="$2" -v n="$3" -v pb="${b[0]}" -v tb="${b[1]}" -v mb="${b[2]}" \
    -v pd="${d[0]}" -v td="${d[1]}" -v md="${d[2]}" 'BEGIN {
      printf "MEM pair=%s server=%s conns=%d procs_before=%d procs_during=%d threads_before=%d threads_during=%d memavail_before_kib=%d memavail_during_kib=%d kib_per_conn=%.2f\n",
        pair, server, n, pb, pd, tb, td, mb, md, (mb - md) / n }')
  echo "$line" | tee -a "$OUT/mem.txt"
}
# mem_ratio PAIR SERVER PEER: the per-connection memory and thread growth of SERVER vs PEER.
# With BARE (a server name of the same pair, bare_tcp_sampled's), also each server's own memory
# per connection: its figure minus BARE's, and their ratio.
mem_ratio() {
  awk -v pair="$1" -v server="$2" -v peer="$3" -v bare="${4:-}" '
    $1 == "MEM" {
      delete f; for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      if (f["pair"] != pair) next
      kib[f["server"]] = f["kib_per_conn"]; thr[f["server"]] = f["threads_during"] - f["threads_before"]
    }
    END {
      if (!(server in kib) || !(peer in kib)) exit
      printf "MEM-RATIO pair=%s %s=%.2fKiB/conn %s=%.2fKiB/conn ratio=%s threads_added %s=%d %s=%d\n", pair,
        server, kib[server], peer, kib[peer], (kib[peer] > 0 ? sprintf("%.2f", kib[server] / kib[peer]) : "-"),
        server, thr[server], peer, thr[peer]
      if (bare != "" && (bare in kib)) {
        own_s = kib[server] - kib[bare]; own_p = kib[peer] - kib[bare]
        printf "MEM-OWN pair=%s beyond %s=%.2fKiB/conn: %s=%.2fKiB/conn %s=%.2fKiB/conn ratio=%s\n", pair, bare, kib[bare],
          server, own_s, peer, own_p, (own_p > 0 ? sprintf("%.2f", own_s / own_p) : "-")
      }
    }' "$OUT/mem.txt" | tee -a "$OUT/mem.txt"
}

# kecho_sampled SERVER PORT N: the N-client two-phase kecho-bench run, sampling threads and
# memory once every client has had its first round trip (kecho-bench prints "phase 1 done"
# and the clients idle for the pause), so that what a server allocates on a connection's
# first message counts.
kecho_sampled() {
  local server=$1 port=$2 n=$3 before during="" pid i log
  settle $KECHO_PORT $USER_ECHO_PORT
  before=$(snapshot)
  log=$(run_log "conc-echo-$n" "$server")
  rm -f "$log"
  kecho "$OUT/conc.txt" "$server" "conc-echo-$n" "$port" --clients "$n" --rounds 1 --size 64 --phases 2 \
    --pause-ms 3000 --timeout-s 150 &
  pid=$!
  for ((i = 0; i < 1200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    if grep -q "^phase 1 done: $n/$n " "$log" 2>/dev/null; then
      echo 3 >/proc/sys/vm/drop_caches
      during=$(snapshot)
      break
    fi
    snooze 0.1
  done
  wait "$pid"
  if [ -n "$during" ]; then mem_line echo "$server" "$n" "$before" "$during"
  else failed "$server: never saw all $n clients through their first round trip to sample memory"; fi
}

# The idle keep-alive holder: opens N connections, sends one GET on each, reads the whole
# answer, prints READY, then keeps them idle until the server closes them (or SECS pass).
HOLD_PY='
import socket, sys, time
host, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
req = b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n"
def answer(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        part = s.recv(4096)
        if not part: return False
        buf += part
    head, body = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length": length = int(v)
    while len(body) < length:
        part = s.recv(65536)
        if not part: return False
        body += part
    return head.startswith(b"HTTP/1.1 200")
# "bare" (sixth argument): connect only, to a listener that never accepts (bare_tcp_sampled).
bare = len(sys.argv) > 6 and sys.argv[6] == "bare"
socks, ok = [], 0
for start in range(0, n, 256):
    batch = [socket.create_connection((host, port), timeout=20) for _ in range(min(256, n - start))]
    for s in batch:
        if bare: ok += 1
        else: s.sendall(req)
    if not bare:
        for s in batch: ok += answer(s)
    socks += batch
print("READY answered=%d/%d" % (ok, n), flush=True)
if bare:
    time.sleep(secs)
    sys.exit(0)
# Phase 2: once the flag file appears (after the idle sample), a second request on every
# connection that sat idle; all must be answered.
flag, again = sys.argv[5] if len(sys.argv) > 5 else "", 0
if flag:
    import os
    wait_until = time.time() + secs
    while not os.path.exists(flag) and time.time() < wait_until:
        time.sleep(0.2)
    for start in range(0, n, 256):
        batch = socks[start:start + 256]
        for s in batch: s.sendall(req)
        for s in batch: again += answer(s)
    print("PHASE2 answered=%d/%d" % (again, n), flush=True)
deadline, closed = time.time() + secs, 0
for s in socks:
    s.settimeout(max(0.01, deadline - time.time()))
    try:
        closed += s.recv(1) == b""
    except ConnectionResetError:
        closed += 1
    except OSError:
        pass
print("hold: answered=%d closed=%d of %d" % (ok, closed, n))
sys.exit(0 if ok == n and (not flag or again == n) else 1)
'

# http_hold_sampled SERVER PORT N STOP_CMD...: N idle keep-alive connections held while
# threads and memory are sampled; STOP_CMD then ends the server, which releases them.
# holder_ready LOG PID N: waits (up to 5 min) for the holder PID to print READY in LOG; true
# if all N of its connections are ready.
holder_ready() {
  local i
  for ((i = 0; i < 1200; i++)); do
    grep -q '^READY' "$1" && break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.25
  done
  grep -q "^READY answered=$3/" "$1"
}
http_hold_sampled() {
  local server=$1 port=$2 n=$3 before during="" pid i log; shift 3
  log=$LOGS/hold-$n-$server.log
  settle $KHTTPD_PORT $NGINX_PORT $BARE_PORT
  before=$(snapshot)
  REQ_KIB_BEFORE=$(awk '$1 == "request_sock_TCP" { print int($2 * $4 / 1024) }' /proc/slabinfo)
  # HOLD_START: start the server after the "before" snapshot, so that what it allocates up
  # front (nginx's connection table, the module) counts as well ("cold" figures).
  if [ -n "${HOLD_START:-}" ]; then $HOLD_START || { failed "$server: '$HOLD_START' failed"; return; }; fi
  local flag=/tmp/hold-phase2-$server-$n
  rm -f "$flag"
  timeout -k 5 300 python3 -c "$HOLD_PY" 127.0.0.1 "$port" "$n" 200 "$flag" >"$log" 2>&1 &
  pid=$!
  if holder_ready "$log" "$pid" "$n"; then
    echo 3 >/proc/sys/vm/drop_caches
    during=$(snapshot)
    echo "  $server: $(established "$port") established while sampling"
  fi
  # Phase 2 on the same, idle connections; then the server is stopped with them open.
  touch "$flag"
  for ((i = 0; i < 600; i++)); do grep -q '^PHASE2' "$log" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  grep -q "^PHASE2 answered=$n/" "$log" || failed "$server: second request on $n idle connections: $(grep '^PHASE2' "$log")"
  "$@"
  wait "$pid" || failed "$server: idle keep-alive holder: $(tail -n 2 "$log" | tr '\n' ' ')"
  sed 's/^/  /' "$log"
  if [ -n "$during" ]; then mem_line "${HOLD_PAIR:-http}" "$server" "$n" "$before" "$during"
  else failed "$server: $n idle keep-alive connections not all answered"; fi
}

# ---- the three parts --------------------------------------------------------------------

# echo_rounds SIZE: round trips per client for a message size (fewer for large messages,
# so that every run takes a few seconds).
echo_rounds() {
  case $1 in
    64) pick 200 20;;
    4096) pick 150 15;;
    *) pick 30 4;;
  esac
}

# A B A B A B: every echo cell REPEATS times, the three servers in turn.
bench_echo() {
  local clients sizes size args
  clients=$(pick 200 50) sizes=$(pick "64 4096 65536" "64 65536")
  say "echo: $sizes B x $REPEATS repeats x (kecho_rs, kecho_rs-bound, user-epoll), $clients clients"
  user_echo_start || return
  for size in $sizes; do
    args=(--clients "$clients" --rounds "$(echo_rounds "$size")" --size "$size" --timeout-s 120)
    for ((REP = 1; REP <= REPEATS; REP++)); do
      if load kecho_rs port=$KECHO_PORT backlog=4096 bench=0; then
        kecho "$OUT/echo.txt" kecho_rs "echo-${size}B" $KECHO_PORT "${args[@]}"
        [ $REP = 1 ] && keep_latency kecho_rs "echo ${size} B, $clients clients, unbound (repeat 1)"
        unload kecho_rs
      fi
      if load kecho_rs port=$KECHO_PORT backlog=4096 bench=1; then
        kecho "$OUT/echo.txt" kecho_rs-bound "echo-${size}B" $KECHO_PORT "${args[@]}"
        [ $REP = 1 ] && keep_latency kecho_rs "echo ${size} B, $clients clients, bound (repeat 1)"
        unload kecho_rs
      fi
      kecho "$OUT/echo.txt" user-epoll "echo-${size}B" $USER_ECHO_PORT "${args[@]}"
    done
  done
  REP=1
  user_echo_stop
}

# cell_secs C SIZE SECS: the run time of a cell: SECS, or longer where C clients fetching the
# file all at once need it for about two answers each, at the ~80 MiB/s this TCG guest serves
# (1 MiB to 1,000 clients: 25 s; in 5 s each would get a part of its first answer).
cell_secs() {
  local need=$(( ($1 * $(numfmt --from=iec "${2^^}") + 40 * 1048576 - 1) / (40 * 1048576) ))
  echo $((need > $3 ? need : $3))
}

# http_cell C SIZE SECS: one cell of the http matrix, keep-alive (wrk) then a new connection
# per request (ab), REPEATS times each with the servers alternating.
http_cell() {
  local c=$1 size=$2 secs path=file-$2.html mode server port
  secs=$(cell_secs "$c" "$size" "$3")
  for mode in ka new; do
    for ((REP = 1; REP <= REPEATS; REP++)); do
      for server in khttpd_rs nginx; do
        port=$KHTTPD_PORT; [ $server = nginx ] && port=$NGINX_PORT
        if [ $mode = ka ]; then wrk_run "$OUT/http.txt" $server "http-ka-$size-c$c" $port "$path" "$c" "$secs"
        else ab_run "$OUT/http.txt" $server "http-new-$size-c$c" $port "$path" "$c" "$secs" 200000; fi
      done
    done
  done
  REP=1
}

# The http matrix; nginx restarts for each client count, its connection table sized to it.
bench_http() {
  local secs counts sizes c size
  secs=$(pick 5 2) counts=$(pick "1 32 256 1000" "1 256") sizes=$(pick "1k 16k 1m" "1k 1m")
  say "http: khttpd_rs vs nginx, files $sizes, $counts clients, ${secs}s per run, $REPEATS repeats"
  make_www
  # Both servers with TCP_DEFER_ACCEPT (nginx: listen ... deferred). khttpd_rs is loaded
  # anew for each client count, so that its latency histograms are those of that count.
  for c in $counts; do
    load khttpd_rs port=$KHTTPD_PORT backlog=4096 root=$WWW defer_accept=1 || return
    nginx_start "$c" || { unload khttpd_rs; break; }
    for size in $sizes; do http_cell "$c" "$size" "$secs"; done
    nginx_stop
    keep_latency khttpd_rs "http, $c clients, files $sizes, keep-alive and new connections"
    unload khttpd_rs
  done
}

bench_conc_echo() {
  local counts n big
  counts=$(pick "100 1000 10000" "100 1000") big=$(pick 10000 1000)
  say "concurrency: kecho_rs vs user-epoll, $counts clients, two phases 3 s apart; threads/memory at $big"
  user_echo_start || return
  load kecho_rs port=$KECHO_PORT backlog=4096 bench=0 || { user_echo_stop; return; }
  for n in $counts; do
    if [ "$n" = "$big" ]; then
      kecho_sampled kecho_rs $KECHO_PORT "$n"
      kecho_sampled user-epoll $USER_ECHO_PORT "$n"
    else
      kecho "$OUT/conc.txt" kecho_rs "conc-echo-$n" $KECHO_PORT --clients "$n" --rounds 1 --size 64 \
        --phases 2 --pause-ms 3000 --timeout-s 150
      kecho "$OUT/conc.txt" user-epoll "conc-echo-$n" $USER_ECHO_PORT --clients "$n" --rounds 1 --size 64 \
        --phases 2 --pause-ms 3000 --timeout-s 150
    fi
  done
  mem_ratio echo kecho_rs user-epoll
  unload kecho_rs
  user_echo_stop
}

# The listener of bare_tcp_sampled: binds PORT with a backlog of 65535 and never accepts.
BARE_PY='
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(65535)
print("listening", flush=True)
time.sleep(float(sys.argv[2]))
'
# bare_tcp_sampled N: the memory of N connections with no server at all (the same holder,
# connecting only, to a listener that never accepts, so the kernel holds both ends in full:
# the client's sockets, the server side's in the accept queue, the holder's own objects).
# Recorded as server "bare-tcp" of pair http, so mem_ratio can subtract it: what a server
# adds per connection beyond the TCP connection itself.
bare_tcp_sampled() {
  local n=$1 before during="" lpid hpid i log=$LOGS/hold-$1-bare-tcp.log
  # The listener first, as the servers are loaded before their "before" sample: a Python
  # process is some 10 MB, 1 KiB a connection at 10,000.
  python3 -c "$BARE_PY" $BARE_PORT 400 >"$log.listener" 2>&1 &
  lpid=$!
  for ((i = 0; i < 100; i++)); do grep -q '^listening' "$log.listener" && break; sleep 0.1; done
  settle $KHTTPD_PORT $NGINX_PORT $BARE_PORT
  before=$(snapshot)
  timeout -k 5 300 python3 -c "$HOLD_PY" 127.0.0.1 $BARE_PORT "$n" 200 "" bare >"$log" 2>&1 &
  hpid=$!
  if holder_ready "$log" "$hpid" "$n"; then
    echo 3 >/proc/sys/vm/drop_caches
    during=$(snapshot)
    # A connection still in the accept queue keeps its request_sock, which an accepted one
    # has given back: left out, so that the baseline holds only what both kinds have.
    local req_kib
    req_kib=$(awk '$1 == "request_sock_TCP" { print int($2 * $4 / 1024) }' /proc/slabinfo)
    local -a d=($during)
    during="${d[0]} ${d[1]} $((d[2] + ${req_kib:-0} - ${REQ_KIB_BEFORE:-0}))"
    echo "MEM-NOTE bare-tcp: request_sock_TCP $(( ${req_kib:-0} - ${REQ_KIB_BEFORE:-0} )) KiB left out (connections not yet accepted)" | tee -a "$OUT/mem.txt"
  fi
  kill "$hpid" "$lpid" 2>/dev/null; wait "$hpid" "$lpid" 2>/dev/null
  if [ -n "$during" ]; then mem_line http bare-tcp "$n" "$before" "$during"
  else failed "bare-tcp: $n connections not all made: $(tail -n 2 "$log" "$log.listener" | tr '\n' ' ')"; fi
}

# latency_then_unload MODULE WHAT: keep_latency, then unload.
latency_then_unload() { keep_latency "$1" "$2"; unload "$1"; }

bench_conc_http() {
  local counts n big
  counts=$(pick "100 1000 10000" "100 1000") big=$(pick 10000 1000)
  say "concurrency: khttpd_rs vs nginx, $counts keep-alive clients; threads/memory at $big idle"
  make_www
  # khttpd_rs with the same 120 s idle limits as the nginx config, so held connections stay.
  load khttpd_rs port=$KHTTPD_PORT backlog=4096 root=$WWW keepalive_timeout=120 header_timeout=120 || return
  for n in $counts; do
    nginx_start "$n" || break
    htstress "$OUT/conc.txt" khttpd_rs "conc-http-ka-$n" $KHTTPD_PORT -k -c "$n" -n $((2 * n)) --duration 20
    htstress "$OUT/conc.txt" nginx "conc-http-ka-$n" $NGINX_PORT -k -c "$n" -n $((2 * n)) --duration 20
    [ "$n" = "$big" ] || nginx_stop
  done
  [ -f "$NGX/nginx.pid" ] || nginx_start "$big" || { unload khttpd_rs; return; }
  # Its latency table first: the sweep's cost with $big connections in the table.
  http_hold_sampled khttpd_rs $KHTTPD_PORT "$big" latency_then_unload khttpd_rs "conc-http, $big idle keep-alive connections held"
  http_hold_sampled nginx $NGINX_PORT "$big" nginx_stop
  bare_tcp_sampled "$big"
  mem_ratio http khttpd_rs nginx bare-tcp
  # The same from "server not running" to "holding the connections".
  HOLD_PAIR=http-cold HOLD_START="load khttpd_rs port=$KHTTPD_PORT backlog=4096 root=$WWW keepalive_timeout=120 header_timeout=120" \
    http_hold_sampled khttpd_rs $KHTTPD_PORT "$big" unload khttpd_rs
  HOLD_PAIR=http-cold HOLD_START="nginx_start $big" http_hold_sampled nginx $NGINX_PORT "$big" nginx_stop
  mem_ratio http-cold khttpd_rs nginx
  # Hello mode (no root), the C khttpd's behaviour, held the same way.
  HOLD_PAIR=http-hello HOLD_START="load khttpd_rs port=$KHTTPD_PORT backlog=4096 keepalive_timeout=120 header_timeout=120" \
    http_hold_sampled khttpd_rs-hello $KHTTPD_PORT "$big" unload khttpd_rs
}

# One client streaming 1 GiB must not push the p99 of 100 small-request clients above 2x their
# p99 without it (connection-core issue). Scenario stream-*: server "alone" is the baseline.
bench_stream() {
  local rounds secs gib=$((1 << 30)) got
  rounds=$(pick 300 30) secs=$(pick 20 5)
  say "stream: 100 small-request clients alone vs beside one 1 GiB stream"
  if load kecho_rs port=$KECHO_PORT backlog=4096; then
    kecho "$OUT/stream.txt" alone stream-echo $KECHO_PORT --clients 100 --rounds "$rounds" --size 64 --timeout-s 300
    kecho "$OUT/stream.txt" with-1GiB-stream stream-echo $KECHO_PORT --clients 100 --rounds "$rounds" --size 64 \
      --stream-bytes $gib --timeout-s 300
    unload kecho_rs
  fi
  make_www
  truncate -s $gib "$WWW/big1g.bin"
  if load khttpd_rs port=$KHTTPD_PORT backlog=4096 root=$WWW; then
    htstress "$OUT/stream.txt" alone stream-http $KHTTPD_PORT -k -c 100 -n 100000000 --duration "$secs"
    # 1 GiB downloads back to back for as long as the small clients run.
    : >"$OUT/logs/curl-1g.txt"
    (end=$((SECONDS + secs + 1)); while [ $SECONDS -lt $end ]; do
      curl -s -m 120 -o /dev/null -w '%{size_download}\n' "http://127.0.0.1:$KHTTPD_PORT/big1g.bin"
    done >>"$OUT/logs/curl-1g.txt") &
    local curl_pid=$!
    sleep 0.5
    htstress "$OUT/stream.txt" with-1GiB-download stream-http $KHTTPD_PORT -k -c 100 -n 100000000 --duration "$secs"
    wait $curl_pid
    got=$(sort -u "$OUT/logs/curl-1g.txt" | tr '\n' ' ')
    [ "$got" = "$gib " ] || failed "1 GiB downloads delivered: $got bytes"
    say "stream: $(wc -l <"$OUT/logs/curl-1g.txt") downloads of 1 GiB, each delivered $got bytes"
    unload khttpd_rs
  fi
  rm -f "$WWW/big1g.bin"
}

# trace: what the trace events cost. khttpd_rs as built (its events off) against the same
# module built without them (KTCP_TRACE=0: server "notrace", the baseline), and as built with
# ktcp-access-log reading every request event ("traced": the tool's CPU counts as the
# server's); wrk, keep-alive, 32 clients, the 1 KiB file, REPEATS times, alternating.
bench_trace() {
  local secs variant ko pid i lines
  secs=$(pick 5 2)
  [ -f "$MODDIR-notrace/khttpd_rs.ko" ] || { failed "no $MODDIR-notrace/khttpd_rs.ko (scripts/bench.sh trace builds it)"; return; }
  say "trace: khttpd_rs (events off) and with ktcp-access-log vs built without events, ${secs}s per run, $REPEATS repeats"
  make_www
  for ((REP = 1; REP <= REPEATS; REP++)); do
    for variant in khttpd_rs notrace traced; do
      ko=$MODDIR/khttpd_rs.ko; [ $variant = notrace ] && ko=$MODDIR-notrace/khttpd_rs.ko
      insmod "$ko" bind=127.0.0.1 port=$KHTTPD_PORT backlog=4096 root=$WWW defer_accept=1 || { failed "insmod $ko"; return; }
      pid=
      if [ $variant = traced ]; then
        "$BIN/ktcp-access-log" >"$LOGS/access-log-r$REP.txt" 2>&1 &
        pid=$!
        for ((i = 0; i < 100; i++)); do
          [ "$(cat /sys/kernel/tracing/instances/ktcp-access-log.$pid/events/khttpd_rs/request/enable 2>/dev/null)" = 1 ] && break
          sleep 0.1
        done
      fi
      wrk_run "$OUT/trace.txt" $variant trace-ka-1k-c32 $KHTTPD_PORT file-1k.html 32 "$secs"
      if [ -n "$pid" ]; then
        sleep 0.5; kill "$pid"; wait "$pid" 2>/dev/null
        lines=$(wc -l <"$LOGS/access-log-r$REP.txt")
        say "trace: ktcp-access-log printed $lines lines for $(field "$(tail -n 1 "$OUT/trace.txt")" requests) requests"
        [ "$lines" -gt 0 ] || failed "ktcp-access-log printed nothing"
      fi
      unload khttpd_rs
    done
  done
  REP=1
}

# ---- tls ----------------------------------------------------------------------------------

# tls_setup: the one certificate both HTTPS servers present (EC P-256, for IP 127.0.0.1, made
# as scripts/guest/tls.sh makes its own) and the agent's configuration.
tls_setup() {
  mkdir -p "$TLS"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ktcp-bench \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$TLS/key.pem" -out "$TLS/cert.pem" 2>"$TLS/openssl.log" ||
    { failed "openssl could not make the certificate: $(tr '\n' ' ' <"$TLS/openssl.log")"; return 1; }
  printf 'cert = "%s"\nkey = "%s"\n' "$TLS/cert.pem" "$TLS/key.pem" >"$TLS/agent.toml"
}

# agent_start / agent_stop: ktcp-tls-agent, the handshake half of khttpd_rs's HTTPS, logging
# to $TLS/agent.log (tmpfs: it writes a line per handshake); ready once it has joined the
# handshake family's group. Its CPU is the guest's busy time, so it counts as the server's.
AGENT_PID='' AGENT_LINES=0
agent_start() {
  : >"$TLS/agent.log"
  "$BIN/ktcp-tls-agent" --config "$TLS/agent.toml" >>"$TLS/agent.log" 2>&1 &
  AGENT_PID=$!
  wait_line "$TLS/agent.log" "[INFO ] listening for handshake requests" 30 "$AGENT_PID" && return
  failed "ktcp-tls-agent did not get ready: $(tail -n 3 "$TLS/agent.log" | tr '\n' ' ')"
  agent_stop
  return 1
}
agent_stop() {
  [ -n "$AGENT_PID" ] || return 0
  kill -TERM "$AGENT_PID" 2>/dev/null
  wait "$AGENT_PID" || failed "ktcp-tls-agent exited with status $? (0 expected after SIGTERM): $(tail -n 3 "$TLS/agent.log" | tr '\n' ' ')"
  AGENT_PID=''
  grep -v ' established ' "$TLS/agent.log" | head -n 200 >"$LOGS/tls-agent.log"
}

# tls_negotiated: what each HTTPS server agrees on with an OpenSSL client (the library of wrk
# and ab): kept in logs/tls-negotiated.txt; anything but TLS 1.3 with our certificate (verified
# against it) is a failure.
tls_negotiated() {
  local server port out
  for server in khttpd_rs-tls nginx-tls; do
    port=$KHTTPD_TLS_PORT; [ $server = nginx-tls ] && port=$NGINX_TLS_PORT
    out=$(timeout 30 openssl s_client -connect 127.0.0.1:$port -CAfile "$TLS/cert.pem" -verify_return_error </dev/null 2>&1 |
      grep -E '^(Peer signature type|Server Temp Key|New, |Verify return code)' | tr '\n' ' ')
    echo "$server: $out" >>"$LOGS/tls-negotiated.txt"
    say "tls: $server: $out"
    [[ $out == *"New, TLSv1.3, "*"Verify return code: 0 (ok)"* ]] || failed "$server: no TLS 1.3 with our certificate: $out"
  done
}

# tls_warm_up: the 1 KiB file four times from each HTTPS server, each on a new connection, and
# compared byte for byte; so the first handshakes after a load (page faults in the agent, in
# nginx's new workers) stay out of the measured runs.
tls_warm_up() {
  local server port i
  for server in khttpd_rs-tls nginx-tls; do
    port=$KHTTPD_TLS_PORT; [ $server = nginx-tls ] && port=$NGINX_TLS_PORT
    for ((i = 0; i < 4; i++)); do
      if ! curl -sS --tlsv1.3 --cacert "$TLS/cert.pem" --max-time 30 -o "$TLS/warm.html" "https://127.0.0.1:$port/file-1k.html" 2>>"$LOGS/tls-warm-up.log" ||
        ! cmp -s "$TLS/warm.html" "$WWW/file-1k.html"; then
        failed "$server: the 1 KiB file over HTTPS was not served intact (logs/tls-warm-up.log)"; break
      fi
    done
  done
}

# tls_counters WHAT: khttpd_rs's HTTPS counters for the load just run and the agent's handshake
# lines since the last call, to tls-counters.txt. tls_failed also counts what clients abandon:
# each wrk run first probes the port with a bare connect and close, and ab leaves the
# handshakes in flight when its time is up; a timeout or a refusal (no agent, or no room in
# net/handshake's queue) is a failure, and so is an agent that has died.
tls_counters() {
  local what=$1 name line='' established failed
  for name in handshakes failed timeouts refused; do counter khttpd_rs "tls_$name"; line+=" tls_$name=$REPLY"; done
  counter khttpd_rs send_polls; line+=" send_polls=$REPLY"
  counter khttpd_rs send_polls_moved; line+=" send_polls_moved=$REPLY"
  established=$(tail -n +$((AGENT_LINES + 1)) "$TLS/agent.log" | grep -c ' established ')
  failed=$(tail -n +$((AGENT_LINES + 1)) "$TLS/agent.log" | grep -c ' failed ')
  AGENT_LINES=$(wc -l <"$TLS/agent.log")
  line="$what:$line; agent: $established established, $failed failed"
  echo "$line" >>"$OUT/tls-counters.txt"
  say "tls: $line"
  [[ $line == *" tls_timeouts=0 tls_refused=0 "* ]] || failed "khttpd_rs $what: HTTPS handshakes timed out or refused:$line"
  kill -0 "$AGENT_PID" 2>/dev/null || failed "ktcp-tls-agent died: $(tail -n 3 "$TLS/agent.log" | tr '\n' ' ')"
}

# served_requests SERVER: the requests the HTTPS server has answered so far, in REPLY: khttpd_rs's
# debugfs counter, or nginx's stub_status (read with builtins; it counts that request too).
served_requests() {
  local fd line
  REPLY=0
  if [ "$1" = khttpd_rs-tls ]; then counter khttpd_rs requests; return; fi
  exec {fd}<>"/dev/tcp/127.0.0.1/$NGINX_PORT" || return 1
  printf 'GET /nginx-status HTTP/1.0\r\nHost: localhost\r\n\r\n' >&"$fd"
  while IFS= read -r -u "$fd" line; do
    [[ ${line%$'\r'} =~ ^\ *[0-9]+\ +[0-9]+\ +([0-9]+)\ *$ ]] && REPLY=${BASH_REMATCH[1]}
  done
  exec {fd}<&-
}
# ready_clients PORT: client connections to PORT that have received 1500 bytes or more: the
# server's TLS handshake flight (under 1.2 KiB with this certificate) and some of an answer.
ready_clients() {
  ss -Htni state established "( dport = :$1 )" |
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^bytes_received:/ && substr($i, 16) + 0 >= 1500) n++ } END { print n + 0 }'
}
# process_cpu PID: the user+sys CPU seconds of process PID so far (all its threads), in REPLY.
process_cpu() {
  local -a stat
  read -r -a stat <"/proc/$1/stat" || { REPLY=0; return 1; }
  REPLY=$(((stat[13] + stat[14]) * 1000 / HZ))   # ms
}

# wrk_window FILE SERVER SCENARIO PORT PATH CLIENTS SECS: keep-alive load over https (wrk, one
# thread) measured in a window: from the moment every client has its TLS connection and has
# received some of its first answer (waited for at most 180 s), for SECS seconds; then wrk is
# stopped (SIGINT: it prints its report). The RESULT line's requests and rps (counted by the
# server), busy CPU and client CPU are the window's, so that the TLS handshakes, in user space
# for both servers and costly under TCG (about 0.1 s of CPU each), do not count as keep-alive
# work; p50, p99 and errors are wrk's, over the whole run; warmup_s is the wait for the clients
# and ready how many were counted then. A client's answer may take 30 s (--timeout).
wrk_window() {
  local file=$1 server=$2 scenario=$3 port=$4 path=$5 clients=$6 secs=$7
  local log pid t0 i ready=0 warm req0 busy0 idle0 win0 client0 status=0 line opens0
  log=$(run_log "$scenario" "$server")
  active_opens; opens0=$REPLY
  t0=$EPOCHREALTIME
  wrk -t 1 -c "$clients" -d "$((secs + 200))s" --timeout 30s --latency "https://127.0.0.1:$port/$path" >"$log" 2>&1 &
  pid=$!
  for ((i = 0; i < 720; i++)); do
    ready=$(ready_clients "$port")
    [ "$ready" -ge "$clients" ] && break
    kill -0 "$pid" 2>/dev/null || break
    snooze 0.25
  done
  warm=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  [ "$ready" -ge "$clients" ] || failed "$(basename "$log" .log): $ready of $clients clients had their TLS connection and an answer after ${warm}s"
  served_requests "$server"; req0=$REPLY
  process_cpu "$pid"; client0=$REPLY
  cpu_sample; busy0=$CPU_BUSY idle0=$CPU_IDLE win0=$CPU_T
  snooze "$secs"
  process_cpu "$pid"
  cpu_sample
  local client_ms=$((REPLY - client0)) busy_ticks=$((CPU_BUSY - busy0)) idle=$((CPU_IDLE - idle0)) win1=$CPU_T
  served_requests "$server"
  local requests=$((REPLY - req0))
  [ "$server" = nginx-tls ] && requests=$((requests - 1))   # the second stub_status request
  if kill -INT "$pid" 2>/dev/null; then wait "$pid" || status=$?; else wait "$pid"; status="ended early ($?)"; fi
  drained "$port"
  active_opens
  [ "$server" = nginx-tls ] && REPLY=$((REPLY - 2))   # the two stub_status reads
  MEASURED=$(awk -v t0="$win0" -v t1="$win1" -v cpus="$(nproc)" -v idle="$idle" -v ticks="$busy_ticks" -v hz="$HZ" \
    -v client_ms="$client_ms" -v opens=$((REPLY - opens0)) 'BEGIN {
      printf "wall_s=%.3f busy_s=%.3f busy_ticks_s=%.3f client_cpu_s=%.3f connects=%d", t1 - t0,
        cpus * (t1 - t0) - idle / hz, ticks / hz, client_ms / 1000, opens
    }')
  line=$(wrk_result "$log" "$server" "$scenario" "$clients" "$requests" "$(field "$MEASURED" wall_s)")
  keep "$file" "$log" "$status" "${line:+$line warmup_s=$warm ready=$ready}"
}

# tls_secs C SIZE SECS: the run (or window) time of a tls cell: SECS, or longer where C clients
# fetching the file all at once need it for about two answers each at 3 MiB/s, half of what
# either server sends over TLS in this guest (about 7 MiB/s with 1 MiB files: the guest
# kernel has no AES-NI or CLMUL glue, so kTLS runs the generic C AES-GCM under TCG).
tls_secs() {
  local need=$(( ($1 * $(numfmt --from=iec "${2^^}") + 3 * 1048576 - 1) / (3 * 1048576) ))
  echo $((need > $3 ? need : $3))
}

# tls_cell C SIZE SECS MODE...: one cell of the tls part for each MODE (ka: keep-alive, wrk_window;
# new: a new connection per request, ab), REPEATS times each with the servers alternating.
tls_cell() {
  local c=$1 size=$2 secs path=file-$2.html mode server port
  secs=$(tls_secs "$c" "$size" "$3")
  shift 3
  for mode; do
    for ((REP = 1; REP <= REPEATS; REP++)); do
      for server in khttpd_rs-tls nginx-tls; do
        port=$KHTTPD_TLS_PORT; [ $server = nginx-tls ] && port=$NGINX_TLS_PORT
        if [ "$mode" = ka ]; then wrk_window "$OUT/tls.txt" $server "tls-ka-$size-c$c" $port "$path" "$c" "$secs"
        else ab_run "$OUT/tls.txt" $server "tls-new-$size-c$c" $port "$path" "$c" "$secs" 200000 https; fi
      done
    done
  done
  REP=1
}

# tls: HTTPS, khttpd_rs (handshake by ktcp-tls-agent, records by the kernel's TLS layer) vs
# nginx (OpenSSL in user space): keep-alive at 32 and 256 clients, where the record layer
# counts; a new connection per request at 1 and 32, where the handshakes (user space in both)
# do. khttpd_rs and nginx are started anew for each client count, as in the http part;
# khttpd_rs with handshake_timeout=120, the 120 s nginx's client_header_timeout gives its
# handshakes (256 clients connecting at once queue for minutes of handshake CPU under TCG).
# Not run: 1 MiB to 256 keep-alive clients (256 MiB a round: about 3 minutes per run here).
bench_tls() {
  local secs ka new sizes c size modes
  secs=$(pick 5 2) ka=$(pick "32 256" "32") new=$(pick "1 32" "1") sizes=$(pick "1k 16k 1m" "1k 1m")
  say "tls: khttpd_rs-tls vs nginx-tls, TLS 1.3, files $sizes; keep-alive at $ka clients, new connection per request at $new; ${secs}s per run, $REPEATS repeats"
  make_www
  tls_setup && agent_start || return
  for c in $(echo "$ka $new" | tr ' ' '\n' | sort -nu); do
    modes=()
    [[ " $ka " == *" $c "* ]] && modes+=(ka)
    [[ " $new " == *" $c "* ]] && modes+=(new)
    load khttpd_rs port=$KHTTPD_PORT tls_port=$KHTTPD_TLS_PORT root=$WWW defer_accept=1 backlog=4096 handshake_timeout=120 || break
    nginx_start "$c" tls || { unload khttpd_rs; break; }
    [ -s "$LOGS/tls-negotiated.txt" ] || tls_negotiated
    tls_warm_up
    for size in $sizes; do
      if [ "$c" -ge 256 ] && [ "$size" = 1m ]; then
        [[ " ${modes[*]} " == *" new "* ]] && tls_cell "$c" "$size" "$secs" new
      else
        tls_cell "$c" "$size" "$secs" "${modes[@]}"
      fi
    done
    nginx_stop
    keep_latency khttpd_rs "https, $c clients (${modes[*]}), files $sizes"
    tls_counters "https, $c clients (${modes[*]})"
    unload khttpd_rs
  done
  agent_stop
  # Which AES-GCM kTLS got (the driver the kernel instantiated for it), and the vCPU's flags.
  echo "kernel gcm(aes): $(awk '/^name/ { n = $3 } /^driver/ && n == "gcm(aes)" { print $3 }' /proc/crypto | sort -u | tr '\n' ' ')" \
    "vCPU: $(grep -m1 -ow -E 'aes|pclmulqdq|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')" | tee -a "$OUT/tls-counters.txt"
}

# profile_run SERVER PORT MODE: one 1 KiB run at 32 clients (MODE ka: wrk; new: ab) under
# `perf record -a -e cpu-clock`; appends its breakdown per request to profile.txt: the top
# symbols, every comm and every dso, as microseconds per request (samples / frequency /
# requests). Softirq work is charged to whichever task it interrupted (often the client).
PROFILE_HZ=1000
profile_run() {
  local server=$1 port=$2 mode=$3 data=/tmp/bench-perf.data secs line requests
  secs=$(pick 5 2)
  perf record -q -a -e cpu-clock -F $PROFILE_HZ -o $data -- sleep 3600 >"$LOGS/perf-$server-$mode.log" 2>&1 &
  local perf_pid=$!
  sleep 1
  kill -0 $perf_pid 2>/dev/null || { failed "perf record: $(tail -n 2 "$LOGS/perf-$server-$mode.log" | tr '\n' ' ')"; return 1; }
  if [ "$mode" = ka ]; then wrk_run "$OUT/profile-runs.txt" "$server" "profile-ka-1k-c32" "$port" file-1k.html 32 "$secs"
  else ab_run "$OUT/profile-runs.txt" "$server" "profile-new-1k-c32" "$port" file-1k.html 32 "$secs" 200000; fi
  kill -INT $perf_pid; wait $perf_pid
  line=$(grep "scenario=profile-$mode-1k-c32 server=$server " "$OUT/profile-runs.txt" | tail -n 1)
  requests=$(field "$line" requests)
  [ "${requests:-0}" -gt 0 ] || { failed "profile $server $mode: no request served"; return 1; }
  {
    echo "== $server, $mode, 1 KiB, 32 clients: $requests requests, server_us_per_req=$(field "$line" server_us_per_req) (whole guest, client's own CPU subtracted)"
    for key in comm dso sym; do
      echo "-- by $key: us per request (samples at $PROFILE_HZ Hz over $requests requests; top 25)"
      perf report -i $data --sort "$key" --stdio -n 2>/dev/null |
        awk -v hz=$PROFILE_HZ -v req="$requests" '
          /^#/ || NF < 3 { next }
          { pct = $1; n = $2; $1 = ""; $2 = ""; sub(/^ +/, "")
            printf "  %9.2f us  %6s  %s\n", n / hz * 1e6 / req, pct, $0 }' | head -n 25
    done
    echo
  } >>"$OUT/profile.txt"
  rm -f $data
}

# Each HTTP server alone, as in the http part (TCP_DEFER_ACCEPT on both).
bench_profile() {
  say "profile: perf record -a over 1 KiB at 32 clients, keep-alive and new connection, each server alone"
  command -v perf >/dev/null || { failed "profile: no perf"; return 1; }
  make_www
  sysctl -qw kernel.perf_event_paranoid=-1 kernel.kptr_restrict=0
  load khttpd_rs port=$KHTTPD_PORT backlog=4096 root=$WWW defer_accept=1 || return
  profile_run khttpd_rs $KHTTPD_PORT ka
  profile_run khttpd_rs $KHTTPD_PORT new
  unload khttpd_rs
  nginx_start 32 || return
  profile_run nginx $NGINX_PORT ka
  profile_run nginx $NGINX_PORT new
  nginx_stop
  cat "$OUT/profile.txt"
}

# 10,000 clients and the connection-per-request runs need many ephemeral ports; none of them
# may be a server's port (nginx could not bind 8082 once a client had taken it).
sysctl -qw net.ipv4.ip_local_port_range="16384 65535" \
  net.ipv4.ip_local_reserved_ports="$KHTTPD_PORT,$NGINX_PORT,$KECHO_PORT,$USER_ECHO_PORT,$KHTTPD_TLS_PORT,$NGINX_TLS_PORT,$BARE_PORT" \
  net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535 net.ipv4.tcp_tw_reuse=1
# 1,000 clients fetching 1 MiB each hold up to 1 GiB in socket buffers; this 4 GiB guest's
# default tcp_mem (361 MiB at most) made TCP reset connections of both servers ("TCP: out of
# memory -- consider tuning tcp_mem", ab's "Exceptions") in 2 of 3 runs of that cell. Raised
# as an admin serving that load would: pressure from 1 GiB, at most 1.5 GiB (4 KiB pages).
# (On loopback a byte in flight is charged twice, to the sender's retransmit queue and the
# receiver's queue, so this makes resets rare, not impossible; the limit stays at half the
# guest's memory if it is smaller.) Checked, since a refused write would go unnoticed.
tcp_mem_max=$(awk '/^MemTotal:/ { m = int($2 / 4 / 2); print (m < 393216 ? m : 393216) }' /proc/meminfo)
tcp_mem="$((tcp_mem_max / 2)) $((tcp_mem_max * 2 / 3)) $tcp_mem_max"
sysctl -qw net.ipv4.tcp_mem="$tcp_mem"
[ "$(tr -s ' \t' ' ' </proc/sys/net/ipv4/tcp_mem)" = "$tcp_mem" ] ||
  failed "net.ipv4.tcp_mem is '$(cat /proc/sys/net/ipv4/tcp_mem)', not '$tcp_mem'"
say "parts: $parts$([ "$QUICK" = 1 ] && echo ' (quick)'); $(nproc) CPUs, $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) KiB"
for part in $parts; do
  case $part in
    echo) bench_echo;;
    http) bench_http;;
    conc) bench_conc_echo; bench_conc_http;;
    conc-echo) bench_conc_echo;;
    conc-http) bench_conc_http;;
    stream) bench_stream;;
    trace) bench_trace;;
    tls) bench_tls;;
    profile) bench_profile;;
    *) failed "unknown part '$part'";;
  esac
done
nginx_stop
agent_stop
for mod in kecho_rs khttpd_rs; do [ -d /sys/module/$mod ] && rmmod $mod; done
say "done: $(wc -l <"$OUT/failures.txt") failure(s)"
[ ! -s "$OUT/failures.txt" ]
