#!/usr/bin/env bash
# Fails (printing the lines) if a guest dmesg holds a kernel report of any kind, or an unload
# line of ours that says connection objects were left in memory (a leaked connection).
# Usage: scripts/dmesg-scan.sh DMESG_FILE     (scripts/test-dmesg-scan.sh tests the patterns)
file=$1
[ -f "$file" ] || { echo "dmesg-scan: $file missing"; exit 1; }
pattern='BUG|WARNING|Oops|KASAN|UBSAN|kmemleak|unreferenced object|lockdep|possible (circular|recursive) locking|refcount_t|hung task|blocked for more than|[Pp]anic|rust_panic|soft lockup|hard LOCKUP|general protection|KFENCE|workqueue lockup|list_(add|del) corruption|Poison overwritten|Redzone|Object padding|Out of memory|oom-kill|invoked oom-killer|segfault at|rcu.*(stall|detected stalls)|self-detected stall|trap invalid opcode|double fault|[1-9][0-9]* connection objects left'
# Boot-time noise that is not a report about our code (matched lines are still shown on -v).
ignore='[Cc]ommand line:|RCU lockdep checking is enabled|kmemleak: Kernel memory leak detector initialized|kmemleak: Automatic memory scanning thread|KFENCE: initialized|panic_on_warn|RETBleed|Spectre|\bBUG\b.*No such file|ACPI BIOS Warning|ACPI Warning|rcu: RCU CPU stall warnings timeout set|ktcp-rs test mark:'
hits=$(grep -E "$pattern" "$file" | grep -Ev "$ignore")
[ -z "$hits" ] && exit 0
echo "$hits" | head -n 60
exit 1
