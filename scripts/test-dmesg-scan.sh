#!/usr/bin/env bash
# Host test of scripts/dmesg-scan.sh: every kind of kernel report it must catch is caught,
# and the boot lines it must let through pass. Exits 1 naming the first wrong line.
scan=$(dirname "$0")/dmesg-scan.sh
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
reports=(
  '[  12.3] BUG: KFENCE: use-after-free read in khttpd_rs::conn::run+0x40/0x80'
  '[  12.3] WARNING: CPU: 1 PID: 77 at kernel/workqueue.c:1234 __queue_work+0x1/0x2'
  '[  12.3] Oops: 0000 [#1] PREEMPT SMP'
  '[  12.3] UBSAN: shift-out-of-bounds in net/ipv4/tcp.c:10:2'
  '[  12.3] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'
  'unreferenced object 0xffff888003a1c000 (size 64):'
  '[  12.3] WARNING: possible circular locking dependency detected'
  '[  12.3] refcount_t: underflow; use-after-free.'
  '[  12.3] INFO: task kworker/0:1:12 blocked for more than 120 seconds.'
  '[  12.3] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [kworker/0:2:40]'
  '[  12.3] Kernel panic - not syncing: Fatal exception'
  '[  12.3] rust_kernel: panicked at src/conn.rs:10:5:'
  '[  12.3] general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1]'
  '[  12.3] traps: itest[301] general protection fault ip:55d0 sp:7ffc error:0 in itest[55d0+1000]'
  '[  12.3] BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 31s!'
  '[  12.3] list_add corruption. prev->next should be next (ffff888003a1c000)'
  '[  12.3] Out of memory: Killed process 1234 (htstress-rs) total-vm:1000kB, anon-rss:900kB'
  '[  12.3] itest invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0'
  '[  12.3] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=itest,pid=301,uid=0'
  '[  12.3] itest[301]: segfault at 0 ip 000055d0c0de0000 sp 00007ffc00000000 error 4 in itest[55d0+1000]'
  '[  12.3] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:'
  '[  12.3] rcu: INFO: rcu_preempt self-detected stall on CPU'
  '[  12.3] INFO: rcu_sched detected expedited stalls on CPUs/tasks: { 1-... }'
  '[  12.3] kecho_rs: stopped in 9 ms (1 connections closed at unload; accept thread 1 ms, closing 1 ms, queue drain 7 ms): 3 accepted, 3 closed, 0 refused, 0 timed out, 1 connection objects left'
  '[  12.3] khttpd_rs: stopped in 9 ms (0 connections closed at unload; accept thread 1 ms, closing 1 ms, queue drain 7 ms): 30 accepted, 30 closed, 0 refused, 0 timed out, 10 connection objects left'
  '[  12.3] =============================================================================
[  12.3] BUG kmalloc-64 (Not tainted): Poison overwritten'
)
clean=(
  '[   0.0] Kernel command line: console=ttyS0 log_buf_len=16M panic_on_warn=0'
  '[   0.1] RCU lockdep checking is enabled.'
  '[   0.2] kmemleak: Kernel memory leak detector initialized (mem pool available: 15000)'
  '[   0.2] kmemleak: Automatic memory scanning thread started'
  '[   0.3] KFENCE: initialized - using 2097152 bytes for 255 objects'
  '[   0.3] RETBleed: Mitigation: untrained return thunk'
  '[   0.3] Spectre V2 : Mitigation: Retpolines'
  '[   0.4] rcu: RCU CPU stall warnings timeout set to 21 (rcu_cpu_stall_timeout).'
  '[  20.0] kecho_rs: stopped in 12 ms'
  '[  20.0] khttpd_rs: stopped in 1852 ms (120 connections closed at unload; accept thread 7 ms, closing 1834 ms, queue drain 11 ms): 120 accepted, 120 closed, 0 refused, 0 timed out, 0 connection objects left'
  '[  20.0] kecho_rs: stopped in 10 ms (0 connections closed at unload; accept thread 1 ms, closing 1 ms, queue drain 8 ms): 100 accepted, 100 closed, 0 refused, 10 timed out, 0 connection objects left'
  '[  21.0] khttpd_rs: serving /tmp/ktcp-www on port 8081'
  '[  22.0] ktcp-rs test mark: soak/kecho_rs-storm'
)
for line in "${reports[@]}"; do
  printf '%s\n' '[   0.0] Linux version 6.12' "$line" >"$tmp"
  bash "$scan" "$tmp" >/dev/null && { echo "dmesg-scan missed: $line"; exit 1; }
done
for line in "${clean[@]}"; do
  printf '%s\n' "$line" >"$tmp"
  bash "$scan" "$tmp" >/dev/null || { echo "dmesg-scan flagged a harmless line: $line"; exit 1; }
done
echo "dmesg-scan: ${#reports[@]} reports caught, ${#clean[@]} harmless lines passed"
