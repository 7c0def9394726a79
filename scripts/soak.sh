#!/usr/bin/env bash
# make soak: the long robustness run in the debug guest (about 25 minutes under TCG).
source "$(dirname "$0")/common.sh"
cd "$KTCP_ROOT"
bash scripts/modules.sh debug
(cd userspace-tests && cargo build --release --bins --quiet)
bash scripts/vm.sh --flavour debug --timeout 5400 --mem 6G -- \
  "FLAVOUR=debug SOAK_SECS=${SOAK_SECS:-300} SOAK_CYCLES=${SOAK_CYCLES:-100} FAULT_SECS=${FAULT_SECS:-120} bash scripts/guest/soak.sh"
