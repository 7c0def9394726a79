#!/usr/bin/env bash
# make soak, in a guest booted with ipv6.disable=1: the default bind=:: falls back to 0.0.0.0
# (one dmesg line that names both addresses), and both modules serve IPv4 clients; an explicit
# IPv6 address still fails to load.
source "$(dirname "$0")/lib.sh"
plan 5
WWW=/tmp/ktcp-www
"$BIN/itest" mkroot $WWW --outside /tmp/ktcp-outside --big-mib 1 >/dev/null || { echo "noipv6.sh: itest mkroot failed"; exit 1; }

check noipv6/kernel_has_no_ipv6 eval '[ ! -e /proc/net/if_inet6 ]'
echo_once() {
  local fd r
  exec {fd}<>/dev/tcp/127.0.0.1/12345 || return 1
  printf 'ping' >&$fd
  read -r -t 10 -N 4 -u $fd r
  exec {fd}<&-
  [ "$r" = ping ]
}
kecho_falls_back() {
  dmesg_mark noipv6-kecho
  insmod "$MODDIR/kecho_rs.ko" || return 1
  dmesg | awk '/ktcp-rs test mark: noipv6-kecho/ { on = 1 } on' >$TMPD/kecho.dmesg
  local ok=1
  grep -q 'no IPv6 on this kernel: listening on 0.0.0.0:12345 instead of \[::\]:12345' $TMPD/kecho.dmesg &&
    grep -q 'kecho_rs: listening on 0.0.0.0:12345' $TMPD/kecho.dmesg && echo_once && ok=0
  [ $ok = 0 ] || cat $TMPD/kecho.dmesg
  rmmod kecho_rs && return $ok
}
check noipv6/kecho_bind_default_falls_back kecho_falls_back
khttpd_falls_back() {
  dmesg_mark noipv6-khttpd
  insmod "$MODDIR/khttpd_rs.ko" root=$WWW || return 1
  dmesg | awk '/ktcp-rs test mark: noipv6-khttpd/ { on = 1 } on' >$TMPD/khttpd.dmesg
  local ok=1
  grep -q 'khttpd_rs: listening on 0.0.0.0:8081' $TMPD/khttpd.dmesg &&
    curl -sf --max-time 20 -o $TMPD/a.txt http://127.0.0.1:8081/a.txt && cmp -s $TMPD/a.txt $WWW/a.txt && ok=0
  [ $ok = 0 ] || cat $TMPD/khttpd.dmesg
  rmmod khttpd_rs && return $ok
}
check noipv6/khttpd_bind_default_falls_back khttpd_falls_back
check noipv6/explicit_ipv6_refused insmod_fails "$MODDIR/kecho_rs.ko" "not supported" "cannot listen on [::1]:12345: error -97" bind=::1
check noipv6/dmesg_clean dmesg_clean_since noipv6-kecho
end_plan
