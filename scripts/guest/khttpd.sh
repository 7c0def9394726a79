#!/usr/bin/env bash
# khttpd_rs guest tests: every behaviour of the khttpd_rs issue, against the real module.
# STORM_SECS, CYCLES, BIG_MIB, SEED, JOBS: see README.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace-lib.sh"
plan 68
KO=$MODDIR/khttpd_rs.ko
ADDR=127.0.0.1:8081
WWW=/tmp/ktcp-www OUTSIDE=/tmp/ktcp-outside

# The tree, with the names the storm asks for that must be refused (FIFO, devices, dotfiles):
# without them the storm would pass against a server that serves them.
"$BIN/itest" mkroot $WWW --outside $OUTSIDE --big-mib "${BIG_MIB:-8}" >/dev/null || { echo "khttpd.sh: itest mkroot failed"; exit 1; }
: >/tmp/ktcp-plain-file

# Zero-copy file bodies, from the two other kinds of file system the guest has, mounted
# beneath the root: a tmpfs, and this tree's build output on the host's shared file system
# (virtiofs, or 9p). (The root itself is on the overlay virtme-ng puts over /tmp.)
mkdir -p $WWW/fs/tmpfs $WWW/fs/shared
mount -t tmpfs -o size=$((${BIG_MIB:-8} + 16))m ktcp-zc $WWW/fs/tmpfs && cp $WWW/big.bin $WWW/fs/tmpfs/ &&
  mount --bind "$BIN" $WWW/fs/shared || { echo "khttpd.sh: cannot mount beneath $WWW/fs"; exit 1; }
# stalled_reader_send_polls: a client asks for big.bin and reads nothing: the send blocks and
# no write-space wake-up comes, so the 1 s retry poll runs it: send_polls grows within 6 s,
# and by at most 4 over the next 2.5 s (a poll a second, not a count of wake-ups or runs).
# Once the client reads, the whole response arrives, byte for byte. (send_polls_moved, the
# polls that found room, is shown: a receiver that collapses its queue can open its window
# a little without reading.)
stalled_reader_send_polls() {
  local p0 m0 fd i t0 waited polls moved size
  size=$(command stat -c %s $WWW/big.bin)
  counter khttpd_rs send_polls; p0=$REPLY
  counter khttpd_rs send_polls_moved; m0=$REPLY
  exec {fd}<>/dev/tcp/127.0.0.1/8081 || return 1
  printf 'GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' >&$fd
  now_ms; t0=$REPLY
  for ((i = 0; i < 60; i++)); do
    snooze 0.1
    counter khttpd_rs send_polls; [ "$REPLY" -gt "$p0" ] && break
  done
  now_ms; waited=$((REPLY - t0))
  snooze 2.5
  counter khttpd_rs send_polls; polls=$((REPLY - p0))
  counter khttpd_rs send_polls_moved; moved=$((REPLY - m0))
  timeout 30 cat <&$fd >"$TMPD/stalled.out"
  exec {fd}<&-
  echo "note: first poll after $waited ms of a stalled reader; send_polls +$polls by 2.5 s later, send_polls_moved +$moved"
  [ "$polls" -ge 1 ] || { echo "no retry poll counted in 6 s"; return 1; }
  [ "$polls" -le 4 ] || { echo "$polls polls in 2.5 s: counting more than the 1 s polls"; return 1; }
  [ "$(command stat -c %s "$TMPD/stalled.out")" -gt "$size" ] || { echo "response cut short"; return 1; }
  tail -c "$size" "$TMPD/stalled.out" | cmp - $WWW/big.bin
}
# closed_connections_reuse_buffers: 40 requests, each on a new connection that the server
# closes after its answer (Connection: close): a closing connection gives its buffers back to
# the pool as an idle one does, so the next connection allocates none (buffer_allocs +1 at
# most). 40 is more than the pool's 32, so a pool left full by earlier tests cannot cover
# them: freed with the connection, at least 8 would be allocated (52 KiB zeroed each).
closed_connections_reuse_buffers() {
  local a0 fd i reply
  wait_idle khttpd_rs 15 || return 1
  counter khttpd_rs buffer_allocs; a0=$REPLY
  for ((i = 0; i < 40; i++)); do
    exec {fd}<>/dev/tcp/127.0.0.1/8081 || return 1
    printf 'GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' >&$fd
    reply=$(timeout 10 cat <&$fd)
    exec {fd}<&-
    [[ $reply == "HTTP/1.1 200 "* ]] || { echo "request $i: '${reply:0:40}'"; return 1; }
  done
  counter khttpd_rs buffer_allocs
  echo "note: buffer_allocs +$((REPLY - a0)) over 40 closed connections"
  [ $((REPLY - a0)) -le 1 ]
}
# send_whole FD BYTES: BYTES in one write (bash's printf writes line by line on a socket:
# its stdout is line-buffered), so the server reads them at once.
send_whole() {
  printf '%s' "$2" >"$TMPD/whole.req" && cat "$TMPD/whole.req" >&"$1"
}
# pooled_buffers_start_clean: a connection closed in the middle of an exchange (half a head;
# a body still to skip; a pipelined request cut short) gives its buffers back to the pool with
# the exchange's state, and the next connection takes them (the pool is last in, first out):
# its request must parse from scratch and be answered whole. Fails if ConnBuffers::reset
# leaves the head parser, the body to skip or the input behind.
pooled_buffers_start_clean() {
  local fd i reply body
  local -a dirty=(
    $'GET /a.txt HTTP/1.1\r\nHost: t\r\nX-Partial: 1'
    $'PUT /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n0123456789'
    $'GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /b.txt HTTP/1.1\r\nHo'
  )
  body=$(cat "$WWW/a.txt")
  for ((i = 0; i < 12; i++)); do
    wait_idle khttpd_rs 15 || return 1
    exec {fd}<>/dev/tcp/127.0.0.1/8081 || return 1
    send_whole $fd "${dirty[i % 3]}" || return 1
    snooze 0.2
    exec {fd}<&-
    wait_idle khttpd_rs 15 || { echo "round $i: the interrupted connection never closed"; return 1; }
    exec {fd}<>/dev/tcp/127.0.0.1/8081 || return 1
    # Connection before Host: a parser resumed at the half head's offsets (42 and 30) would
    # then read a line across a line end and answer 400; with Host first the offsets fall
    # on line starts and a stale parser still parses this request right.
    send_whole $fd $'GET /a.txt HTTP/1.1\r\nConnection: close\r\nHost: t\r\n\r\n' || return 1
    reply=$(timeout 10 cat <&$fd)
    exec {fd}<&-
    if [[ $reply != "HTTP/1.1 200 "* || $reply != *"$body"* ]]; then
      echo "round $i, after '${dirty[i % 3]:0:24}...': got '${reply:0:60}'"; return 1
    fi
  done
}
# head_timeout_after_body BODY_NOW BODY_LATER: a request with a body (Content-Length 5 + the
# length of BODY_LATER) and BODY_NOW of it, in one write; past header_timeout (3 s), BODY_LATER with the
# first line of the next request, the rest of that head 1.5 s later (more than a sweep, less
# than header_timeout). Both requests must get a 200: the next head's time runs from its
# first byte, not from when the first request was answered (a 408 then).
head_timeout_after_body() {
  local fd reply p=/sys/module/khttpd_rs/parameters/keepalive_timeout codes
  wait_idle khttpd_rs 15 || return 1
  echo 30 >$p
  exec {fd}<>/dev/tcp/127.0.0.1/8081 || { echo 4 >$p; return 1; }
  send_whole $fd "GET /a.txt HTTP/1.1"$'\r\n'"Host: t"$'\r\n'"Content-Length: $((5 + ${#2}))"$'\r\n\r\n'"$1"
  snooze 4
  send_whole $fd "$2GET /a.txt HTTP/1.1"$'\r\n'
  snooze 1.5
  send_whole $fd $'Host: t\r\nConnection: close\r\n\r\n'
  reply=$(timeout 10 cat <&$fd)
  exec {fd}<&-
  echo 4 >$p
  codes=$(grep -a '^HTTP/1.1' <<<"$reply" | tr -d '\r' | tr '\n' ' ')
  [ "$codes" = "HTTP/1.1 200 OK HTTP/1.1 200 OK " ] || { echo "got: $codes"; return 1; }
}
# file_cache_hits: five GETs of one file pipelined on one connection (bash's /dev/tcp: no
# process to start), well within the cache's 1 s: at least the last four are cache hits.
file_cache_hits() {
  local before fd i reqs='' line n=0
  counter khttpd_rs file_cache_hits; before=$REPLY
  for ((i = 0; i < 4; i++)); do reqs+=$'GET /b.txt HTTP/1.1\r\nHost: t\r\n\r\n'; done
  reqs+=$'GET /b.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  exec {fd}<>/dev/tcp/127.0.0.1/8081 || return 1
  printf '%s' "$reqs" >&$fd
  while read -r -t 10 -u $fd line; do [[ $line == "HTTP/1.1 200"* ]] && n=$((n + 1)); done
  exec {fd}<&-
  [ $n = 5 ] || { echo "$n of 5 answers were 200"; return 1; }
  counter khttpd_rs file_cache_hits
  echo "note: file_cache_hits grew by $((REPLY - before)) over 5 GETs"
  [ $((REPLY - before)) -ge 4 ]
}
# unmount_tmpfs: the tmpfs beneath the root unmounts, so no file of it is open (EBUSY
# otherwise; a delayed fput gets two seconds to finish); then it is mounted again, empty but
# for big.bin.
unmount_tmpfs() {
  local i
  for ((i = 0; i < 20; i++)); do umount $WWW/fs/tmpfs 2>/dev/null && break; snooze 0.1; done
  ! mountpoint -q $WWW/fs/tmpfs || { echo "the tmpfs is still busy: $(fuser -vm $WWW/fs/tmpfs 2>&1)"; return 1; }
  mount -t tmpfs -o size=$((${BIG_MIB:-8} + 16))m ktcp-zc $WWW/fs/tmpfs && cp $WWW/big.bin $WWW/fs/tmpfs/
}
# spliced_fetch URL FILE...: one curl fetches each URL into a file equal to its FILE, and the
# module's bytes_spliced counter grows by at least their total size (no copy on any of them).
spliced_fetch() {
  local before urls=() files=() want=0 i=0 args=()
  counter khttpd_rs bytes_spliced; before=$REPLY
  while [ $# -gt 0 ]; do urls+=("$1"); files+=("$2"); want=$((want + $(command stat -c %s "$2"))); shift 2; done
  for ((i = 0; i < ${#urls[@]}; i++)); do
    ((i)) && args+=(--next)
    args+=(-sf -o "$TMPD/spliced-$i" "${urls[$i]}")
  done
  curl "${args[@]}" || { echo "curl failed"; return 1; }
  for ((i = 0; i < ${#urls[@]}; i++)); do
    cmp "$TMPD/spliced-$i" "${files[$i]}" || return 1
  done
  counter khttpd_rs bytes_spliced
  echo "bytes_spliced grew by $((REPLY - before)), the files have $want bytes"
  [ $((REPLY - before)) -ge $want ]
}
# spliced_range URL FILE FIRST LAST: a Range fetch of bytes FIRST..LAST (an odd offset: the
# splice starts mid-page) equals that part of FILE, and bytes_spliced grows by at least its
# length (run alone, so that no other fetch adds to the counter).
spliced_range() {
  local before len=$(($4 - $3 + 1))
  counter khttpd_rs bytes_spliced; before=$REPLY
  curl -sf -r "$3-$4" -o "$TMPD/range.out" "$1" || { echo "curl failed"; return 1; }
  tail -c +$(($3 + 1)) "$2" | head -c $len | cmp - "$TMPD/range.out" || return 1
  counter khttpd_rs bytes_spliced
  echo "bytes_spliced grew by $((REPLY - before)) for a range of $len bytes at $3"
  [ $((REPLY - before)) -ge $len ]
}
# header_of FILE NAME: the value of field NAME in the response head curl saved in FILE (-D),
# in REPLY ('' and a failure when absent).
header_of() {
  local line
  REPLY=''
  while IFS= read -r line; do
    line=${line%$'\r'}
    [[ ${line,,} == "${2,,}:"* ]] && { REPLY=${line#*:}; REPLY=${REPLY# }; return 0; }
  done <"$1"
  return 1
}
# answered N STATUS [NAME VALUE]...: request N of a curl run (its status on line N of
# $TMPD/cache-codes, its head in cache-N.h) got STATUS, and each field NAME has VALUE ('': absent).
answered() {
  local n=$1 want=$2 codes
  mapfile -t codes <$TMPD/cache-codes
  [ "${codes[$n]:-}" = "$want" ] || { echo "request $n: status '${codes[$n]:-}', want $want"; return 1; }
  shift 2
  while [ $# -gt 0 ]; do
    header_of $TMPD/cache-$n.h "$1"
    [ "$REPLY" = "$2" ] || { echo "request $n: $1 '$REPLY', want '$2'"; return 1; }
    shift 2
  done
}
# cache_requests URL [CURL ARGS...]...: one curl process makes each request (the groups are
# separated by `--`), saving request N's head in cache-N.h, its body in cache-N.b and its
# status on line N of cache-codes.
cache_requests() {
  local args=() n=0
  rm -f $TMPD/cache-*
  while [ $# -gt 0 ]; do
    ((n)) && args+=(--next)
    args+=(-s -D $TMPD/cache-$n.h -o $TMPD/cache-$n.b -w '%{http_code}\n')
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    n=$((n + 1))
  done
  curl "${args[@]}" >$TMPD/cache-codes 2>&1
}
# max_age_runtime: max_age written at run time applies to the next request: file responses
# (200, 304) carry Cache-Control, a listing and a 404 do not (nor an ETag); 0 turns it off.
max_age_runtime() {
  param_set khttpd_rs max_age 60 || return 1
  cache_requests http://$ADDR/a.txt -- -H "If-None-Match: $ETAG" http://$ADDR/a.txt -- \
    http://$ADDR/list/ -- http://$ADDR/missing.txt
  param_set khttpd_rs max_age 0
  answered 0 200 Cache-Control max-age=60 ETag "$ETAG" && answered 1 304 Cache-Control max-age=60 &&
    answered 2 200 Cache-Control '' ETag '' && answered 3 404 Cache-Control '' ETag '' || return 1
  cache_requests http://$ADDR/a.txt
  answered 0 200 Cache-Control '' ETag "$ETAG"
}

# ktcp-stat (README "Live statistics"). stat_rates: two ktcp-stat runs (--json and the
# table), 1 s intervals, while a 2 s htstress load runs wholly inside their window: the sum of
# requests/s x elapsed_s over the JSON lines must equal the requests counter's growth over
# the window (to 0.5), the table's req/s column (x 1 s) must sum to it within 10 %, and the
# intervals' service-time samples must be those of the load only (at most one per request,
# at least 90 % of them: not the cumulative histogram), with p50 <= p99.
stat_rates() {
  local before after json=$TMPD/stat.json table=$TMPD/stat.txt jpid tpid sum line
  wait_idle khttpd_rs 15 || return 1
  counter khttpd_rs requests; before=$REPLY
  "$BIN/ktcp-stat" khttpd_rs 1 10 --json >"$json" 2>&1 &
  jpid=$!
  "$BIN/ktcp-stat" khttpd_rs 1 10 >"$table" 2>&1 &
  tpid=$!
  if ! wait_line "$json" '{' 30 "$jpid" || ! wait_line "$table" khttpd_rs 30 "$tpid"; then
    kill $jpid $tpid 2>/dev/null; echo "ktcp-stat printed no first interval:"; cat "$json" "$table"; return 1
  fi
  "$BIN/htstress-rs" -n 1000000 --duration 2 -c 8 -k http://$ADDR/ >"$TMPD/stat-load.txt" 2>&1 ||
    { kill $jpid $tpid 2>/dev/null; cat "$TMPD/stat-load.txt"; return 1; }
  if ! kill -0 $jpid 2>/dev/null || ! kill -0 $tpid 2>/dev/null; then
    echo "a ktcp-stat run ended before the load did: its window does not hold the load"; return 1
  fi
  wait $jpid || { cat "$json"; return 1; }
  wait $tpid || { cat "$table"; return 1; }
  counter khttpd_rs requests; after=$REPLY
  while IFS= read -r line; do echo "note: $line"; done <"$table"
  sum=$(jq -rs --argjson diff $((after - before)) '
    def near(a; b; tol): ((a - b) | if . < 0 then -. else . end) <= tol;
    (map(.rates.requests * .elapsed_s) | add) as $req
    | (map(.latency.service.count) | add) as $svc
    | "note: \(length) JSON intervals: sum of requests/s x elapsed_s \($req), counter grew by \($diff), service samples \($svc)",
      (if length != 10 then "FAIL: \(length) intervals, want 10"
       elif $diff < 100 then "FAIL: the load made only \($diff) requests"
       elif (near($req; $diff; 0.5) | not) then "FAIL: the rates add up to \($req) requests, not \($diff)"
       elif $svc > $diff or $svc < $diff * 0.9 then "FAIL: \($svc) service samples for \($diff) requests"
       elif any(.[].latency.service; .count > 0 and (.p50_ns <= 0 or .p50_ns > .p99_ns)) then "FAIL: p50 > p99 or 0"
       else "OK" end)' "$json") || { cat "$json"; return 1; }
  echo "$sum"
  [[ $sum == *$'\nOK' ]] || return 1
  awk -v diff=$((after - before)) '
    NR == 1 && $1 != "module" { print "no header first"; exit 1 }
    $1 == "khttpd_rs" { n++; sum += $7 }
    END { printf "note: %d table lines, req/s adds up to %.1f (counter: %d)\n", n, sum, diff
      if (n != 10 || sum < diff * 0.9 || sum > diff * 1.1) exit 1 }' "$table"
}
# stat_prometheus: with the module idle, `ktcp-stat --prometheus --output FILE` writes lines
# that are each a HELP, a TYPE (counter, gauge, summary) or a sample of a family declared
# before it, and every counter and gauge file of debugfs, read right after, has its sample
# with the same value.
stat_prometheus() {
  local prom=$TMPD/ktcp.prom line name value family f n=0 files=0
  local re='^(ktcp_[a-z0-9_]+)\{module="khttpd_rs"(,metric="[a-z_]+")?(,quantile="0\.[0-9]+")?\} ([0-9]+(\.[0-9]+)?)$'
  local -A type=() seen=()
  wait_idle khttpd_rs 15 || return 1
  "$BIN/ktcp-stat" khttpd_rs --prometheus --output "$prom" || return 1
  while IFS= read -r line; do
    if [[ $line =~ ^#\ HELP\ ktcp_[a-z0-9_]+\ [^\ ].*$ ]]; then continue; fi
    if [[ $line =~ ^#\ TYPE\ (ktcp_[a-z0-9_]+)\ (counter|gauge|summary)$ ]]; then
      type[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}; continue
    fi
    [[ $line =~ $re ]] || { echo "not an exposition line: '$line'"; return 1; }
    name=${BASH_REMATCH[1]} value=${BASH_REMATCH[4]} family=${BASH_REMATCH[1]}
    [ -z "${type[$family]:-}" ] && [[ $name == *_count ]] && family=${name%_count}
    [ -n "${type[$family]:-}" ] || { echo "sample before its TYPE: '$line'"; return 1; }
    [ "${type[$family]}" = counter ] && [[ $name != *_total ]] && { echo "counter without _total: $line"; return 1; }
    [ -z "${BASH_REMATCH[2]}" ] && seen[${name#ktcp_}]=$value
  done <"$prom"
  for f in "$D"/khttpd_rs/*; do
    name=${f##*/}
    case $name in latency*) continue;; esac
    files=$((files + 1))
    read -r value <"$f"
    [ "${seen[${name}_total]:-${seen[$name]:-none}}" = "$value" ] ||
      { echo "$name: debugfs $value, exposition ${seen[${name}_total]:-${seen[$name]:-none}}"; return 1; }
    n=$((n + 1))
  done
  echo "note: ${#seen[@]} counter and gauge samples, $n equal to their debugfs file ($files files), families: ${!type[*]}"
  [ $n -ge 12 ] && [ ${#seen[@]} = $files ]
}
# stat_fails USER EXPECTED: ktcp-stat khttpd_rs, run as USER (root, or an unprivileged uid),
# exits non-zero, saying EXPECTED (a glob).
stat_fails() {
  local out
  if [ "$1" = root ]; then
    "$BIN/ktcp-stat" khttpd_rs 1 1 >"$TMPD/stat-err" 2>&1 && { echo "ktcp-stat exited 0"; return 1; }
  else
    setpriv --reuid "$1" --regid "$1" --clear-groups "$BIN/ktcp-stat" khttpd_rs 1 1 >"$TMPD/stat-err" 2>&1 &&
      { echo "ktcp-stat exited 0"; return 1; }
  fi
  read -rd '' out <"$TMPD/stat-err"
  echo "note: ${out%$'\n'}"
  [[ $out == $2 ]]
}

# Refused parameters. One at a time: concurrent loads of one .ko file share a single result.
check khttpd/param_port_zero insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid port=0" port=0
check khttpd/param_keepalive_negative insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid keepalive_timeout" keepalive_timeout=-1
check khttpd/param_header_too_big insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid header_timeout" header_timeout=100000
check khttpd/param_root_not_dir insmod_fails "$KO" "Not a directory" "root=/tmp/ktcp-plain-file" root=/tmp/ktcp-plain-file
check khttpd/param_defer_accept_too_big insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid defer_accept" defer_accept=61
check khttpd/param_max_age_too_big insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid max_age" max_age=31536001
check khttpd/param_bind_not_an_address insmod_fails "$KO" "Invalid param\|Invalid argument" "invalid bind=::g" bind=::g
check khttpd/param_bind_not_local insmod_fails "$KO" "Cannot assign requested address" "cannot listen on 192.0.2.1:8081: error -99" bind=192.0.2.1
check khttpd/param_root_missing insmod_fails "$KO" "No such file\|Unknown symbol" "root=/nonexistent" root=/nonexistent

# Hello mode: the C khttpd's behaviour. curl (slow to start here) runs beside the suite.
insmod "$KO"
curl -sf -o $TMPD/hello http://$ADDR/anything &
curl_pid=$!
itest_suite hello --addr $ADDR --jobs "${JOBS:-6}"
check khttpd/hello_curl eval "wait $curl_pid && has_any \"\$(<$TMPD/hello)\" 'Hello World'"
check_alone_long khttpd/stat_rates_match_counters stat_rates
check khttpd/stat_prometheus_equals_debugfs stat_prometheus
check khttpd/stat_permission_denied stat_fails 65534 "ktcp-stat: permission denied reading /sys/kernel/debug *"
rmmod khttpd_rs
check khttpd/stat_module_not_loaded stat_fails root "ktcp-stat: khttpd_rs is not loaded (no /sys/module/khttpd_rs)*"

# Static files, with short timeouts so the timeout tests are quick.
insmod "$KO" root=$WWW header_timeout=3 keepalive_timeout=4
check khttpd/params_in_sysfs eval "param_eq khttpd_rs root $WWW && param_eq khttpd_rs keepalive_timeout 4 &&
  param_eq khttpd_rs bind ::"
# The exchange's state goes with the buffers when the connection turns idle (a body whole,
# the next head later), and stays when the body's end and the next head come together.
check khttpd/head_timeout_after_idle_body head_timeout_after_body hello ''
check khttpd/head_timeout_after_split_body head_timeout_after_body hello world
# One curl process for three requests (each exec of curl is slow in the emulated guest),
# beside the suite.
curl -s -o $TMPD/file -w '%{http_code}\n' http://$ADDR/a.txt --next -s -r 2-5 -o $TMPD/range -w '%{http_code}\n' \
  http://$ADDR/a.txt --next -s -o /dev/null -w '%{http_code}\n' http://127.0.0.2:8081/a.txt >$TMPD/codes 2>&1 &
curl_pid=$!
# Caching headers (#13): the ETag is nginx's "<hex mtime>-<hex size>"; If-None-Match (weak
# comparison, lists, *) gives 304 and takes precedence over If-Modified-Since; If-Range takes
# the strong ETag only. No Cache-Control by default (max_age=0).
read -r mtime size < <(command stat -c '%Y %s' $WWW/a.txt)
printf -v ETAG '"%x-%x"' "$mtime" "$size"
LASTMOD=$(LC_ALL=C date -u -d "@$mtime" '+%a, %d %b %Y %H:%M:%S GMT')
cache_requests http://$ADDR/a.txt -- -H "If-None-Match: $ETAG" http://$ADDR/a.txt -- \
  -H "If-None-Match: \"x\", $ETAG" http://$ADDR/a.txt -- -H 'If-None-Match: "other"' http://$ADDR/a.txt -- \
  -H 'If-None-Match: *' http://$ADDR/a.txt -- \
  -H 'If-None-Match: "other"' -H "If-Modified-Since: $LASTMOD" http://$ADDR/a.txt -- \
  -r 0-3 -H "If-Range: $ETAG" http://$ADDR/a.txt -- -r 0-3 -H "If-Range: W/$ETAG" http://$ADDR/a.txt -- \
  -H "If-None-Match: W/$ETAG" http://$ADDR/a.txt -- -H 'If-Match: "x"' http://$ADDR/a.txt -- \
  -H "If-Match: $ETAG" http://$ADDR/a.txt -- \
  -H 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT' http://$ADDR/a.txt -- \
  -r 0-3 -H 'If-Match: "5f00aa11-6"' http://$ADDR/a.txt &
cache_pid=$!
itest_suite khttpd --addr $ADDR --root $WWW --header-timeout 3 --keepalive-timeout 4 --jobs "${JOBS:-6}"
wait $curl_pid
wait $cache_pid
mapfile -t codes <$TMPD/codes
read -rN 6 head6 <$WWW/a.txt
check khttpd/curl_file eval "[ '${codes[0]:-}' = 200 ] && cmp $TMPD/file $WWW/a.txt"
check khttpd/curl_range eval "[ '${codes[1]:-}' = 206 ] && [ \"\$(<$TMPD/range)\" = '${head6:2:4}' ]"
check khttpd/ipv4_loopback_range eval "[ '${codes[2]:-}' = 200 ]"
check khttpd/etag_nginx_form eval 'answered 0 200 ETag "$ETAG" Last-Modified "$LASTMOD" Cache-Control "" && cmp $TMPD/cache-0.b $WWW/a.txt'
# If-Match and If-Unmodified-Since (RFC 9110 section 13.2.2): a tag not the file's, a date
# before its mtime, and a resumed range under another version's tag get 412; its own tag 200.
check khttpd/if_match_412 eval 'answered 9 412 && answered 11 412 && answered 12 412 ETag ""'
check khttpd/if_match_own_tag_200 eval 'answered 10 200 ETag "$ETAG" && cmp $TMPD/cache-10.b $WWW/a.txt'
check khttpd/if_none_match_304 eval 'answered 1 304 ETag "$ETAG" Last-Modified "$LASTMOD" && [ ! -s $TMPD/cache-1.b ]'
check khttpd/if_none_match_list_and_weak_304 eval 'answered 2 304 ETag "$ETAG" && answered 8 304 ETag "$ETAG"'
check khttpd/if_none_match_other_200 eval 'answered 3 200 ETag "$ETAG" && cmp $TMPD/cache-3.b $WWW/a.txt'
check khttpd/if_none_match_star_304 answered 4 304 ETag "$ETAG"
check khttpd/if_none_match_over_if_modified_since eval 'answered 5 200 && cmp $TMPD/cache-5.b $WWW/a.txt'
check khttpd/if_range_etag_206 eval 'answered 6 206 ETag "$ETAG" && [ "$(<$TMPD/cache-6.b)" = "${head6:0:4}" ]'
check khttpd/if_range_weak_etag_200 eval 'answered 7 200 && cmp $TMPD/cache-7.b $WWW/a.txt'
check khttpd/file_cache_hits file_cache_hits
# Trace events and the access log (trace-lib.sh): each event's fields against what the client
# saw; ktcp-access-log's lines for three known requests; trace-cmd and perf see the events.
check khttpd/trace_request_event request_event_fields $ADDR a.txt
check khttpd/trace_request_event_ipv6 request_event_fields "[::1]:8081" a.txt
check khttpd/trace_conn_events conn_events_fields khttpd_rs 8081
check khttpd/access_log_combined access_log_lines $ADDR a.txt
check_long khttpd/access_log_json access_log_json $ADDR a.txt
check_long khttpd/trace_cmd_and_perf trace_cmd_and_perf $ADDR a.txt
check khttpd/zero_copy_used counter_at_least khttpd_rs bytes_spliced $((${BIG_MIB:-8} << 20))
check_alone khttpd/zero_copy_odd_range spliced_range http://$ADDR/big.bin $WWW/big.bin 300001 700000
check khttpd/zero_copy_tmpfs_and_shared_fs spliced_fetch http://$ADDR/fs/tmpfs/big.bin $WWW/fs/tmpfs/big.bin \
  http://$ADDR/fs/shared/itest "$BIN/itest"
check khttpd/stalled_reader_send_polls stalled_reader_send_polls
check khttpd/closed_connections_reuse_buffers closed_connections_reuse_buffers
check khttpd/pooled_buffers_start_clean pooled_buffers_start_clean
# Run-time settings: a shorter keep-alive applies to the next idle wait, a lower
# max_connections to the next client; bad writes fail and change nothing.
runtime_max_connections() {
  local fd fd2 held line='' i
  wait_idle khttpd_rs 15 || return 1
  exec {fd}<>/dev/tcp/127.0.0.1/8081 || return 1
  for ((i = 0; i < 100; i++)); do counter khttpd_rs active; [ "$REPLY" -gt 0 ] && break; snooze 0.05; done
  held=$REPLY
  param_set khttpd_rs max_connections "$held" || { exec {fd}<&-; return 1; }
  exec {fd2}<>/dev/tcp/127.0.0.1/8081 && printf 'GET /b.txt HTTP/1.1\r\nHost: t\r\n\r\n' >&$fd2 &&
    read -r -t 10 -u $fd2 line
  exec {fd2}<&- {fd}<&-
  param_set khttpd_rs max_connections 65536
  echo "note: max_connections=$held written at run time with $held connections: the next got '${line%$'\r'}'"
  [[ $line == "HTTP/1.1 503"* ]]
}
check_alone khttpd/runtime_keepalive_timeout timeout_after_write khttpd_rs keepalive_timeout 1 4 8081 \
  'GET /b.txt HTTP/1.1\r\nHost: t\r\n\r\n' 3000
check khttpd/runtime_max_connections runtime_max_connections
check khttpd/runtime_max_age max_age_runtime
check khttpd/runtime_bad_writes_refused eval 'param_write_refused khttpd_rs keepalive_timeout 3601 &&
  param_write_refused khttpd_rs header_timeout -1 && param_write_refused khttpd_rs keepalive_timeout abc &&
  param_write_refused khttpd_rs max_connections 1000001 && param_eq khttpd_rs keepalive_timeout 4 &&
  param_write_refused khttpd_rs max_age -1 && param_write_refused khttpd_rs max_age 31536001 &&
  param_write_refused khttpd_rs max_age sixty && param_eq khttpd_rs max_age 0'
# The same module over IPv6 (bind :: takes both): a part of the HTTP suite, curl, a storm.
itest_suite khttpd --addr "[::1]:8081" --root $WWW --jobs "${JOBS:-6}" \
  --filter get_200_body_and_type,head_no_body_then_pipelined,pipelined_three_in_order,range_first_ten_206,traversal_dotdot,directory_listing,range_odd_offset_300k_intact,not_found_404
check khttpd/curl_ipv6 eval "curl -sSg -o $TMPD/file6 http://[::1]:8081/a.txt && cmp $TMPD/file6 $WWW/a.txt"
dmesg_mark khttpd-storm
check khttpd/storm "$BIN/itest" storm --addr $ADDR --proto http --secs "${STORM_SECS:-3}" --clients 32 ${SEED:+--seed "$SEED"}
check khttpd/storm_ipv6 "$BIN/itest" storm --addr "[::1]:8081" --proto http --secs 2 --clients 16 ${SEED:+--seed "$SEED"}
check khttpd/connections_all_closed wait_idle khttpd_rs 15
check khttpd/counters_balance counters_balance khttpd_rs
check khttpd/latency_histograms latency_sane khttpd_rs 100
# counters_count_requests: exact deltas (run alone) for 3 answered GETs, 2 of a missing file
# and 2 requests rejected by the parser (a bad request line, a bad header): requests +7,
# responses_2xx +3, responses_4xx +4. The totals after the suites prove nothing: thousands of
# requests, many of them 4xx, have been made by then.
counters_count_requests() {
  local r0 ok0 bad0 fd i req
  counter khttpd_rs requests; r0=$REPLY
  counter khttpd_rs responses_2xx; ok0=$REPLY
  counter khttpd_rs responses_4xx; bad0=$REPLY
  for i in 1 2 3; do curl -s -o /dev/null "http://$ADDR/a.txt" || return 1; done
  for i in 1 2; do curl -s -o /dev/null "http://$ADDR/no-such-file-$i" || return 1; done
  for req in $'GARBAGE\r\n\r\n' $'GET /a.txt HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'; do
    exec {fd}<>/dev/tcp/${ADDR%:*}/${ADDR#*:} || { echo "connect failed"; return 1; }
    send_whole $fd "$req"
    echo "reject: $(timeout 10 head -c 12 <&$fd)"
    exec {fd}<&-
  done
  counter khttpd_rs requests; echo "requests $r0 -> $REPLY"; [ "$REPLY" = $((r0 + 7)) ] || return 1
  counter khttpd_rs responses_2xx; echo "2xx $ok0 -> $REPLY"; [ "$REPLY" = $((ok0 + 3)) ] || return 1
  counter khttpd_rs responses_4xx; echo "4xx $bad0 -> $REPLY"; [ "$REPLY" = $((bad0 + 4)) ]
}
check_alone khttpd/counters_count_requests counters_count_requests
# The open-file cache closes what expired at its sweeps: seconds after big.bin was last served
# from the tmpfs, with the module still loaded, no file of it is open.
check khttpd/file_cache_closes_expired_files unmount_tmpfs
# Per-request problems are counted, not logged: the storm made fewer than 20 log lines.
check khttpd/errors_rate_limited eval "n=\$(dmesg | awk '/ktcp-rs test mark: khttpd-storm/ { on = 1; n = 0 } on && /khttpd_rs/ { n++ } END { print n + 0 }'); echo \"\$n lines\"; [ \$n -lt 20 ]"
rmmod khttpd_rs

# Unload with clients held: no keep-alive timeout, so that only the unload closes the idle
# ones; the busy ones are mid-way through big.bin.
insmod "$KO" root=$WWW keepalive_timeout=0
check_alone khttpd/rmmod_under_load hold_and_rmmod khttpd_rs http $ADDR 100 20 /big.bin
# The same over IPv6 (long: make soak).
rmmod_under_load_ipv6() { insmod "$KO" root=$WWW keepalive_timeout=0 && hold_and_rmmod khttpd_rs http "[::1]:8081" 100 20 /big.bin; }
check_alone_long khttpd/rmmod_under_load_ipv6 rmmod_under_load_ipv6

# max_connections: the next client gets 503 and a close. Long keep-alive so held ones stay.
insmod "$KO" root=$WWW max_connections=40 keepalive_timeout=600 header_timeout=600
itest_suite maxconn --addr $ADDR --max 40 --proto http
rmmod khttpd_rs

# defer_accept: a client is accepted only once its first bytes arrive. It connects and says
# nothing for a second (not accepted), then asks (accepted and answered at once).
defer_accept_holds_silent() {
  local fd before line
  counter khttpd_rs accepted; before=$REPLY
  exec {fd}<>/dev/tcp/127.0.0.1/8081 || return 1
  snooze 1
  counter khttpd_rs accepted
  [ "$REPLY" = "$before" ] || { echo "accepted went from $before to $REPLY before any byte was sent"; exec {fd}<&-; return 1; }
  printf 'GET /a.txt HTTP/1.0\r\n\r\n' >&$fd
  read -r -t 10 -u $fd line
  exec {fd}<&-
  counter khttpd_rs accepted
  echo "after the request: accepted $before -> $REPLY, answer '${line%$'\r'}'"
  [ "$REPLY" = $((before + 1)) ] && [[ $line == "HTTP/1.1 200"* ]]
}

# bench=1 (bound workqueue) serves the same; so does defer_accept.
insmod "$KO" root=$WWW bench=1 defer_accept=5 max_age=60
check khttpd/defer_accept_in_sysfs param_eq khttpd_rs defer_accept 5
check khttpd/max_age_at_insmod eval 'param_eq khttpd_rs max_age 60 && cache_requests http://$ADDR/a.txt &&
  answered 0 200 Cache-Control max-age=60'

check khttpd/bench_bound_htstress "$BIN/htstress-rs" -n 300 -c 16 -k --timeout-s 20 http://$ADDR/a.txt
check khttpd/defer_accept_holds_silent_client defer_accept_holds_silent
# Unloading closes the files the cache holds: one is fetched (and cached) right before rmmod,
# and the tmpfs unmounts right after.
fetch_then_unload() {
  "$BIN/htstress-rs" -n 1 -c 1 --timeout-s 20 http://$ADDR/fs/tmpfs/big.bin >"$TMPD/fetch" 2>&1 ||
    { echo "the fetch failed: $(<"$TMPD/fetch")"; return 1; }
  rmmod khttpd_rs || return 1
  unmount_tmpfs && umount $WWW/fs/shared
}
check khttpd/no_file_left_open_after_unload fetch_then_unload

# Load/unload cycles under load; the load stops at the first refused connect.
check_alone_long khttpd/load_unload_cycles unload_cycles "${CYCLES:-2}" "$KO" \
  "$BIN/htstress-rs -n 100000000 -c 8 -k --duration 60 --timeout-s 10 --until-refused http://$ADDR/big.bin" \
  root=$WWW keepalive_timeout=0
end_plan
