#!/usr/bin/env bash
# make bench: kecho_rs and khttpd_rs against their peers (user-echo-server, nginx), every
# peer measured in the same perf-guest boot. Builds the perf modules and the load tools,
# runs scripts/guest/bench.sh in one guest, copies its results to results/bench-<date>/ and
# prints the ratio table (bench-report; baselines user-epoll, nginx and, for HTTPS, nginx-tls)
# and the threads and memory lines. Exits non-zero when a server failed to answer or the guest
# run failed; slow ratios are reported, never a failure.
# Usage: scripts/bench.sh [echo] [http] [conc] [stream] [trace] [tls] [profile]   (default: echo http conc trace tls)
# BENCH_QUICK=1 shrinks every duration, count and the matrix (for iterating; not a measurement).
# REPEATS=N runs every echo, http, trace and tls cell N times (default 3), the servers alternating.
source "$(dirname "$0")/common.sh"
cd "$KTCP_ROOT"

parts=${*:-echo http conc trace tls}
started=$SECONDS
bash scripts/modules.sh perf
case " $parts " in *" trace "*) KTCP_TRACE=0 bash scripts/modules.sh perf;; esac
stage "tools: cargo build --release --bins"
(cd userspace-tests && cargo build --release --quiet --bins)

# The memory samples drop the guest's page cache: 9p under TCG (see scripts/vm.sh).
export KTCP_NO_VIRTIOFS=${KTCP_NO_VIRTIOFS:-tcg}
out=$(vm_run_dir perf)
set +e
bash scripts/vm.sh --flavour perf --timeout 4800 --out "$out" -- \
  "BENCH_QUICK=${BENCH_QUICK:-0} REPEATS=${REPEATS:-3} bash scripts/guest/bench.sh $parts"
vm_rc=$?
set -e

[ -d "$out/bench" ] || die "the guest left no results in $out/bench (vm status $vm_rc)"
dest=$KTCP_ROOT/results/bench-$(date +%Y%m%d-%H%M%S)
mkdir -p "$dest"
cp -r "$out/bench/." "$dest/"
cp "$out/dmesg.txt" "$dest/" 2>/dev/null || true

results=()
for f in echo http conc stream trace tls; do [ -s "$dest/$f.txt" ] && results+=("$dest/$f.txt"); done
echo
if ((${#results[@]})); then
  userspace-tests/target/release/bench-report --baseline user-epoll --baseline nginx --baseline nginx-tls --baseline alone --baseline notrace \
    --csv "$dest/bench.csv" --png "$dest/bench.png" "${results[@]}"
else
  echo "no RESULT lines"
fi
if [ -s "$dest/latency.txt" ]; then
  echo
  echo "khttpd_rs / kecho_rs latency histograms (debugfs latency, ns; the whole of each load):"
  sed 's/^/  /' "$dest/latency.txt"
fi
if [ -s "$dest/profile.txt" ]; then
  echo
  echo "where the CPU goes (perf record -a, cpu-clock; us per request; softirq is charged to the task it interrupted):"
  sed 's/^/  /' "$dest/profile.txt"
fi
if [ -s "$dest/tls-counters.txt" ]; then
  echo
  echo "khttpd_rs HTTPS counters and ktcp-tls-agent handshakes per load (tls_failed includes the"
  echo "handshakes clients abandon: wrk's bare-connect probe, ab's in flight at its time limit):"
  sed 's/^/  /' "$dest/tls-counters.txt"
fi
if [ -s "$dest/mem.txt" ]; then
  echo
  echo "threads and memory (whole guest, before vs during; includes the client's own sockets):"
  sed 's/^/  /' "$dest/mem.txt"
fi
if [ -s "$dest/conc.txt" ]; then
  echo
  echo "per-phase success (clients that completed each phase):"
  awk '/^RESULT/ && / phase1_ok=/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    printf "  %-22s %-12s phase1 %s/%s  phase2 %s/%s\n", f["scenario"], f["server"], f["phase1_ok"], f["clients"],
      f["phase2_ok"], f["clients"] }' "$dest/conc.txt"
fi
echo
if [ -s "$dest/failures.txt" ]; then
  echo "failures:"
  sed 's/^/  /' "$dest/failures.txt"
fi
stage "bench: results in ${dest#"$KTCP_ROOT"/}; took $((SECONDS - started)) s (guest and report)"
if [ "$vm_rc" != 0 ] || [ -s "$dest/failures.txt" ]; then
  die "bench: a server failed to answer or the guest run failed (vm status $vm_rc)"
fi
