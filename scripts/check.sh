#!/usr/bin/env bash
# make check: host lint and tests first (fail fast), the module build through the kernel's
# clippy (any warning fails), then every integration test inside the debug guest, whose
# dmesg is scanned. The guest boots while the host stages run and starts its tests only once
# they passed. Prints each stage's time; the last line is "N passed, M failed, K skipped".
# KEEP_GOING=1 runs the guest even after a host failure; SEED=N replays the storms; LANES=0
# runs the guest suites one after the other instead of in two lanes; LONG=1 also runs the long
# tests (9 s or more in the guest), which otherwise run in make soak only.
source "$(dirname "$0")/common.sh"
cd "$KTCP_ROOT"
log=$(new_run_dir "$KTCP_ROOT/build/check")
passed=0 failed=0 skipped=0 guest='' vm_pid='' dkms_pid=''
stages=() stage_name='' stage_t0=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + ${3:-0})); }
item() { if [ "$2" = 0 ]; then count 1 0; echo "PASS $1"; else count 0 1; echo "FAIL $1${3:+: $3}"; fi; }
begin() { end_stage; stage_name=$1; stage_t0=$(date +%s); stage "$1"; }
end_stage() {
  [ -n "$stage_name" ] && stages+=("$(printf '  %-44s %4d s' "$stage_name" $(( $(date +%s) - stage_t0 )))")
  stage_name=''
}
# The summary is printed however the run ends (a failed build included).
finish() {
  local rc=$?
  end_stage
  stop_vm
  [ -n "$dkms_pid" ] && kill -- -"$dkms_pid" 2>/dev/null
  [ "$guest" = started ] && item guest/completed 1 "interrupted (status $rc) before its results were counted"
  [ "$rc" != 0 ] && [ "$failed" = 0 ] && item check/completed 1 "stopped with status $rc"
  echo
  echo "stage times:"
  printf '%s\n' "${stages[@]}"
  [ -s "$log/guest-times.txt" ] && sed 's/^/    /' "$log/guest-times.txt"
  echo "  total                                        $(( $(date +%s) - T0 )) s   (logs: ${log#"$KTCP_ROOT"/})"
  [ "${MOVED_N:-0}" = 0 ] || echo "$MOVED_N long tests were left to make soak (MOVED lines above)"
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" = 0 ] && exit 0
  exit 1
}
trap finish EXIT
# start_vm: boots the debug guest, which waits for $out/go before it runs all.sh.
start_vm() {
  out=$(vm_run_dir debug)
  bash scripts/vm.sh --flavour debug --timeout 1800 --mem 2G --out "$out" -- \
    "bash scripts/guest/wait-go.sh && FLAVOUR=debug SEED=${SEED:-} LANES=${LANES:-1} LONG=${LONG:-0} bash scripts/guest/all.sh" >"$log/guest.log" 2>&1 &
  vm_pid=$!
}
stop_vm() {
  if [ -n "$vm_pid" ] && kill -0 "$vm_pid" 2>/dev/null; then
    touch "$out/stop"; kill -TERM "$vm_pid" 2>/dev/null; wait "$vm_pid" 2>/dev/null
  fi
  vm_pid=''
}
# With the kernel already built, the guest boots now, beside the host stages.
bash scripts/kernel.sh debug --print-dir >/dev/null 2>&1 && start_vm
# fail_fast: after the host stages, a failure ends the run (unless KEEP_GOING=1).
fail_fast() {
  [ "$failed" = 0 ] || [ -n "${KEEP_GOING:-}" ] || { echo "check: stopping after $1 (KEEP_GOING=1 runs the rest)"; exit 1; }
}

begin "host: format, scripts, harness self-tests"
set +e
(cd userspace-tests && cargo fmt --all --check) >"$log/fmt.log" 2>&1; item host/cargo-fmt $? "see $log/fmt.log"
if fmt_toml=$(kernel_rustfmt_toml 2>"$log/kernel-fmt.log"); then
  rustfmt --check --edition 2021 --config-path "$fmt_toml" src/*.rs src/proto/*.rs >"$log/kernel-fmt.log" 2>&1
  item kernel/rustfmt $? "src/ differs from the kernel's rustfmt ($log/kernel-fmt.log)"
else
  item kernel/rustfmt 1 "the kernel's .rustfmt.toml not found: $(tr '\n' ' ' <"$log/kernel-fmt.log")"
fi
for f in scripts/*.sh scripts/guest/*.sh .ci/run; do bash -n "$f" || echo "$f"; done >"$log/bash-n.log" 2>&1
[ -s "$log/bash-n.log" ]; item host/scripts-parse $((1 - $?)) "$(tr '\n' ' ' <"$log/bash-n.log")"
bash scripts/test-harness.sh >"$log/harness.log" 2>&1; item host/harness-self-test $? "$(tail -n 3 "$log/harness.log" | tr '\n' ' ')"
# The REDbot comparison's self-test (Python, seconds) runs beside clippy and the host tests.
"$VENV/bin/python3" scripts/test-redbot-diff.py >"$log/redbot-diff.log" 2>&1 &
redbot_pid=$!
set -e
fail_fast "formatting"

begin "host: clippy"
set +e
(cd userspace-tests && nice -n 5 cargo clippy --release --all-targets --quiet -- -D warnings) >"$log/clippy.log" 2>&1
item host/clippy $? "see $log/clippy.log"
set -e
fail_fast "clippy"

begin "host: cargo test (protocol tables and properties, tools)"
set +e
(cd userspace-tests && nice -n 5 cargo test --release 2>&1) >"$log/host-test.log"
rc=$?
set -e
read -r p f < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  END { print p+0, f+0 }' "$log/host-test.log")
[ "$rc" = 0 ] || [ "$f" -gt 0 ] || f=1
grep -E '^test .* FAILED|panicked|^error' "$log/host-test.log" | head -n 20 || true
echo "host tests: $p passed, $f failed"
count "$p" "$f"
set +e
wait "$redbot_pid"
item host/redbot-diff-self-test $? "$(tail -n 3 "$log/redbot-diff.log" | tr '\n' ' ')"
set -e
fail_fast "the host tests"

begin "tools: building the userspace clients"
(cd userspace-tests && cargo build --release --bins --quiet)

begin "modules: build against the debug kernel, through clippy"
set +e
KTCP_CLIPPY=1 bash scripts/modules.sh debug >"$log/modules.log" 2>&1
rc=$?
set -e
tail -n 2 "$log/modules.log"
mlog=build/debug/build.log
if [ "$rc" = 1 ] || [ ! -f build/debug/kecho_rs.ko ]; then
  item modules/build 1 "$(grep -m3 -E 'error' "$log/modules.log" | tr '\n' ' ')"
  exit 1
fi
item modules/build 0
read -r clippy_n other_n < <(awk -f scripts/build-warnings.awk "$mlog")
item modules/build-warning-free "$other_n" "$other_n warnings (see $mlog)"
item kernel/clippy "$clippy_n" "$clippy_n clippy findings in src/ (see $mlog)"
fail_fast "the module build"

begin "guest: integration tests in the debug kernel"
# From here on every outcome is counted, none ends the run.
set +e
guest=started
[ -n "$vm_pid" ] || start_vm
touch "$out/go"
# The install paths' host part (scripts/dkms-test.sh: make install staged, dkms add, build,
# install, remove with private trees; two module builds, about 15 s of CPU) runs beside the
# guest's lanes, niced: the guest's dkms.sh, after the lanes, waits for its tree.
dkms_t0=$(date +%s)
setsid nice -n 19 bash scripts/dkms-test.sh --host-only "$out/dkms-test" >"$log/dkms-host.log" 2>&1 &
dkms_pid=$!
tail -n +1 -f --pid="$vm_pid" "$log/guest.log"
wait "$vm_pid"
vm_rc=$?
vm_pid=''
wait "$dkms_pid"
dkms_rc=$?
dkms_pid=''
echo "== dkms host part (scripts/dkms-test.sh, $log/dkms-host.log)"
while read -r kind name; do
  case $kind in PASS) item "$name" 0;; FAIL) item "${name%%:*}" 1 "${name#*: }";; esac
done <"$log/dkms-host.log"
grep -q '^FAIL ' "$log/dkms-host.log" || [ "$dkms_rc" = 0 ] ||
  item dkms/host 1 "status $dkms_rc: $(tail -n 3 "$log/dkms-host.log" | tr '\n' ' ')"
stages+=("$(printf '  %-44s %4d s' "dkms host part (beside the guest)" $(( $(stat -c %Y "$log/dkms-host.log") - dkms_t0 )))")
guest=tallied
tally_guest "$out/counts" all
# The dmesg scan (and a guest that died) count as tests of their own.
grep -q 'guest dmesg clean' "$log/guest.log"; item guest/dmesg-clean $? "kernel reports in $out/dmesg.txt"
{ grep -E '^guest: booted in' "$log/guest.log" | awk '{ printf "%-42s %4d s (beside the host stages)\n", "guest boot", $4 }'
  grep -E '^TIME ' "$log/guest.log" | awk '{ printf "%-42s %4d s\n", "guest " $2, $3 }'; } >"$log/guest-times.txt"
[ "$vm_rc" = 0 ] || [ "$failed" -gt 0 ] || item guest/completed 1 "vm.sh status $vm_rc"
