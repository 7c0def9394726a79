#!/usr/bin/env bash
# Guest tests of the hardening issue (#9): no client and no local user can wedge, crash or read
# through the modules. Each part loads the module with the parameters its tests need and runs
# one `itest hardening GROUP`, against the tree of `itest hardening mkroot` (a FIFO, device
# nodes, a 0600 file, a 0700 directory, dotfiles, a 5 GiB sparse file; `/` is a listing).
# Steps that hang on a module with the defect (the FIFO part) are bounded and then released.
# MODDIR picks the modules (default: this tree's build/$FLAVOUR); BIN is always this tree's.
# The parts to run are the arguments, else HARD_PARTS, else all of them, in this order:
#   params http dotfiles refused budget echo churn redbot fifo
# (all.sh runs `echo` in the kecho_rs lane and the others in the khttpd_rs lane).
source "$(dirname "$0")/lib.sh"
KHTTPD=$MODDIR/khttpd_rs.ko KECHO=$MODDIR/kecho_rs.ko
ADDR=127.0.0.1:8081 EADDR=127.0.0.1:12345 NGINX_ADDR=127.0.0.1:8082
H=/tmp/ktcp-hard NGX=/tmp/ktcp-hard-nginx
D=/sys/kernel/debug
VENV=${KTCP_VENV:-${HOME:-/root}/.cache/ktcp-rs/venv}
PARTS=${*:-${HARD_PARTS:-params http dotfiles refused budget echo churn redbot fifo}}

# Forks are slow in the emulated debug guest (up to seconds): time and wait with builtins.
exec {HARD_NAP_FD}<> <(:)
hard_nap() { read -rt "$1" -u "$HARD_NAP_FD" || :; }
# hard_elapsed T0_US: milliseconds since T0_US (an EPOCHREALTIME without its dot) in MS.
hard_elapsed() { MS=$(( (${EPOCHREALTIME/./} - $1) / 1000 )); }

# param_is MODULE NAME VALUE: the module has parameter NAME and it reads VALUE.
param_is() {
  local v
  read -r v 2>/dev/null <"/sys/module/$1/parameters/$2" || { echo "$1 has no parameter $2"; return 1; }
  [ "$v" = "$3" ] || { echo "$1 $2=$v, want $3"; return 1; }
}

# counter_ge MODULE COUNTER N: a debugfs counter is at least N.
counter_ge() {
  local v
  read -r v <"$D/$1/$2"
  [ "$v" -ge "$3" ] || { echo "$1 $2=$v, want at least $3"; return 1; }
}

# no_module_leaks MODULE: kmemleak (scanned twice) reports nothing allocated through MODULE.
no_module_leaks() {
  [ -w $D/kmemleak ] || { echo "no kmemleak in this kernel"; return 1; }
  echo scan >$D/kmemleak; hard_nap 6; echo scan >$D/kmemleak
  if grep -q "$1" $D/kmemleak; then grep -B2 -A14 "$1" $D/kmemleak | head -n 40; return 1; fi
}

part_params() { # new parameters: out-of-range values refused (their defaults: part http)
  check hardening/param_buffer_mib_zero insmod_fails "$KHTTPD" "Invalid param\|Invalid argument" "invalid buffer_mib" root=$H buffer_mib=0
  check hardening/param_buffer_mib_too_big insmod_fails "$KHTTPD" "Invalid param\|Invalid argument" "invalid buffer_mib" root=$H buffer_mib=65537
}

part_http() { # files, credentials, dotfiles, redirects, lingering close, deadlines, ranges
  # A keep-alive timeout of 6 s: the idle-then-download test waits 80 % of it five times,
  # after reading each 4 MiB (the server's idle time starts when the last byte is queued, so
  # the client's read of what is still in flight eats into the 1.2 s left). Twice the header
  # timeout, so that the trickle test (cut between 2.5 and 5 s) tells the two apart: a head
  # held to the keep-alive deadline would be cut after 6 s.
  insmod "$KHTTPD" root=$H header_timeout=3 keepalive_timeout=6
  # The new parameters' defaults (nothing above sets them).
  check hardening/khttpd_uid_default param_is khttpd_rs uid 65534
  check hardening/khttpd_gid_default param_is khttpd_rs gid 65534
  check hardening/khttpd_dotfiles_default param_is khttpd_rs dotfiles N
  check hardening/khttpd_buffer_mib_default param_is khttpd_rs buffer_mib 64
  check hardening/khttpd_max_age_default param_is khttpd_rs max_age 0
  itest_suite hardening http --addr $ADDR --root $H --header-timeout 3 --keepalive-timeout 6 --jobs "${JOBS:-6}"
  check hardening/http_all_closed wait_idle khttpd_rs 15
  check hardening/http_counters_balance counters_balance khttpd_rs
  rmmod khttpd_rs
}

part_dotfiles() { # dotfiles=1: listed and served
  insmod "$KHTTPD" root=$H dotfiles=1
  itest_suite hardening dotfiles-on --addr $ADDR --root $H
  rmmod khttpd_rs
}

part_refused() { # a refused client that had already sent its request reads the whole 503
  insmod "$KHTTPD" root=$H max_connections=20 keepalive_timeout=600 header_timeout=600
  itest_suite hardening refused --addr $ADDR --max 20
  rmmod khttpd_rs
}

part_budget() { # past 1 MiB of in-flight buffers a new request gets 503, never an oops
  insmod "$KHTTPD" root=$H buffer_mib=1 header_timeout=60
  itest_suite hardening budget --addr $ADDR --root $H
  check hardening/budget_all_closed wait_idle khttpd_rs 15
  check hardening/budget_counters_balance counters_balance khttpd_rs
  rmmod khttpd_rs
}

part_echo() { # kecho_rs idle_timeout
  check hardening/param_idle_timeout_too_big insmod_fails "$KECHO" "Invalid param\|Invalid argument" "invalid idle_timeout" idle_timeout=86401
  insmod "$KECHO" idle_timeout=1
  check hardening/kecho_idle_timeout_param param_is kecho_rs idle_timeout 1
  itest_suite hardening echo-idle --addr $EADDR --idle-timeout 1
  check hardening/kecho_idle_timeouts_counted counter_ge kecho_rs timeouts 1
  rmmod kecho_rs
}

# churn MODULE ADDR PROTO: 3000 connect + send + close cycles from 8 threads, then every
# connection closed, the counters balanced, and no leak through the module, before rmmod.
churn() {
  local mod=$1 addr=$2 proto=$3 before
  read -r before <"$D/$mod/accepted"
  itest_suite hardening churn --addr "$addr" --proto "$proto" --cycles 3000 --threads 8
  check "hardening/churn_${proto}_all_closed" wait_idle "$mod" 30
  check "hardening/churn_${proto}_counters_balance" counters_balance "$mod"
  check "hardening/churn_${proto}_accepted_3000" counter_ge "$mod" accepted $((before + 3000))
  check "hardening/churn_${proto}_no_module_leaks" no_module_leaks "$mod"
  check "hardening/churn_${proto}_rmmod" rmmod_timed "$mod"
}

part_churn() { # the connection-setup race (item 1): nothing left behind
  insmod "$KECHO"
  churn kecho_rs $EADDR echo
  insmod "$KHTTPD" root=$H
  churn khttpd_rs $ADDR http
}

nginx_start() {
  mkdir -p "$NGX"
  cat >"$NGX/nginx.conf" <<EOF
user nobody nogroup;
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  client_body_temp_path $NGX/body;
  proxy_temp_path $NGX/proxy;
  fastcgi_temp_path $NGX/fastcgi;
  uwsgi_temp_path $NGX/uwsgi;
  scgi_temp_path $NGX/scgi;
  server {
    listen $NGINX_ADDR;
    root $H;
    autoindex on;
  }
}
EOF
  nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log"
}
nginx_stop() {
  [ -f "$NGX/nginx.pid" ] && nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" -s stop
  hard_nap 0.5
}

# redbot_py ARGS...: the venv's Python (at most 40 minutes), from the bundle that
# scripts/redbot-bundle.py made when there is one: one file to read over 9p instead of
# hundreds, a minute or two instead of over ten.
redbot_py() {
  local bundle=${KTCP_REDBOT_BUNDLE:-$(dirname "$VENV")/redbot-bundle.tar} d=/tmp/ktcp-redbot
  local interp site std
  if [ ! -f "$bundle" ]; then
    echo "no $bundle (scripts/setup.sh makes it): the venv's Python, slowly"
    timeout 2400 "$VENV/bin/python3" "$@"; return
  fi
  [ -f $d/bundle-paths.txt ] || { mkdir -p $d && tar xf "$bundle" -C $d; } || return 1
  { read -r interp; read -r site; read -r std; } <$d/bundle-paths.txt
  LD_LIBRARY_PATH=$d${interp%/bin/*}/lib:$d/lib/x86_64-linux-gnu:$d/usr/lib/x86_64-linux-gnu \
    PYTHONNOUSERSITE=1 PYTHONPATH=$d$site:$d$std:$d$std/lib-dynload:$site:$std:$std/lib-dynload \
    timeout 2400 "$d$interp" "$@"
}

# REDbot on a file, a listing, a Range request, a 404 and a 301 of both servers.
redbot_compare() {
  redbot_py -u "$ROOT/scripts/guest/redbot-diff.py" "http://$ADDR" "http://$NGINX_ADDR" \
    /a.txt / '/b.txt|Range: bytes=0-9' /no-such-file.txt /evil.example >/tmp/hard-redbot.txt 2>&1
  local rc=$?
  grep -E 'ONLY OURS|fetch failed|Error|^redbot:' /tmp/hard-redbot.txt
  return $rc
}

part_redbot() { # REDbot finds nothing on khttpd_rs that it does not find on nginx
  insmod "$KHTTPD" root=$H
  if nginx_start; then
    check hardening/redbot_no_worse_than_nginx redbot_compare
    sed 's/^/  /' /tmp/hard-redbot.txt
    nginx_stop
  else
    fail hardening/redbot_no_worse_than_nginx "nginx did not start: $(tail -n 3 "$NGX/error.log" | tr '\n' ' ')"
  fi
  rmmod khttpd_rs
}

# fifo_rmmod: after the FIFO storm, the module's teardown ("stopped in N ms" in dmesg) must
# take under 5 s, and rmmod under RMMOD_MAX_MS of wall time (lib.sh: 5 s in the perf guest,
# more in the emulated debug guest, where starting rmmod alone can take seconds). A module
# whose kworkers sleep in fifo_open never finishes: then a writer is put on the FIFO (which
# wakes every opener) until the unload is through, so the run can go on; the check fails.
fifo_rmmod() {
  local t0=${EPOCHREALTIME/./} pid holder MS=0 teardown
  local wall=${RMMOD_MAX_MS:-$([ "${FLAVOUR:-debug}" = perf ] && echo 5000 || echo 15000)}
  rmmod khttpd_rs >/tmp/hard-rmmod.log 2>&1 &
  pid=$!
  while kill -0 $pid 2>/dev/null && [ $MS -lt "$wall" ]; do hard_nap 0.05; hard_elapsed $t0; done
  if kill -0 $pid 2>/dev/null; then
    echo "rmmod still running after $MS ms (kworkers asleep in the FIFO's open?)"
    sleep 120 <>"$H/fifo" >/dev/null 2>&1 &
    holder=$!
    while kill -0 $pid 2>/dev/null && [ $MS -lt 90000 ]; do hard_nap 0.1; hard_elapsed $t0; done
    kill -0 $pid 2>/dev/null && echo "rmmod still running 90 s after it started, with a writer on the FIFO"
    wait $pid 2>/dev/null
    kill $holder 2>/dev/null
    hard_elapsed $t0
    echo "rmmod finished $MS ms after it started, once a writer opened the FIFO"
    return 1
  fi
  wait $pid || { cat /tmp/hard-rmmod.log; return 1; }
  hard_elapsed $t0
  teardown=$(dmesg | grep "khttpd_rs: stopped in" | tail -n 1 | sed -E 's/.*stopped in ([0-9]+) ms.*/\1/')
  echo "rmmod took $MS ms wall (limit $wall), teardown ${teardown:-?} ms (limit 5000)"
  [ -n "$teardown" ] && [ "$teardown" -lt 5000 ]
}

# fifo_never_opened: the server must not even open a FIFO (fs.rs refuses all but files and
# directories before the open). A writer's open(O_WRONLY) blocks until some reader opens the
# FIFO, so a writer waiting while /fifo is requested tells whether the server opened it: the
# FIFO tests above only see a hang, which the O_NONBLOCK open alone would also prevent.
fifo_never_opened() {
  local writer status opened=0 bad=0 fd
  rm -f /tmp/hard-fifo-writer
  (exec 3>"$H/fifo"; echo opened >/tmp/hard-fifo-writer) &
  writer=$!
  hard_nap 0.2
  for _ in 1 2 3; do
    status=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://$ADDR/fifo")
    echo "GET /fifo: $status"
    [ "$status" = 403 ] || bad=1
  done
  hard_nap 0.5
  { kill -0 $writer 2>/dev/null && [ ! -e /tmp/hard-fifo-writer ]; } || opened=1
  # Let a still-waiting writer through on every path (a read-write open never blocks), then
  # reap it: a writer left waiting would let a later FIFO open through.
  exec {fd}<>"$H/fifo"; exec {fd}<&-
  wait $writer 2>/dev/null
  [ $bad = 0 ] || return 1
  [ $opened = 0 ] && echo "the writer still waited: never opened" && return 0
  echo "the writer's open returned: the server opened the FIFO"
  return 1
}

part_fifo() { # last by default: a module with the defect leaves kworkers asleep in fifo_open
  insmod "$KHTTPD" root=$H
  check_alone hardening/fifo_never_opened fifo_never_opened
  itest_suite hardening fifo --addr $ADDR --root $H
  check_alone hardening/fifo_rmmod_under_5s fifo_rmmod
}

# Bookkeeping for lib.sh's plan: the checks and suites each part runs (keep in step).
# The tree under $H is made when a part other than echo serves it.
declare -A PART_STEPS=([params]=2 [http]=8 [dotfiles]=1 [refused]=1 [budget]=3 [echo]=4 [churn]=12 [redbot]=1 [fifo]=3)
steps=0 need_root=0
for part in $PARTS; do
  [ -n "${PART_STEPS[$part]:-}" ] || { echo "hardening.sh: unknown part '$part'"; exit 2; }
  steps=$((steps + PART_STEPS[$part]))
  [ "$part" = echo ] || need_root=1
done
plan $((steps + need_root))

if [ $need_root = 1 ]; then check hardening/mkroot "$BIN/itest" hardening mkroot $H; fi
for part in $PARTS; do
  "part_$part"
done
end_plan
