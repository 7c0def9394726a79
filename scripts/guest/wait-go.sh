#!/usr/bin/env bash
# Runs first in a guest booted before its tests may start (check.sh boots it while the host
# stages run): waits for $KTCP_OUT/go (start) or $KTCP_OUT/stop (the host failed; exit 1).
out=${KTCP_OUT:?run this in the guest (scripts/vm.sh)}
read -r up _ </proc/uptime
echo "guest: booted in ${up%.*} s of guest time; waiting for the host stages"
exec {nap}<> <(:)
while [ ! -e "$out/go" ] && [ ! -e "$out/stop" ]; do read -rt 0.2 -u "$nap" || :; done
[ -e "$out/go" ]
