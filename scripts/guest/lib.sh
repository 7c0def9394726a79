# Guest-side test helpers; sourced by the suites. Prints the same lines as itest:
# `PASS suite/name (ms)` / `FAIL suite/name: why`, counted into $KTCP_OUT/counts.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$ROOT/userspace-tests/target/release
MODDIR=${MODDIR:-$ROOT/build/${FLAVOUR:-debug}}
COUNTS=${KTCP_OUT:-/tmp}/counts
touch "$COUNTS"

pass() { echo "PASS $1"; echo pass >>"$COUNTS"; }
fail() { echo "FAIL $1: $2"; echo fail >>"$COUNTS"; }

# check NAME CMD...: passes when CMD exits 0; its output is shown indented on failure.
check() {
  local name=$1; shift
  local t0=$(date +%s%N) out
  if out=$("$@" 2>&1); then pass "$name ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
  else fail "$name" "$(echo "$out" | tail -n 5 | tr '\n' ' ')"; fi
}

# itest_suite ARGS...: runs an itest suite, folding its PASS/FAIL lines into our counts.
itest_suite() {
  local line
  "$BIN/itest" "$@" 2>&1 | while IFS= read -r line; do
    case $line in
      PASS\ *) echo "$line"; echo pass >>"$COUNTS";;
      FAIL\ *) echo "$line"; echo fail >>"$COUNTS";;
      *\ passed,\ *\ failed) ;;
      *) echo "  $line";;
    esac
  done
}

# stat MODULE COUNTER: a debugfs counter.
stat() { cat "/sys/kernel/debug/$1/$2"; }

# counters_balance MODULE: accepted == closed + active.
counters_balance() {
  local a c x
  a=$(stat "$1" accepted) c=$(stat "$1" closed) x=$(stat "$1" active)
  [ "$a" -eq $((c + x)) ] || { echo "accepted=$a closed=$c active=$x"; return 1; }
}

# wait_idle MODULE SECONDS: waits until no connection is active.
wait_idle() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ "$(stat "$1" active)" = 0 ] && return 0
    sleep 0.1
  done
  echo "still $(stat "$1" active) active after $2 s"; return 1
}

# insmod_fails MODULE.ko ERRNO_TEXT DMESG_TEXT PARAMS...: insmod must fail with that error.
insmod_fails() {
  local ko=$1 err=$2 msg=$3; shift 3
  local out
  if out=$(insmod "$ko" "$@" 2>&1); then rmmod "$(basename "$ko" .ko)"; echo "insmod $* succeeded"; return 1; fi
  echo "$out" | grep -q "$err" || { echo "wrong error: $out"; return 1; }
  dmesg | tail -n 5 | grep -q "$msg" || { echo "no dmesg line '$msg'"; return 1; }
}

# rmmod_timed MODULE: unloads; the module's own teardown (logged in dmesg as "stopped in N ms",
# from listener shutdown to the drained workqueue) must take under 5 s, and the rmmod command
# under 30 s of wall time (a hang guard: an emulated, loaded debug guest adds seconds of its own).
rmmod_timed() {
  local t0=$(date +%s%N) ms teardown
  rmmod "$1" || return 1
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  teardown=$(dmesg | grep "$1: stopped in" | tail -n 1 | sed -E 's/.*stopped in ([0-9]+) ms.*/\1/')
  echo "rmmod took $ms ms wall, teardown ${teardown:-?} ms"
  [ -n "$teardown" ] && [ "$teardown" -lt 5000 ] && [ "$ms" -lt 30000 ]
}

# hold_and_rmmod MODULE PROTO ADDR IDLE BUSY: clients held open while the module unloads.
hold_and_rmmod() {
  local mod=$1 proto=$2 addr=$3 idle=$4 busy=$5 fifo log pid i
  log=$(mktemp)
  "$BIN/itest" hold --addr "$addr" --idle "$idle" --busy "$busy" --proto "$proto" --secs 60 >"$log" 2>&1 &
  pid=$!
  for ((i = 0; i < 600; i++)); do grep -q '^READY' "$log" && break; sleep 0.1; done
  grep -q '^READY' "$log" || { cat "$log"; kill "$pid"; return 1; }
  rmmod_timed "$mod" || { cat "$log"; wait "$pid"; return 1; }
  wait "$pid" || { cat "$log"; return 1; }
  grep '^hold:' "$log"
}

# unload_cycles N KO LOAD [PARAMS...]: N times: insmod KO PARAMS, start the shell command LOAD
# (client traffic) in the background, unload mid-traffic after 0.1-0.9 s, wait for LOAD to end.
unload_cycles() {
  local n=$1 ko=$2 load=$3 i pid mod
  shift 3
  mod=$(basename "$ko" .ko)
  for ((i = 0; i < n; i++)); do
    insmod "$ko" "$@" || return 1
    bash -c "$load" >/dev/null 2>&1 &
    pid=$!
    sleep 0.$((RANDOM % 9 + 1))
    rmmod_timed "$mod" >/dev/null || { kill "$pid"; echo "cycle $i: rmmod failed or slow"; return 1; }
    wait "$pid"
  done
  echo "$i cycles"
}
