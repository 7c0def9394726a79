#!/usr/bin/env bash
# make check: host unit/property tests and lint, module build (debug kernel), then every
# integration test inside the debug guest with its dmesg scanned. Last line: N passed, M failed.
source "$(dirname "$0")/common.sh"
cd "$KTCP_ROOT"
log=$KTCP_ROOT/build/check && mkdir -p "$log"
passed=0 failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
item() { if [ "$2" = 0 ]; then count 1 0; echo "PASS $1"; else count 0 1; echo "FAIL $1"; fi; }

stage "host: cargo test (protocol table + property tests, tools)"
set +e
(cd userspace-tests && cargo test --release 2>&1) >"$log/host-test.log"
rc=$?
set -e
read -r p f < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  END { print p+0, f+0 }' "$log/host-test.log")
[ "$rc" = 0 ] || [ "$f" -gt 0 ] || f=1
grep -E '^test .* FAILED|panicked' "$log/host-test.log" | head -n 20 || true
echo "host tests: $p passed, $f failed"
count "$p" "$f"

stage "host: rustfmt and clippy"
set +e
(cd userspace-tests && cargo fmt --all --check) >"$log/fmt.log" 2>&1; item host/cargo-fmt $?
(cd userspace-tests && cargo clippy --release --all-targets --quiet -- -D warnings) >"$log/clippy.log" 2>&1; item host/clippy $?
set -e

stage "tools: building the userspace clients"
(cd userspace-tests && cargo build --release --bins --quiet)

stage "modules: building against the debug kernel"
bash scripts/modules.sh debug
item modules/build-warning-free 0

stage "guest: integration tests in the debug kernel (TCG: several minutes)"
set +e
bash scripts/vm.sh --flavour debug --timeout 3000 -- "FLAVOUR=debug bash scripts/guest/all.sh" 2>&1 | tee "$log/guest.log"
vm_rc=${PIPESTATUS[0]}
set -e
gp=$(grep -c '^PASS ' "$log/guest.log" || true) gf=$(grep -c '^FAIL ' "$log/guest.log" || true)
count "$gp" "$gf"
# The dmesg scan (and a guest that died) count as one test of their own.
if grep -q 'guest dmesg clean' "$log/guest.log"; then item guest/dmesg-clean 0; else item guest/dmesg-clean 1; fi
[ "$vm_rc" = 0 ] || [ "$gf" -gt 0 ] || item guest/completed 1

stage "check done in $(( $(date +%s) - T0 )) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
