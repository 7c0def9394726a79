#!/usr/bin/env bash
# Runs inside the guest: the command from OUT/cmd.sh, then saves its status and dmesg to OUT.
out=$1
ulimit -n 1048576 2>/dev/null || ulimit -n 65536
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug 2>/dev/null
export KTCP_GUEST=1 KTCP_OUT=$out
# The kernel log as it is written, so that a guest that dies still leaves it behind.
dmesg -w >"$out/dmesg.live" 2>&1 &
live=$!
note() { echo "$(date +%T) $(cut -d' ' -f1 /proc/uptime)s $*" >>"$out/progress"; sync; }
note "command started"
bash -e "$out/cmd.sh"
rc=$?
note "command ended with status $rc"
# Let deferred reports (kmemleak scan, workqueue watchdog) reach the log first. A command
# that ended with its own kmemleak scan (all.sh) leaves kmemleak.scanned: no second scan.
if [ -w /sys/kernel/debug/kmemleak ]; then
  if [ ! -e "$out/kmemleak.scanned" ]; then
    echo scan >/sys/kernel/debug/kmemleak; sleep 1; echo scan >/sys/kernel/debug/kmemleak
  fi
  cat /sys/kernel/debug/kmemleak >"$out/kmemleak.txt"
  note "kmemleak read"
fi
kill "$live" 2>/dev/null
dmesg >"$out/dmesg.txt"
[ -s "$out/kmemleak.txt" ] && cat "$out/kmemleak.txt" >>"$out/dmesg.txt"
echo "$rc" >"$out/rc"
note "status written"
