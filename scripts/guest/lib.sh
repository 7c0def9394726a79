# Guest-side test helpers; sourced by the suites. Prints the same lines as itest:
# `PASS suite/name (ms)`, `FAIL suite/name: why`, `SKIP suite/name: why`.
#
# Nothing passes by disappearing: each script says how many tests it runs (`plan N` first,
# `end_plan` last; every `check`, `itest_suite`, and top-level `pass`/`fail`/`skip` is one),
# and `run_script` (all.sh, soak.sh) turns a script that ran more or fewer, or stopped before
# `end_plan`, or exited non-zero, into a FAIL line. `itest_suite` checks itest's own count.
# Results go to $KTCP_OUT/counts, one line each: `pass|fail|skip SCRIPT NAME`, plus the
# bookkeeping lines `plan SCRIPT N`, `unit SCRIPT`, `end SCRIPT`.
#
# In the emulated debug guest a fork costs a fraction of a second and an exec of a binary on
# the 9p root up to seconds, so the helpers use bash builtins where they can (EPOCHREALTIME,
# read, a read -t sleep, pattern matching) instead of date, cat, sleep, grep and tail.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${KTCP_BIN:-$ROOT/userspace-tests/target/release}
MODDIR=${MODDIR:-$ROOT/build/${FLAVOUR:-debug}}
COUNTS=${KTCP_OUT:-/tmp}/counts
SCRIPT_ID=${KTCP_SCRIPT:-$(basename "$0" .sh)}
D=/sys/kernel/debug
touch "$COUNTS"
# A file descriptor nobody writes to: `read -t` on it is a sleep without a process.
exec {SNOOZE_FD}<> <(:)
TMPD=$(mktemp -d /tmp/ktcp-lib.XXXXXX)

# The rmmod wall-time bound (ms): 5 s in the perf guest; 30 s in the debug guest, where
# lockdep, KFENCE, DEBUG_PAGEALLOC and kmemleak under TCG make the rmmod process itself and
# the module's unload (RCU grace periods, freeing) take seconds (see README "Tests").
if [ "${FLAVOUR:-debug}" = perf ]; then RMMOD_MAX_MS=${RMMOD_MAX_MS:-5000}; else RMMOD_MAX_MS=${RMMOD_MAX_MS:-30000}; fi
# The module's own teardown bound (ms; "stopped in N ms", listener shutdown to drained
# workqueue): 5 s in the perf guest; 8 s in the debug guest, where closing 100 idle and 20
# busy clients took 1.3-3.6 s (10 runs): freeing the megabytes a busy echo client left queued
# poisons and unmaps every page (PAGE_POISONING, DEBUG_PAGEALLOC) in emulated CPUs.
if [ "${FLAVOUR:-debug}" = perf ]; then TEARDOWN_MAX_MS=${TEARDOWN_MAX_MS:-5000}; else TEARDOWN_MAX_MS=${TEARDOWN_MAX_MS:-8000}; fi

# snooze SECONDS: sleeps (fractions allowed) without starting a process.
snooze() { read -rt "$1" -u "$SNOOZE_FD" || :; }
# now_ms: milliseconds since the epoch, in REPLY.
now_ms() { REPLY=$(( ${EPOCHREALTIME/./} / 1000 )); }

# record KIND NAME: one test result, counted in the totals (not in the script's plan).
record() { echo "$1 $SCRIPT_ID $2" >>"$COUNTS"; }
# unit: one planned step of this script done.
unit() { echo "unit $SCRIPT_ID" >>"$COUNTS"; }

pass() { echo "PASS $1"; record pass "${1%% *}"; unit; }
fail() { echo "FAIL $1: $2"; record fail "$1"; unit; }
skip() { echo "SKIP $1: $2"; record skip "$1"; unit; }

# plan N: this script runs N checks / suites. end_plan: it got to its end.
plan() { echo "plan $SCRIPT_ID $1" >>"$COUNTS"; echo "PLAN $SCRIPT_ID $1"; }
end_plan() { echo "end $SCRIPT_ID" >>"$COUNTS"; }

# last_lines FILE N: the last N lines of FILE on one line (for FAIL messages).
last_lines() {
  local -a l
  mapfile -t l <"$1"
  local from=$(( ${#l[@]} > $2 ? ${#l[@]} - $2 : 0 ))
  REPLY="${l[*]:from}"
}

# check NAME CMD...: passes when CMD exits 0; the end of its output is shown on failure, and
# its measurements (lines starting `note:`, `storm:`, `hold:`, `AT-RMMOD`, `until-`) on success.
# CMD runs in this shell (no fork for functions) with its output in a file. In a lane (below)
# it holds the lanes' lock shared; check_alone holds it exclusive: nothing of the other lane
# runs beside it (for the tests that measure time: unloads under load, timeouts).
check() { lane_check shared "$@"; }
check_alone() { lane_check exclusive "$@"; }

# Long tests (9 s or more in the debug guest) run in `make soak` (LONG=1, the default) and not
# in `make check` (all.sh sets LONG=0): there a long check prints `MOVED NAME` and counts as a
# planned step, and itest suites get --no-long, which names each long test on a MOVED line.
# check_long / check_alone_long NAME CMD...: check / check_alone, or MOVED with LONG=0.
check_long() { moved "$1" || check "$@"; }
check_alone_long() { moved "$1" || check_alone "$@"; }
# moved NAME: with LONG=0, reports NAME as moved to make soak (one planned step) and succeeds.
moved() {
  [ "${LONG:-1}" = 0 ] || return 1
  echo "MOVED $1 (long: make soak runs it)"; record moved "$1"; unit
}

lane_check() {
  # The locals are prefixed: the command runs inside this function, so a plain `mode` or
  # `out` here would shadow the calling script's global of that name (bash scopes locals
  # dynamically), as `mode` once did dkms.sh's.
  local lc_mode=$1 lc_name=$2 lc_t0 lc_out=$TMPD/check.out lc_rc
  shift 2
  if ! lane_lock "$lc_mode" >"$lc_out" 2>&1; then
    report_check "$lc_name" 1 0 "$lc_out"; return
  fi
  now_ms; lc_t0=$REPLY
  # The command's own itest runs take no lock of their own (this one is held for them).
  ITEST_LOCK='' "$@" >"$lc_out" 2>&1
  lc_rc=$?
  now_ms
  lane_unlock >>"$lc_out" 2>&1 || lc_rc=1
  report_check "$lc_name" "$lc_rc" $((REPLY - lc_t0)) "$lc_out"
}

# Lanes: all.sh runs the kecho_rs and the khttpd_rs tests at once, in two lanes that share
# the lock file ITEST_LOCK (unset: no lanes, no locking). itest takes it per test (exclusive
# for tests marked alone); the scripts take it per check through one `itest lockd` process
# each (a shell cannot call flock(2) itself, and an exec per check is slow in the guest).
# A wait for the lock longer than LANE_WAIT_S (default 600) fails the check instead of
# hanging the run. Outside checks, insmod and rmmod hold the lock shared too (below).
lane_lock() {
  [ -n "${ITEST_LOCK:-}" ] || return 0
  if [ -z "${LOCKD_PID:-}" ] || ! kill -0 "$LOCKD_PID" 2>/dev/null; then
    coproc LOCKD { exec "$BIN/itest" lockd "$ITEST_LOCK" 2>>"$TMPD/lockd.err"; }
  fi
  lane_ask "$1" locked
}
lane_unlock() {
  [ -n "${ITEST_LOCK:-}" ] || return 0
  lane_ask release released
}
# lane_ask REQUEST ANSWER: one exchange with this script's itest lockd.
lane_ask() {
  local reply='' err=''
  if [ -n "${LOCKD[1]:-}" ] && [ -n "${LOCKD[0]:-}" ] && kill -0 "${LOCKD_PID:-0}" 2>/dev/null; then
    # A write to a lockd that has just died would end this shell (SIGPIPE; the coprocess's
    # fds do not reach subshells): ignored for that one write, which then fails.
    trap '' PIPE
    echo "$1" 2>/dev/null >&"${LOCKD[1]}" && read -r -t "${LANE_WAIT_S:-600}" reply <&"${LOCKD[0]}"
    trap - PIPE
  fi
  [ "$reply" = "$2" ] && return 0
  [ -s "$TMPD/lockd.err" ] && read -rd '' err <"$TMPD/lockd.err"
  echo "lanes: no answer '$2' to '$1' from itest lockd within ${LANE_WAIT_S:-600} s (got '$reply') ${err}"
  return 1
}
# Loading and unloading a module takes seconds of CPU in the debug guest: not beside the other
# lane's timed tests. (Inside a check, ITEST_LOCK is empty and the check's lock covers them.)
insmod() { lane_shared insmod "$@"; }
rmmod() { lane_shared rmmod "$@"; }
# lane_shared CMD ARGS...: the external command CMD, holding the lanes' lock shared.
lane_shared() {
  lane_lock shared || return 1
  command "$@"
  local rc=$?
  lane_unlock || rc=1
  return $rc
}

# report_check NAME STATUS MS OUTPUT_FILE: the PASS or FAIL line of one check, counted.
report_check() {
  local line
  if [ "$2" = 0 ]; then
    echo "PASS $1 ($3 ms)"; record pass "$1"
    while IFS= read -r line; do
      case $line in note:\ *|storm:\ *|hold:\ *|AT-RMMOD\ *|until-*) echo "  ${line#note: }";; esac
    done <"$4"
  else
    last_lines "$4" 5; echo "FAIL $1: $REPLY"; record fail "$1"
  fi
  unit
}

# itest_suite SUITE ARGS...: runs `itest SUITE ARGS...`, folding its PASS/FAIL lines into the
# counts. Fails (one more FAIL line) when itest's exit status is not what its lines say, when
# its `N passed, M failed` summary is missing or differs from the lines seen, or when it ran
# a different number of tests than its `PLAN` line declared. With LONG=0 the suite's long
# tests are left out, each named on a MOVED line and recorded as moved.
itest_suite() {
  local line planned='' p=0 f=0 summary='' rc='' why='' label t0=$SECONDS no_long=()
  [ "${LONG:-1}" = 0 ] && no_long=(--no-long)
  label="$1"; [ "$1" = hardening ] && label="hardening-${2:-}"
  [[ " $* " == *" --addr ["* ]] && label+=-ipv6
  while IFS= read -r line; do
    case $line in
      PASS\ *) echo "$line"; line=${line#PASS }; record pass "${line%% *}"; p=$((p + 1));;
      FAIL\ *) echo "$line"; line=${line#FAIL }; record fail "${line%%:*}"; f=$((f + 1));;
      PLAN\ *) planned=${line##* }; echo "  $line";;
      MOVED\ *) echo "$line"; line=${line#MOVED }; record moved "${line%% *}";;
      ITEST-EXIT\ *) rc=${line#ITEST-EXIT };;
      *[0-9]\ passed,\ *[0-9]\ failed) summary=$line;;
      *) echo "  $line";;
    esac
  done < <("$BIN/itest" "$@" "${no_long[@]}" 2>&1; echo "ITEST-EXIT $?")
  echo "  suite $label: $((SECONDS - t0)) s (from $t0 s)"
  if [ -z "$summary" ]; then why="no summary line (itest died? exit status $rc)"
  elif [ "$summary" != "$p passed, $f failed" ]; then why="its summary '$summary' differs from the $p PASS and $f FAIL lines seen"
  elif [ -z "$planned" ]; then why="no PLAN line"
  elif [ "$planned" != $((p + f)) ]; then why="ran $((p + f)) of $planned planned tests"
  elif [ "$rc" != $((f > 0 ? 1 : 0)) ]; then why="exit status $rc with $f failures"
  fi
  if [ -n "$why" ]; then
    echo "FAIL itest/$label: $why"; record fail "itest/$label"
  fi
  unit
}

# run_script SCRIPT [ARGS...]: runs scripts/guest/SCRIPT, then fails it (one FAIL line) unless
# it planned, reached end_plan, ran exactly as many steps as planned and exited 0.
# It is named in the counts by the script's name and its first argument (faults-kecho), or
# by RUN_ID.
run_script() {
  local script=$1 id planned units ended rc why='' t0=$SECONDS
  shift
  id=${RUN_ID:-$(basename "$script" .sh)${1:+-$1}}
  KTCP_SCRIPT=$id bash "$ROOT/scripts/guest/$script" "$@"
  rc=$?
  echo "TIME $id $((SECONDS - t0)) s"
  planned=$(awk -v s="$id" '$1 == "plan" && $2 == s { n = $3 } END { print n }' "$COUNTS")
  units=$(awk -v s="$id" '$1 == "unit" && $2 == s { n++ } END { print n + 0 }' "$COUNTS")
  ended=$(awk -v s="$id" '$1 == "end" && $2 == s { n++ } END { print n + 0 }' "$COUNTS")
  if [ -z "$planned" ]; then why="no plan line"
  elif [ "$units" != "$planned" ]; then why="ran $units of $planned planned tests"
  elif [ "$ended" = 0 ]; then why="stopped before its end"
  elif [ "$rc" != 0 ]; then why="exited with status $rc"
  fi
  if [ -n "$why" ]; then fail "$id/plan" "$why"; else pass "$id/plan ($units tests)"; fi
}

# totals [SCRIPT]: "N passed, M failed, K skipped" over the counts (of one script, or all).
totals() {
  awk -v s="${1:-}" '(s == "" || $2 == s) && $1 == "pass" { p++ } (s == "" || $2 == s) && $1 == "fail" { f++ }
    (s == "" || $2 == s) && $1 == "skip" { k++ } END { printf "%d passed, %d failed, %d skipped\n", p, f, k }' "$COUNTS"
}

# latency_sane MODULE N: the module's debugfs `latency` table has its four histograms, each
# with at least N samples (the sweep: 1) and ordered percentiles (0 < p50 <= p90 <= p99 <= p99.9 <= max).
latency_sane() {
  local name count p50 p90 p99 p999 max n=0
  while read -r name count p50 p90 p99 p999 max; do
    [ "$name" = ns ] && continue
    n=$((n + 1))
    echo "note: latency $name: count $count, p50 $p50 ns, p90 $p90, p99 $p99, p99.9 $p999, max $max"
    # The table's sweep runs every 500 to 700 ms, whatever the load.
    [ "$count" -ge "$([ "$name" = sweep ] && echo 1 || echo "$2")" ] && [ "$p50" -gt 0 ] && [ "$p50" -le "$p90" ] && [ "$p90" -le "$p99" ] &&
      [ "$p99" -le "$p999" ] && [ "$p999" -le "$max" ] || { echo "$name: not a sane histogram"; return 1; }
  done <"$D/$1/latency"
  [ $n = 4 ] || { echo "$n histograms, want 4"; return 1; }
}

# highpri_workers MODULE: the kworkers whose last work was MODULE's (a worker's name ends in
# -WORKQUEUE) and that run at nice -20 (WQ_HIGHPRI pools), one "pid name" per line in REPLY;
# true if there is one.
highpri_workers() {
  local pid name stat REPLY_=''
  for pid in $(pgrep '^kworker'); do
    read -r name <"/proc/$pid/comm" 2>/dev/null || continue
    [[ $name == *"-$1" ]] || continue
    read -r stat <"/proc/$pid/stat" 2>/dev/null || continue
    stat=${stat##*) }   # the fields after "(name) ": state is field 3, nice field 19
    set -- "$1" $stat
    [ "${18}" = -20 ] && REPLY_+="$pid $name"$'\n'
  done
  REPLY=$REPLY_
  [ -n "$REPLY" ]
}

# param_write_refused MODULE NAME VALUE: writing VALUE to the run-time parameter fails, and
# its value stays what it was.
param_write_refused() {
  local p=/sys/module/$1/parameters/$2 before after
  read -r before <"$p" || return 1
  if echo "$3" 2>/dev/null >"$p"; then echo "writing '$3' to $2 succeeded"; return 1; fi
  read -r after <"$p"
  [ "$after" = "$before" ] || { echo "$2 went from $before to $after"; return 1; }
}

# families_accepting PORT: the loopback families on which a connection to PORT is accepted:
# "v4 v6", "v4", "v6" or "" (bash's /dev/tcp: no process), in REPLY.
families_accepting() {
  local fd r=''
  if exec {fd}<>"/dev/tcp/127.0.0.1/$1"; then r=v4; exec {fd}<&-; fi 2>/dev/null
  if exec {fd}<>"/dev/tcp/::1/$1"; then r+=${r:+ }v6; exec {fd}<&-; fi 2>/dev/null
  REPLY=$r
}
# bind_accepts KO MODULE PORT BIND WANT [PARAMS...]: loaded with bind=BIND on PORT, the module
# shows BIND in sysfs, accepts connections on exactly the families WANT (families_accepting),
# and names the address in its "listening on" line.
bind_accepts() {
  local ko=$1 mod=$2 port=$3 bind=$4 want=$5 line shown=''
  shift 5
  insmod "$ko" port="$port" bind="$bind" "$@" || return 1
  families_accepting "$port"
  dmesg_lines
  for line in "${DMESG[@]: -20}"; do [[ $line == *"$mod: listening on "* ]] && shown=${line#*listening on }; done
  param_eq "$mod" bind "$bind" || { rmmod "$mod"; return 1; }
  rmmod "$mod" || return 1
  echo "note: bind=$bind: accepts on '${REPLY}', logged 'listening on ${shown%% *}'"
  [ "$REPLY" = "$want" ] || { echo "want '$want'"; return 1; }
  case $bind in *:*) [ "${shown%% *}" = "[$bind]:$port" ];; *) [ "${shown%% *}" = "$bind:$port" ];; esac
}

# param_set MODULE NAME VALUE: writes a run-time parameter.
param_set() { echo "$3" >"/sys/module/$1/parameters/$2"; }

# closed_after PORT REQUEST: connects to 127.0.0.1:PORT, sends REQUEST (printf format; may be
# empty), reads until the server closes (at most 15 s); the milliseconds that took, in MS.
closed_after() {
  local fd line t0
  exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
  [ -n "$2" ] && printf "$2" >&$fd
  now_ms; t0=$REPLY
  while read -r -t 15 -u $fd line; do :; done
  now_ms; MS=$((REPLY - t0))
  exec {fd}<&-
}

# timeout_after_write MODULE PARAM NEW OLD PORT REQUEST MAX_MS: writes NEW to the run-time
# timeout parameter PARAM, then a client (sending REQUEST, then silent) must be closed between
# 500 ms and MAX_MS later; OLD is written back.
timeout_after_write() {
  param_set "$1" "$2" "$3" || return 1
  closed_after "$5" "$6"
  param_set "$1" "$2" "$4"
  echo "note: $2=$3 written at run time (was $4): a silent client was closed after $MS ms"
  [ "$MS" -ge 500 ] && [ "$MS" -lt "$7" ]
}

# counter MODULE COUNTER: a debugfs counter, in REPLY.
counter() { read -r REPLY <"$D/$1/$2"; }

# counter_at_least MODULE COUNTER N
counter_at_least() {
  counter "$1" "$2"
  [ "$REPLY" -ge "$3" ] || { echo "$1 $2=$REPLY, want at least $3"; return 1; }
}

# param_eq MODULE NAME VALUE: /sys/module/MODULE/parameters/NAME reads VALUE.
param_eq() {
  local v
  read -r v <"/sys/module/$1/parameters/$2" || { echo "$1 has no parameter $2"; return 1; }
  [ "$v" = "$3" ] || { echo "$1 $2=$v, want $3"; return 1; }
}

# counters_balance MODULE: accepted == closed + active.
counters_balance() {
  local a c x
  counter "$1" accepted; a=$REPLY
  counter "$1" closed; c=$REPLY
  counter "$1" active; x=$REPLY
  [ "$a" -eq $((c + x)) ] || { echo "accepted=$a closed=$c active=$x"; return 1; }
}

# wait_idle MODULE SECONDS: waits until no connection is active.
wait_idle() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    counter "$1" active
    [ "$REPLY" = 0 ] && return 0
    snooze 0.1
  done
  echo "still $REPLY active after $2 s"; return 1
}

# wait_accepted MODULE N SECONDS: waits until the module has accepted at least N connections.
wait_accepted() {
  local i
  for ((i = 0; i < $3 * 20; i++)); do
    counter "$1" accepted 2>/dev/null || REPLY=0
    [ "$REPLY" -ge "$2" ] && return 0
    snooze 0.05
  done
  echo "$1 accepted $REPLY connections in $3 s, want $2"; return 1
}

# wait_line FILE PREFIX SECONDS [PID]: waits until FILE has a line starting with PREFIX
# (false at once if PID has ended without writing it).
wait_line() {
  local i line
  for ((i = 0; i < $3 * 20; i++)); do
    while IFS= read -r line; do [[ $line == "$2"* ]] && return 0; done <"$1"
    [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null && break
    snooze 0.05
  done
  while IFS= read -r line; do [[ $line == "$2"* ]] && return 0; done <"$1"
  return 1
}

# port_listening PORT: some socket listens on TCP PORT (IPv4 or IPv6): status 0 yes, 1 no, 2
# could not tell (a message says why). awk reads the /proc files front to back; bash's read
# seeks back after each line, which makes a seq_file render the table anew per line: 55 s of
# system time for 5,000 TIME_WAIT sockets in the debug guest.
port_listening() {
  local hex f files=() rc=0
  printf -v hex ':%04X' "$1"
  for f in /proc/net/tcp /proc/net/tcp6; do [ -e "$f" ] && files+=("$f"); done
  ((${#files[@]})) || { echo "port_listening: no /proc/net/tcp" >&2; return 2; }
  awk -v port="$hex" '$4 == "0A" && substr($2, length($2) - 4) == port { found = 1; exit }
    END { exit !found }' "${files[@]}" || rc=$?
  ((rc < 2)) || echo "port_listening: awk could not read ${files[*]} (status $rc)" >&2
  return $((rc < 2 ? rc : 2))
}

# dmesg_lines: the kernel log, one line per element of DMESG.
dmesg_lines() { dmesg >"$TMPD/dmesg" 2>&1; mapfile -t DMESG <"$TMPD/dmesg"; }

# has_any TEXT ALTERNATIVES: TEXT contains one of the `\|`-separated ALTERNATIVES.
has_any() {
  local alt rest=$2
  while :; do
    alt=${rest%%\\|*}
    [[ $1 == *"$alt"* ]] && return 0
    [ "$alt" = "$rest" ] && return 1
    rest=${rest#*\\|}
  done
}

# insmod_fails MODULE.ko ERRNO_TEXT DMESG_TEXT PARAMS...: insmod must fail with that error
# (ERRNO_TEXT: alternatives separated by `\|`) and the module must log DMESG_TEXT.
insmod_fails() {
  local ko=$1 err=$2 msg=$3 mod out line i
  shift 3
  mod=$(basename "$ko" .ko)
  if insmod "$ko" "$@" >"$TMPD/insmod" 2>&1; then rmmod "$mod"; echo "insmod $* succeeded"; return 1; fi
  read -rd '' out <"$TMPD/insmod"
  has_any "$out" "$err" || { echo "wrong error: $out"; return 1; }
  dmesg_lines
  for ((i = ${#DMESG[@]} - 1; i >= 0 && i >= ${#DMESG[@]} - 300; i--)); do
    line=${DMESG[i]}
    [[ $line == *"$mod"* && $line == *"$msg"* ]] && return 0
  done
  echo "no dmesg line '$mod ... $msg'"; return 1
}

# rmmod_timed MODULE: unloads, measuring rmmod's wall time, which must stay under
# RMMOD_MAX_MS; the module's own teardown figure ("stopped in N ms" in dmesg, listener
# shutdown to drained workqueue) is shown beside it and must be there (after this call's
# mark) and under TEARDOWN_MAX_MS, with no connection object left in memory.
rmmod_timed() {
  local t0 ms teardown='' left='' i line mark="ktcp-rs test mark: rmmod $1 $EPOCHREALTIME"
  echo "$mark" >/dev/kmsg
  now_ms; t0=$REPLY
  rmmod "$1" || return 1
  now_ms; ms=$((REPLY - t0))
  dmesg_lines
  # This unload's line only: the newest one after the mark.
  for ((i = ${#DMESG[@]} - 1; i >= 0; i--)); do
    line=${DMESG[i]}
    [[ $line == *"$mark"* ]] && break
    if [[ $line == *"$1: stopped in "* ]]; then
      teardown=${line##*stopped in }; teardown=${teardown%% *}
      left=${line%% connection objects left*}; left=${left##* }
      break
    fi
  done
  echo "note: rmmod took $ms ms wall (bound $RMMOD_MAX_MS), teardown ${teardown:-?} ms (bound $TEARDOWN_MAX_MS), ${left:-?} connection objects left"
  [[ $teardown =~ ^[0-9]+$ ]] && [ "$teardown" -lt "$TEARDOWN_MAX_MS" ] && [ "$ms" -lt "$RMMOD_MAX_MS" ] && [ "$left" = 0 ]
}

# hold_and_rmmod MODULE PROTO ADDR IDLE BUSY [TARGET]: IDLE idle and BUSY busy clients
# (mid-request: a stream, or GET TARGET read slowly) are connected; itest hold counts them
# at the moment of rmmod (SIGUSR1 just before it) and fails if fewer; then every one must
# see EOF or a reset.
hold_and_rmmod() {
  local mod=$1 proto=$2 addr=$3 idle=$4 busy=$5 target=${6:-/} log=$TMPD/hold.log pid line
  : >"$log"
  "$BIN/itest" hold --addr "$addr" --idle "$idle" --busy "$busy" --proto "$proto" --target "$target" --secs 60 >"$log" 2>&1 &
  pid=$!
  wait_line "$log" READY 60 "$pid" || { cat "$log"; kill "$pid" 2>/dev/null; return 1; }
  kill -USR1 "$pid"
  wait_line "$log" AT-RMMOD 5 "$pid" || { cat "$log"; kill "$pid" 2>/dev/null; return 1; }
  rmmod_timed "$mod" || { cat "$log"; wait "$pid"; return 1; }
  wait "$pid" || { cat "$log"; return 1; }
  while IFS= read -r line; do
    if [[ $line == AT-RMMOD* || $line == hold:* ]]; then echo "$line"; fi
  done <"$log"
  return 0
}

# unload_cycles N KO LOAD [PARAMS...]: N times: insmod KO PARAMS, start the shell command
# LOAD (client traffic that ends by itself once the module is gone, and exits 0 only if it
# saw load and nothing worse than resets: htstress-rs --until-refused, kecho-bench
# --until-closed), wait until the module has accepted a connection, unload after another
# 0.1-0.9 s, then check LOAD's exit status. With HOLD="IDLE BUSY PROTO ADDR [TARGET]",
# itest hold also keeps clients on the module, counted at every unload.
unload_cycles() {
  local n=$1 ko=$2 load=$3 i pid hold_pid mod log=$TMPD/load.log hold_log=$TMPD/cycle-hold.log
  local h_idle h_busy h_proto h_addr h_target before rmmod_out line t0 t_rmmod rmmod_max=0 tail_max=0
  shift 3
  mod=$(basename "$ko" .ko)
  for ((i = 0; i < n; i++)); do
    insmod "$ko" "$@" || return 1
    hold_pid=
    if [ -n "${HOLD:-}" ]; then
      read -r h_idle h_busy h_proto h_addr h_target <<<"$HOLD"
      : >"$hold_log"
      "$BIN/itest" hold --addr "$h_addr" --idle "$h_idle" --busy "$h_busy" --proto "$h_proto" \
        --target "${h_target:-/}" --secs 60 >"$hold_log" 2>&1 &
      hold_pid=$!
      wait_line "$hold_log" READY 60 "$hold_pid" || { echo "cycle $i: held clients not ready"; cat "$hold_log"; return 1; }
    fi
    counter "$mod" accepted; before=$REPLY
    setsid bash -c "$load" >"$log" 2>&1 &
    pid=$!
    wait_accepted "$mod" $((before + 1)) 30 || { kill -- -"$pid"; cat "$log"; return 1; }
    snooze 0.$((RANDOM % 9 + 1))
    [ -n "$hold_pid" ] && kill -USR1 "$hold_pid"
    now_ms; t0=$REPLY
    rmmod_out=$(rmmod_timed "$mod") || { kill -- -"$pid"; echo "cycle $i: $rmmod_out"; return 1; }
    now_ms; t_rmmod=$REPLY
    if ! wait "$pid"; then echo "cycle $i: the load failed:"; cat "$log"; return 1; fi
    if [ -n "$hold_pid" ] && ! wait "$hold_pid"; then echo "cycle $i: held clients:"; cat "$hold_log"; return 1; fi
    # How long rmmod took, and how long the load (and held clients) went on after it.
    now_ms
    (( t_rmmod - t0 > rmmod_max )) && rmmod_max=$((t_rmmod - t0))
    (( REPLY - t_rmmod > tail_max )) && tail_max=$((REPLY - t_rmmod))
  done
  echo "note: $i cycles; rmmod wall up to $rmmod_max ms; the load ended up to $tail_max ms after it; last: ${rmmod_out#note: }"
  while IFS= read -r line; do
    if [[ $line == until-* ]]; then echo "note: last load: $line"; fi
  done <"$log"
  return 0
}

# kmemleak_empty: two kmemleak scans (an object is reported only when the second finds it
# unreferenced and unchanged since the first, and 5 s old) starting at least 6 s apart find
# no unreferenced object at all. Leaves $KTCP_OUT/kmemleak.scanned, so that the guest's
# closing step (guest-run.sh) reads this result instead of scanning again.
kmemleak_empty() {
  [ -w $D/kmemleak ] || { echo "no kmemleak in this kernel"; return 1; }
  local t0 scan_ms
  now_ms; t0=$REPLY
  echo scan >$D/kmemleak
  now_ms; scan_ms=$((REPLY - t0))
  # A scan under TCG takes longer than that by itself.
  ((scan_ms >= 6000)) || snooze "$(( (6000 - scan_ms) / 1000 )).$(( (6000 - scan_ms) % 1000 / 100 ))"
  echo scan >$D/kmemleak
  now_ms; echo "note: kmemleak: first scan $scan_ms ms, both $((REPLY - t0)) ms"
  : >"${KTCP_OUT:-/tmp}/kmemleak.scanned"
  local n=0 line
  while IFS= read -r line; do
    [[ $line == unreferenced\ object* ]] && n=$((n + 1))
    ((n > 0 && n <= 2)) && echo "$line"
  done <$D/kmemleak
  echo "note: kmemleak: $n unreferenced objects"
  [ "$n" = 0 ]
}

# dmesg_mark NAME: a line in the kernel log that dmesg_clean_since looks for.
dmesg_mark() { echo "ktcp-rs test mark: $1" >/dev/kmsg; }

# dmesg_clean_since NAME: no kernel report in dmesg after dmesg_mark NAME.
dmesg_clean_since() {
  dmesg | awk -v m="ktcp-rs test mark: $1" 'index($0, m) { on = 1; next } on' >"$TMPD/dmesg-part.txt"
  bash "$ROOT/scripts/dmesg-scan.sh" "$TMPD/dmesg-part.txt"
}
