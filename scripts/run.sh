#!/usr/bin/env bash
# make run: build what is missing, boot the perf guest, load both modules and show them working.
source "$(dirname "$0")/common.sh"
cd "$KTCP_ROOT"
bash scripts/modules.sh perf
stage "tools: building the userspace clients"
(cd userspace-tests && cargo build --release --bins --quiet)
bash scripts/vm.sh --flavour perf --timeout 900 -- "bash scripts/guest/demo.sh"
