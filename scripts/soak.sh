#!/usr/bin/env bash
# make soak: the long robustness run in the debug guest (about an hour under TCG): hostile
# input, load/unload cycles and allocation-failure injection per module, with kmemleak, the
# counters and the part's dmesg checked after each part, plus the tests too long for
# `make check` (the 1,000-client runs, the TLS storm and loads), and a short boot without IPv6.
# Last line: N passed, M failed, K skipped.
# SOAK_SECS, SOAK_CYCLES, FAULT_SECS shorten or lengthen it; SEED replays the storms.
source "$(dirname "$0")/common.sh"
cd "$KTCP_ROOT"
passed=0 failed=0 skipped=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + ${3:-0})); }
item() { if [ "$2" = 0 ]; then count 1 0; echo "PASS $1"; else count 0 1; echo "FAIL $1${3:+: $3}"; fi; }

bash scripts/modules.sh debug
(cd userspace-tests && cargo build --release --bins --quiet)
out=$(vm_run_dir debug)
set +e
# The dkms tree the guest's dkms.sh installs from (and the host's own install checks).
stage "dkms: the host part (scripts/dkms-test.sh)"
bash scripts/dkms-test.sh --host-only "$out/dkms-test" | tee "$out/dkms-host.log"
while read -r kind name; do
  case $kind in PASS) item "$name" 0;; FAIL) item "${name%%:*}" 1 "${name#*: }";; esac
done <"$out/dkms-host.log"
bash scripts/vm.sh --flavour debug --timeout 7200 --mem 6G --out "$out" -- \
  "FLAVOUR=debug SOAK_SECS=${SOAK_SECS:-300} SOAK_CYCLES=${SOAK_CYCLES:-100} FAULT_SECS=${FAULT_SECS:-120} SEED=${SEED:-} bash scripts/guest/soak.sh" |
  tee "$out/soak.log"
vm_rc=${PIPESTATUS[0]}
tally_guest "$out/counts" soak
grep -q 'guest dmesg clean' "$out/soak.log"; item soak/dmesg-clean-at-end $? "kernel reports in $out/dmesg.txt"
[ "$vm_rc" = 0 ] || [ "$failed" -gt 0 ] || item soak/completed 1 "vm.sh status $vm_rc"
# A second, short boot without IPv6 (ipv6.disable=1): bind=:: falls back to 0.0.0.0.
out6=$(vm_run_dir debug)
KTCP_APPEND=ipv6.disable=1 bash scripts/vm.sh --flavour debug --timeout 900 --out "$out6" -- \
  "FLAVOUR=debug bash scripts/guest/noipv6.sh" | tee "$out6/noipv6.log"
vm6_rc=${PIPESTATUS[0]}
before=$failed
tally_guest "$out6/counts" noipv6
grep -q 'guest dmesg clean' "$out6/noipv6.log"; item soak/noipv6-dmesg-clean $? "kernel reports in $out6/dmesg.txt"
[ "$vm6_rc" = 0 ] || [ "$failed" -gt "$before" ] || item soak/noipv6-completed 1 "vm.sh status $vm6_rc"
stage "soak done in $(( $(date +%s) - T0 )) s (guest run: ${out#"$KTCP_ROOT"/})"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
