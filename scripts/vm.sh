#!/usr/bin/env bash
# Run a command as root inside a virtme-ng guest on the cached kernel, then scan its dmesg.
# Usage: scripts/vm.sh [--flavour perf|debug] [--timeout SECONDS] [--mem SIZE] [--out DIR] [CMD...]
# Without CMD: an interactive shell. The guest starts in the repo root with 2 vCPUs; TCG unless
# this CPU offers vmx/svm (KVM) and KTCP_NO_KVM is unset. Exits with CMD's status, or 1 when
# the guest's dmesg shows a kernel report (the offending lines are printed).
# Each run has its own directory (cmd.sh, dmesg.txt, kmemleak.txt, rc, what the guest writes to
# $KTCP_OUT): --out DIR, or a new build/vm-<flavour>/<time>-<pid>/ (`last` points at the newest;
# the last 5 finished runs are kept). KTCP_APPEND adds to the guest's kernel command line.
source "$(dirname "$0")/common.sh"

flavour=debug timeout=1800 mem=4G out=
while [ $# -gt 0 ]; do
  case $1 in
    --flavour) flavour=$2; shift 2;;
    --timeout) timeout=$2; shift 2;;
    --mem) mem=$2; shift 2;;
    --out) out=$2; shift 2;;
    --) shift; break;;
    *) break;;
  esac
done
cmd="$*"

# KTCP_KDIR: boot that built kernel tree instead of the cached one of the flavour.
kdir=${KTCP_KDIR:-$(bash "$KTCP_ROOT/scripts/kernel.sh" "$flavour" --print-dir)} || die "no $flavour kernel: run 'make kernel'"
[ -n "$out" ] || out=$(vm_run_dir "$flavour")
mkdir -p "$out"

accel=(--disable-kvm)
if grep -qE '\b(vmx|svm)\b' /proc/cpuinfo && [ -w /dev/kvm ] && [ -z "${KTCP_NO_KVM:-}" ]; then accel=(); fi

# virtme-ng shares the host's root through virtiofsd when it finds one on PATH (setup.sh
# installs it), else through 9p, which is much slower under TCG. The guest caches the root's
# files for the whole run: nothing the guest reads may change on the host while it runs.
# KTCP_NO_VIRTIOFS=1 takes 9p instead (--force-9p: vng would find any other virtiofsd, on
# PATH or at a fixed path such as /usr/libexec/virtiofsd). KTCP_NO_VIRTIOFS=tcg takes 9p
# only when the guest runs under TCG. Under TCG (QEMU 10 here) virtiofs is unsafe for a
# guest that drops its page cache: virtiofsd writes file pages straight into guest memory,
# behind TCG's back, and a code page read anew still runs the old page's translated code
# (after `echo 1 >drop_caches`, python3 and openssl segfaulted; read() saw the right bytes).
# 9p's pages are written by QEMU itself. make bench drops caches, so it asks for `tcg`.
# With virtiofs and KVM, virtme-ng would switch to QEMU's microvm machine (virtio over MMIO,
# which our kernels do not have): --disable-microvm keeps the same machine either way.
rootfs=()
case ${KTCP_NO_VIRTIOFS:-} in
  '') ;;
  tcg) [ ${#accel[@]} = 0 ] || rootfs=(--force-9p);;
  *) rootfs=(--force-9p);;
esac
[ ${#rootfs[@]} != 0 ] || export PATH=$CACHE/virtiofsd/bin:$PATH
vng=(vng --run "$kdir/arch/x86/boot/bzImage" --cpus 2 --memory "$mem" "${accel[@]}" "${rootfs[@]}" --disable-microvm
     --rwdir "$out" --cwd "$KTCP_ROOT" --append "log_buf_len=16M kfence.sample_interval=10${KTCP_APPEND:+ $KTCP_APPEND}")
# One guest at a time on this machine (TCG: two would halve each other's speed and break the
# timing bounds): every worktree and helper takes the same lock, and says when it waits.
exec {vm_lock}>"${KTCP_VM_LOCK:-/tmp/ktcp-vm.lock}"
if ! flock -n "$vm_lock"; then
  stage "vm: another guest is running on this machine; waiting for it"
  flock "$vm_lock"
fi

if [ -z "$cmd" ]; then
  exec "${vng[@]}"
fi

# The wrapper records CMD's status and the guest's dmesg in the shared directory.
printf '%s\n' "$cmd" >"$out/cmd.sh"
wrapper="bash $KTCP_ROOT/scripts/guest-run.sh $out"
stage "vm ($flavour, ${accel[*]:-kvm}${rootfs[*]:+, 9p}): $cmd"
set +e
# vng and QEMU in a process group of their own, which a timeout, an interrupt or our own
# end takes down whole (a signal to vng alone leaves QEMU running). The console goes through
# a pipe (redirected to a file, the guest console rewrites it from offset 0), and a copy is
# kept in console.log: a guest that panics or dies leaves its last words there.
setsid "${vng[@]}" --exec "$wrapper" </dev/null > >(tee "$out/console.log") 2>&1 &
vng_pid=$!
stop_guest() { kill -TERM -- -"$vng_pid" 2>/dev/null; sleep 2; kill -KILL -- -"$vng_pid" 2>/dev/null; }
trap 'stop_guest; exit 130' INT TERM
( end=$((SECONDS + timeout))
  while kill -0 "$vng_pid" 2>/dev/null; do
    if ((SECONDS >= end)); then echo "vm: timeout after ${timeout}s, stopping the guest"; stop_guest; break; fi
    sleep 1
  done ) &
watchdog=$!
wait "$vng_pid"
vng_rc=$?
wait "$watchdog"
trap - INT TERM
set -e
[ -f "$out/rc" ] || { echo "vm: the guest did not finish (vng status $vng_rc, timeout ${timeout}s)"; \
  [ -s "$out/progress" ] && { echo "--- the guest wrapper's progress:"; cat "$out/progress"; }
  for f in "$out/dmesg.txt" "$out/dmesg.live"; do [ -s "$f" ] && { echo "--- end of $f:"; tail -n 40 "$f"; break; }; done
  exit 1; }
rc=$(cat "$out/rc")
if bash "$KTCP_ROOT/scripts/dmesg-scan.sh" "$out/dmesg.txt"; then
  stage "vm: guest dmesg clean ($(wc -l <"$out/dmesg.txt") lines, saved in $out/dmesg.txt)"
else
  echo "vm: kernel reports in the guest's dmesg (full log: $out/dmesg.txt)"
  rc=1
fi
exit "$rc"
