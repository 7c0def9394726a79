#!/usr/bin/env bash
# Host self-test of the test harness: the guest helpers (scripts/guest/lib.sh) turn a runner
# that dies, lies about its count or skips its end into a FAIL; the dmesg scan catches every
# kind of report; only README-listed skips are allowed. Uses a fake itest; loads no module.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
bad=0
expect() { # expect WHAT CONDITION...
  local what=$1; shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; bad=1; fi
}

mkdir -p "$tmp/bin" "$tmp/out"
cat >"$tmp/bin/itest" <<'FAKE'
#!/usr/bin/env bash
case $1 in
  ok) echo "PLAN ok 2"; echo "PASS ok/a (1 ms)"; echo "PASS ok/b (1 ms)"; echo "2 passed, 0 failed";;
  fails) echo "PLAN fails 2"; echo "PASS fails/a (1 ms)"; echo "FAIL fails/b: no"; echo "1 passed, 1 failed"; exit 1;;
  dies) echo "PLAN dies 3"; echo "PASS dies/a (1 ms)"; kill -ABRT $$;;
  short) echo "PLAN short 3"; echo "PASS short/a (1 ms)"; echo "1 passed, 0 failed";;
  lies) echo "PLAN lies 1"; echo "PASS lies/a (1 ms)"; echo "2 passed, 0 failed";;
  noplan) echo "PASS noplan/a (1 ms)"; echo "1 passed, 0 failed";;
  status) echo "PLAN status 1"; echo "PASS status/a (1 ms)"; echo "1 passed, 0 failed"; exit 2;;
  # With --no-long the long test b is named on a MOVED line and left out of the plan.
  long) if [ "${*: -1}" = --no-long ]; then echo "MOVED long/b (long: make soak runs it)"; echo "PLAN long 1"
        else echo "PLAN long 2"; echo "PASS long/b (1 ms)"; fi
        echo "PASS long/a (1 ms)"; [ "${*: -1}" = --no-long ] && echo "1 passed, 0 failed" || echo "2 passed, 0 failed";;
  # A lanes' lock server with flock(1) (no writer preference; itest's own tests cover that).
  # FAKE_LOCKD=dies: answers the first request, then dies.
  lockd) exec 9>>"$2"
    while read -r req; do
      case $req in
        shared) flock -u 9; flock -s 9; echo locked;;
        exclusive) flock -u 9; flock -x 9; echo locked;;
        release) flock -u 9; echo released;;
      esac
      [ "${FAKE_LOCKD:-}" = dies ] && exit 0
    done;;
esac
FAKE
chmod +x "$tmp/bin/itest"
export KTCP_OUT=$tmp/out KTCP_BIN=$tmp/bin KTCP_SCRIPT=selftest
# shellcheck source=guest/lib.sh
source "$here/guest/lib.sh"

# fails_in_counts NAME: the counts hold a failure named NAME.
fails_in_counts() { grep -q "^fail selftest $1\$" "$COUNTS"; }
for suite in ok fails dies short lies noplan status; do
  : >"$COUNTS"
  itest_suite "$suite" >"$tmp/$suite.txt" 2>&1
done
: >"$COUNTS"; itest_suite ok >/dev/null
expect "a complete suite adds no failure" bash -c "! grep -q '^fail' '$COUNTS'"
expect "a complete suite counts its tests" [ "$(grep -c '^pass selftest ok/' "$COUNTS")" = 2 ]
expect "and is one planned step" [ "$(grep -c '^unit selftest$' "$COUNTS")" = 1 ]
for suite in dies short lies noplan status; do
  : >"$COUNTS"; itest_suite "$suite" >"$tmp/$suite.txt" 2>&1
  expect "itest '$suite' is a failure ($(grep '^FAIL' "$tmp/$suite.txt" | tail -n 1))" fails_in_counts "itest/$suite"
done
: >"$COUNTS"; itest_suite fails >/dev/null
expect "a failing test is counted once, with no extra failure" [ "$(grep -c '^fail' "$COUNTS")" = 1 ]
# Long tests: LONG=0 names them as moved (itest's MOVED lines, check_long), each still a step.
: >"$COUNTS"; LONG=0 itest_suite long >"$tmp/long0.txt" 2>&1
expect "LONG=0: itest gets --no-long, its MOVED test is recorded as moved" grep -q '^moved selftest long/b$' "$COUNTS"
expect "LONG=0: and the suite passes with one test" bash -c "! grep -q '^fail' '$COUNTS' && [ \$(grep -c '^pass' '$COUNTS') = 1 ]"
: >"$COUNTS"; itest_suite long >/dev/null 2>&1
expect "LONG unset: the long test runs" bash -c "grep -q '^pass selftest long/b$' '$COUNTS' && ! grep -q '^moved' '$COUNTS'"
: >"$COUNTS"; LONG=0 check_long slow/one false >"$tmp/cl.txt"; LONG=0 check_alone_long slow/two false >>"$tmp/cl.txt"
expect "LONG=0: check_long prints MOVED, runs nothing, is a planned step" bash -c "[ \$(grep -c '^MOVED slow/' '$tmp/cl.txt') = 2 ] &&
  [ \$(grep -c '^moved selftest slow/' '$COUNTS') = 2 ] && [ \$(grep -c '^unit' '$COUNTS') = 2 ] && ! grep -q '^fail' '$COUNTS'"
: >"$COUNTS"; check_long slow/one false >/dev/null
expect "LONG unset: check_long runs its command (a failing one fails)" fails_in_counts slow/one
# A check's command sees the script's globals, whatever their names (dkms.sh's `mode` was once
# shadowed by a local of the check itself, and its full mode quietly did nothing).
mode=full name=mine out=mine rc=mine t0=mine
sees_globals() { [ "$mode/$name/$out/$rc/$t0" = full/mine/mine/mine/mine ]; }
: >"$COUNTS"; (check t/globals sees_globals) >/dev/null 2>&1
expect "a check's command sees the script's globals (mode, name, out, rc, t0)" \
  grep -q '^pass selftest t/globals$' "$COUNTS"
unset mode name out rc t0

# run_script: plans kept, broken and cut short.
mkdir -p "$tmp/root/scripts/guest"
cp "$here/guest/lib.sh" "$tmp/root/scripts/guest/"
write_script() { # NAME BODY
  printf '#!/usr/bin/env bash\nsource "$(dirname "$0")/lib.sh"\n%s\n' "$2" >"$tmp/root/scripts/guest/$1.sh"
}
write_script kept 'plan 2; check t/a true; check t/b false; end_plan'
write_script over 'plan 1; check t/a true; check t/b true; end_plan'
write_script short 'plan 3; check t/a true; end_plan'
write_script cut 'plan 2; check t/a true; exit 0; check t/b true; end_plan'
write_script unplanned 'check t/a true'
write_script status 'plan 1; check t/a true; end_plan; exit 3'
ROOT=$tmp/root
for s in kept over short cut unplanned status; do
  : >"$COUNTS"; run_script "$s.sh" >"$tmp/run-$s.txt" 2>&1
  if [ $s = kept ]; then
    expect "a script that ran its plan passes its plan check" grep -q '^PASS kept/plan' "$tmp/run-$s.txt"
  else
    expect "script '$s' fails its plan check ($(grep '/plan' "$tmp/run-$s.txt"))" fails_in_counts "$s/plan"
  fi
done
: >"$COUNTS"; run_script kept.sh >/dev/null
expect "totals counts passes, failures and skips" [ "$(skip x/y why >/dev/null; totals)" = "2 passed, 1 failed, 1 skipped" ]

# Lanes: a check_alone runs with no check of the other lane beside it; a lock server that
# dies turns the check into a FAIL and the script goes on.
span() { local t0=${EPOCHREALTIME/./}; snooze 0.3; echo "$1 $t0 ${EPOCHREALTIME/./}" >>"$tmp/spans"; }
: >"$tmp/spans"; : >"$COUNTS"
(ITEST_LOCK=$tmp/lanes.lock; check t/shared1 span s1; check t/shared2 span s2; check t/shared3 span s3) >/dev/null 2>&1 &
(ITEST_LOCK=$tmp/lanes.lock; snooze 0.1; check_alone t/alone span x) >/dev/null 2>&1 &
wait
overlaps() { # the alone span overlaps no shared span
  local name a b xa xb n=0
  read -r _ xa xb < <(grep '^x ' "$tmp/spans")
  while read -r name a b; do [ "$name" = x ] || { ((a < xb && xa < b)) && n=$((n + 1)); }; done <"$tmp/spans"
  [ "$n" = 0 ]
}
expect "a check_alone runs beside no check of the other lane" overlaps
expect "and all four checks ran and passed" [ "$(grep -c '^pass selftest t/' "$COUNTS")" = 4 ]
: >"$COUNTS"
(ITEST_LOCK=$tmp/lanes.lock; export FAKE_LOCKD=dies; check t/lockd-died true; echo "alive after") >"$tmp/lockd-dies.txt" 2>&1
expect "a lock server that died fails the check" fails_in_counts t/lockd-died
expect "and the script goes on" grep -q '^alive after' "$tmp/lockd-dies.txt"

expect "dmesg-scan catches every report" bash "$here/test-dmesg-scan.sh"
printf '%s\n' '  CLIPPY [M] a.o' 'warning: unsafe fn lacks a Safety section' '  --> src/a.rs:1:1' \
  '  = help: https://rust-lang.github.io/rust-clippy/' '' 'warning: unsafe fn lacks a Safety section' \
  '  --> src/a.rs:1:1' '  = note: clippy::all' '' 'warning: 2 warnings emitted' '' '  CC [M] b.o' \
  'b.c:3:1: warning: unused variable' >"$tmp/build.log"
expect "build warnings: one clippy finding (twice), one C warning, no summary" \
  [ "$(awk -f "$here/build-warnings.awk" "$tmp/build.log")" = "1 1" ]
: >"$tmp/clean.log"
expect "a clean build log has no warnings" [ "$(awk -f "$here/build-warnings.awk" "$tmp/clean.log")" = "0 0" ]
printf '## Tests\nTests that may be skipped, and why (`make check` fails on any other skip):\n- `faults/*`: because\n\n- `x/y`: not listed\n' >"$tmp/README.md"
expect "a README-listed skip is allowed" bash "$here/allowed-skips.sh" "$tmp/README.md" faults/kecho-rmmod
expect "any other skip is not" bash -c "! bash '$here/allowed-skips.sh' '$tmp/README.md' x/y"
# port_listening: a listener on IPv4 and, where the host has IPv6, one on IPv6 (the host's /proc;
# the guest reads the same); not the local port of an established client (state 01, not 0A).
python3 -c '
import socket, time
a = socket.socket(); a.bind(("127.0.0.1", 0)); a.listen(1)
c = socket.create_connection(a.getsockname())
try:
    b = socket.socket(socket.AF_INET6); b.bind(("::1", 0)); b.listen(1); p6 = b.getsockname()[1]
except OSError:
    p6 = "-"
print(a.getsockname()[1], c.getsockname()[1], p6, flush=True)
time.sleep(10)' >"$tmp/ports" 2>"$tmp/ports.err" &
listeners=$!
for ((i = 0; i < 50; i++)); do [ -s "$tmp/ports" ] && break; snooze 0.1; done
read -r p4 pclient p6 <"$tmp/ports"
not_listening() { port_listening "$1"; [ $? = 1 ]; }
if [ -n "${p6:-}" ]; then
  expect "port_listening sees an IPv4 listener" port_listening "$p4"
  expect "but not an established client's port" not_listening "$pclient"
  if [ "$p6" = - ]; then echo "ok   port_listening on IPv6: not tried (no IPv6 on this host)"
  else expect "and sees an IPv6 listener" port_listening "$p6"; fi
else
  expect "port_listening: the test's listeners started ($(tr '\n' ' ' <"$tmp/ports.err"))" false
fi
kill "$listeners" 2>/dev/null
# setup.sh's has_candidate under pipefail, with apt-cache's usual long version table after
# the Candidate line (a pipe into grep -q read that as "not found" on a fresh machine).
expect "has_candidate finds a candidate above a long version table (pipefail)" bash -c '
  set -o pipefail; source "$1/common.sh"
  apt-cache() { printf "linux-source-6.12:\n  Installed: (none)\n  Candidate: 6.12.117-1\n"; seq 200000; }
  has_candidate linux-source-6.12' _ "$here"
expect "and none where apt has no candidate" bash -c '
  set -o pipefail; source "$1/common.sh"
  apt-cache() { printf "linux-source-6.12:\n  Installed: (none)\n  Candidate: (none)\n"; }
  ! has_candidate linux-source-6.12' _ "$here"
[ "$bad" = 0 ] && echo "harness self-test: all passed"
exit "$bad"
