# Guest checks of the trace events and the access-log tool; sourced by kecho.sh and khttpd.sh
# after lib.sh. Each check works in a tracefs instance of its own, so the lanes, a user's
# tracer and the access-log tool do not see each other's events.

TRACEFS=/sys/kernel/tracing

# peer_of ADDR: the address a module listening on `::` (the default) sees for a loopback
# client of ADDR, in REPLY: ::1 for [::1]:port, ::ffff:127.0.0.1 (IPv4-mapped) for
# 127.0.0.1:port. PEER_V4 overrides the IPv4 case (a module bound to 127.0.0.1 sees it plain).
peer_of() {
  if [[ $1 == \[* ]]; then REPLY=${1%%]*}; REPLY=${REPLY#[}; else REPLY=${PEER_V4:-::ffff:${1%:*}}; fi
}
# endpoint IP PORT: IP:PORT, with brackets around an IPv6 IP, in REPLY (the events' form).
endpoint() { if [[ $1 == *:* ]]; then REPLY="[$1]:$2"; else REPLY="$1:$2"; fi; }

# trace_instance NAME SYSTEM: a new tracefs instance NAME with SYSTEM's events enabled; its
# directory in REPLY.
trace_instance() {
  mountpoint -q $TRACEFS || mount -t tracefs nodev $TRACEFS || { echo "cannot mount tracefs"; return 1; }
  [ -d $TRACEFS/events/$2 ] || { echo "no events/$2 in tracefs"; return 1; }
  REPLY=$TRACEFS/instances/$1
  rmdir "$REPLY" 2>/dev/null
  mkdir "$REPLY" && echo 1 >"$REPLY/events/$2/enable" || { echo "cannot enable $2 in $REPLY"; return 1; }
}

# trace_field LINE KEY: the value of KEY=... in an event line (quotes removed), in REPLY.
trace_field() {
  local re="[ :]$2=('[^']*'|[^ ]*)"
  [[ $1 =~ $re ]] || { REPLY=; return 1; }
  REPLY=${BASH_REMATCH[1]}
  REPLY=${REPLY#\'}; REPLY=${REPLY%\'}
}

# trace_lines DIR EVENT: the lines of EVENT in the instance DIR's buffer, in LINES.
trace_lines() {
  local line
  LINES=()
  while IFS= read -r line; do
    [[ $line == *" $2: "* ]] && LINES+=("$line")
  done <"$1/trace"
}

# conn_events_fields MODULE PORT: one connection (to 127.0.0.1), held 300 ms once accepted,
# gives one conn_open and one conn_close with the same id (the module's accepted count), the
# client's address (IPv4-mapped, peer_of) and port (as ss saw them), refused=0, and a duration
# of at least the 300 ms.
conn_events_fields() {
  local m=$1 port=$2 d fd lport='' line id open close before i peer
  trace_instance ktcp-conn-$m "$m" || return 1; d=$REPLY
  counter "$m" accepted; before=$REPLY
  exec {fd}<>/dev/tcp/127.0.0.1/$port || return 1
  # The duration counts from the accept, which may lag the connect in a busy guest.
  for ((i = 0; i < 100; i++)); do counter "$m" accepted; [ "$REPLY" -gt "$before" ] && break; snooze 0.05; done
  while read -r line; do
    [[ $line =~ 127\.0\.0\.1:([0-9]+)[[:space:]]+127\.0\.0\.1:$port ]] && lport=${BASH_REMATCH[1]}
  done < <(ss -Htn state established "( dport = :$port )")
  snooze 0.3
  exec {fd}<&-
  wait_idle "$m" 10 >/dev/null || return 1
  counter "$m" accepted; id=$REPLY
  trace_lines "$d" conn_open; open=("${LINES[@]}")
  trace_lines "$d" conn_close; close=("${LINES[@]}")
  rmdir "$d"
  printf '%s\n' "${open[@]}" "${close[@]}"
  [ -n "$lport" ] || { echo "ss did not show the connection"; return 1; }
  [ ${#open[@]} = 1 ] && [ ${#close[@]} = 1 ] || { echo "${#open[@]} conn_open, ${#close[@]} conn_close events, want 1 each"; return 1; }
  peer_of 127.0.0.1:$port; endpoint "$REPLY" "$lport"; peer=$REPLY
  [[ ${open[0]} == *"conn_open: id=$id client=$peer refused=0" ]] ||
    { echo "conn_open: want id=$id client=$peer refused=0"; return 1; }
  [[ ${close[0]} == *"conn_close: id=$id client=$peer duration_ns="* ]] ||
    { echo "conn_close: want id=$id client=$peer"; return 1; }
  trace_field "${close[0]}" duration_ns
  [ "$REPLY" -ge 300000000 ] || { echo "duration_ns $REPLY < 300 ms"; return 1; }
}

# request_event_fields ADDR FILE: a GET of FILE (under the root) with a known user agent
# (with quotes, which the event escapes) and referer gives one request event whose fields
# are what curl saw: client address (peer_of ADDR) and port, status, bytes (head + body),
# body bytes, version, and a wall time within the request's second(s).
request_event_fields() {
  local addr=$1 file=$2 d t0 t1 out lport hsize dsize code line peer
  trace_instance ktcp-request khttpd_rs || return 1; d=$REPLY
  t0=${EPOCHREALTIME%.*}
  out=$(curl -s -o /dev/null -A "ktcp \"test\" 'q'" -e http://ref/ -w '%{local_port} %{size_header} %{size_download} %{http_code}' "http://$addr/$file?q=1") || return 1
  read -r lport hsize dsize code <<<"$out"
  snooze 0.2
  t1=${EPOCHREALTIME%.*}
  trace_lines "$d" request
  rmdir "$d"
  printf '%s\n' "${LINES[@]}"
  [ ${#LINES[@]} = 1 ] || { echo "${#LINES[@]} request events, want 1"; return 1; }
  line=${LINES[0]}
  peer_of "$addr"; endpoint "$REPLY" "$lport"
  # The line is matched as a pattern (for its `*`s): the brackets of an IPv6 peer escaped.
  peer=${REPLY//\[/\\[}; peer=${peer//]/\\]}
  local want="request: client=$peer time=* method=GET target='/$file?q=1' version=11 status=$code bytes=$((hsize + dsize)) body_bytes=$dsize duration_ns=* referer='http://ref/' user_agent='ktcp \\\\x22test\\\\x22 \\\\x27q\\\\x27'"
  # shellcheck disable=SC2053
  [[ $line == *$want ]] || { echo "want: $want"; return 1; }
  trace_field "$line" time
  [ "$REPLY" -ge "$t0" ] && [ "$REPLY" -le "$t1" ] || { echo "time $REPLY not in $t0..$t1"; return 1; }
  trace_field "$line" duration_ns
  [ "$REPLY" -gt 0 ] || { echo "duration_ns $REPLY"; return 1; }
}

# access_log_lines ADDR FILE: ktcp-access-log, live, prints three known requests (a GET, a
# 404, a HEAD) line by line in nginx's combined format, from the client's address (peer_of).
access_log_lines() {
  local addr=$1 file=$2 pid i t0 t1 out sizes=() codes=() got=() want=() line stamp peer
  t0=${EPOCHREALTIME%.*}
  "$BIN/ktcp-access-log" --count 3 >$TMPD/access.log 2>$TMPD/access.err &
  pid=$!
  # The tool makes its instance, then enables the event: wait for both.
  for ((i = 0; i < 100; i++)); do
    compgen -G "$TRACEFS/instances/ktcp-access-log.$pid/events/khttpd_rs/request/enable" >/dev/null &&
      [ "$(<$TRACEFS/instances/ktcp-access-log.$pid/events/khttpd_rs/request/enable)" = 1 ] && break
    snooze 0.1
  done
  out=$(curl -s -A "ktcp-log 'x'" -e http://ref/ -o /dev/null -w '%{size_download} %{http_code}\n' "http://$addr/$file" \
    --next -s -A ktcp-log -o /dev/null -w '%{size_download} %{http_code}\n' "http://$addr/missing-$file" \
    --next -s -A ktcp-log -I -o /dev/null -w '%{size_download} %{http_code}\n' "http://$addr/$file") || { kill $pid; return 1; }
  for ((i = 0; i < 100; i++)); do kill -0 $pid 2>/dev/null || break; snooze 0.1; done
  kill -0 $pid 2>/dev/null && { kill $pid; echo "ktcp-access-log did not print 3 lines in 10 s"; cat $TMPD/access.log $TMPD/access.err; return 1; }
  wait $pid || { echo "ktcp-access-log failed: $(<$TMPD/access.err)"; return 1; }
  t1=${EPOCHREALTIME%.*}
  [ ! -e $TRACEFS/instances/ktcp-access-log.$pid ] || { echo "the tool left its tracefs instance behind"; return 1; }
  mapfile -t got <$TMPD/access.log
  i=0
  while read -r s c; do sizes[i]=$s; codes[i]=$c; i=$((i + 1)); done <<<"$out"
  peer_of "$addr"; peer=$REPLY
  want=("$peer - - [T] \"GET /$file HTTP/1.1\" ${codes[0]} ${sizes[0]} \"http://ref/\" \"ktcp-log 'x'\""
        "$peer - - [T] \"GET /missing-$file HTTP/1.1\" ${codes[1]} ${sizes[1]} \"-\" \"ktcp-log\""
        "$peer - - [T] \"HEAD /$file HTTP/1.1\" ${codes[2]} 0 \"-\" \"ktcp-log\"")
  printf 'got:  %s\n' "${got[@]}"
  [ "${codes[*]}" = "200 404 200" ] || { echo "curl got ${codes[*]}"; return 1; }
  [ ${#got[@]} = 3 ] || { echo "${#got[@]} lines, want 3"; return 1; }
  for i in 0 1 2; do
    line=${got[i]}
    [[ $line =~ \[([0-9]{2})/([A-Z][a-z]{2})/([0-9]{4}):([0-9:]{8})\ ([-+][0-9]{4})\] ]] || { echo "line $i: no [time]"; return 1; }
    stamp=$(date -d "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]} ${BASH_REMATCH[4]} ${BASH_REMATCH[5]}" +%s) || return 1
    [ "$stamp" -ge "$t0" ] && [ "$stamp" -le "$t1" ] || { echo "line $i: time $stamp not in $t0..$t1"; return 1; }
    line=${line/"${BASH_REMATCH[0]}"/[T]}
    [ "$line" = "${want[i]}" ] || { echo "line $i: want ${want[i]}"; return 1; }
  done
}

# access_log_json ADDR FILE: --json from saved trace output (--input) has the fields of the
# request (the client's address: peer_of ADDR), the escaped user agent given back as sent.
access_log_json() {
  local addr=$1 file=$2 d out
  trace_instance ktcp-json khttpd_rs || return 1; d=$REPLY
  out=$(curl -s -A 'ktcp "json"' -o /dev/null -w '%{size_download} %{local_port}' "http://$addr/$file") || return 1
  snooze 0.2
  cp "$d/trace" $TMPD/json.trace
  rmdir "$d"
  "$BIN/ktcp-access-log" --json --input $TMPD/json.trace >$TMPD/json.log || return 1
  cat $TMPD/json.log
  peer_of "$addr"
  python3 -c "$JSON_CHECK" "$file" $out "$REPLY" <$TMPD/json.log
}
JSON_CHECK='
import json, sys
file, size, port, peer = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lines = sys.stdin.read().splitlines()
assert len(lines) == 1, f"{len(lines)} lines"
j = json.loads(lines[0])
want = {"remote_addr": peer, "remote_port": port, "method": "GET", "target": "/" + file,
        "request": f"GET /{file} HTTP/1.1", "status": 200, "body_bytes_sent": size,
        "http_user_agent": "ktcp \"json\"", "http_referer": ""}
bad = {k: (j.get(k), v) for k, v in want.items() if j.get(k) != v}
assert not bad, f"(got, want): {bad}"
assert j["bytes_sent"] > size and j["request_time"] > 0, j
'

# trace_cmd_and_perf ADDR FILE: `trace-cmd record -e khttpd_rs` and `perf record -e
# khttpd_rs:request` both see the request event of one GET of FILE.
trace_cmd_and_perf() {
  local addr=$1 file=$2 n
  # The event fires once the response is sent, which may be just after curl has it: the
  # recorded command waits half a second more.
  (cd $TMPD && trace-cmd record -q -e khttpd_rs -o $TMPD/trace.dat \
    bash -c "curl -s -o /dev/null http://$addr/$file && sleep 0.5" >/dev/null 2>&1) ||
    { echo "trace-cmd record failed"; return 1; }
  n=$(trace-cmd report -i $TMPD/trace.dat 2>/dev/null | grep -c "request: .*target='/$file'")
  echo "trace-cmd report: $n request event(s) for /$file"
  [ "$n" = 1 ] || return 1
  perf record -q -e khttpd_rs:request -a -o $TMPD/perf.data -- \
    bash -c "curl -s -o /dev/null http://$addr/$file && sleep 0.5" >/dev/null 2>&1 ||
    { echo "perf record failed"; return 1; }
  n=$(perf script -i $TMPD/perf.data 2>/dev/null | grep -c "khttpd_rs:request: .*target='/$file'")
  echo "perf script: $n request event(s) for /$file"
  [ "$n" = 1 ]
}
