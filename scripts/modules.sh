#!/usr/bin/env bash
# Build kecho_rs.ko and khttpd_rs.ko for one flavour (or against KDIR); any warning fails.
# Usage: scripts/modules.sh [perf|debug]   (KDIR=/path/to/built/kernel overrides the flavour)
# KTCP_TRACE=0 builds without the trace events, into build/<flavour>-notrace.
# KTCP_CLIPPY=1 compiles through clippy-driver (Kbuild's CLIPPY=1, the kernel's lint set);
# its findings are warnings like any other.
# Out-of-tree Kbuild writes objects beside the sources, so each flavour builds in its own copy
# under build/<flavour>/ and the source tree stays clean. The build is skipped when its inputs
# (src/, Kbuild, dkms.conf (the version), the kernel tree, the toolchain, CLIPPY) are those of
# the last build, whose log (and so its warnings) then stands; otherwise everything is rebuilt
# from clean, so the log always holds every warning of both modules. With KDIR, the rustc is
# the one that built that kernel (use_kernel_rustc).
# Exit status: 0 built warning-free, 3 built with warnings (printed), 1 build failed.
source "$(dirname "$0")/common.sh"

flavour=${1:-debug}
if [ -n "${KDIR:-}" ]; then
  kdir=$KDIR; out=$KTCP_ROOT/build/custom
  use_kernel_rustc "$kdir"
else
  bash "$KTCP_ROOT/scripts/kernel.sh" "$flavour"
  kdir=$(bash "$KTCP_ROOT/scripts/kernel.sh" "$flavour" --print-dir); out=$KTCP_ROOT/build/$flavour
fi
[ -f "$kdir/Module.symvers" ] || die "$kdir is not a built kernel tree (no Module.symvers)"
clippy=${KTCP_CLIPPY:-0}
# KTCP_TRACE=0: without the trace events (Kbuild), in build/<flavour>-notrace (make bench trace).
trace=${KTCP_TRACE:-1}
[ "$trace" = 0 ] && out=$out-notrace
mk=(make -C "$kdir" M="$out" -j"$(nproc)" KTCP_TRACE="$trace")
[ "$clippy" = 1 ] && mk+=(CLIPPY=1)

inputs=$( { cd "$KTCP_ROOT" && find src Kbuild dkms.conf -type f -print0 | sort -z | xargs -0 sha256sum
  echo "$kdir $(stat -c %Y "$kdir/Module.symvers") clippy=$clippy trace=$trace"; rustc --version; } | sha256sum | cut -c1-16)
log=$out/build.log
if [ -f "$out/.ktcp-inputs" ] && [ "$(cat "$out/.ktcp-inputs")" = "$inputs" ] && [ -f "$log" ] &&
   [ -f "$out/kecho_rs.ko" ] && [ -f "$out/khttpd_rs.ko" ]; then
  stage "modules: unchanged since the last build (clippy=$clippy), its log stands: $log"
else
  mkdir -p "$out"
  rm -f "$out/.ktcp-inputs"
  if [ -f "$out/Kbuild" ]; then "${mk[@]}" clean >/dev/null 2>&1 || true; fi
  rsync -a --delete "$KTCP_ROOT/src" "$out/"
  cp "$KTCP_ROOT/Kbuild" "$KTCP_ROOT/dkms.conf" "$out/"
  stage "modules: building against $kdir$([ "$clippy" = 1 ] && echo ' (through clippy)')"
  if ! "${mk[@]}" modules >"$log" 2>&1; then
    cat "$log"; die "module build failed (log: $log)"
  fi
  echo "$inputs" >"$out/.ktcp-inputs"
fi
if grep -qi 'warning:' "$log"; then
  grep -i -A12 'warning:' "$log" | head -n 80
  printf 'error: %s\n' "the module build printed warnings (above; log: $log); the modules must build warning-free" >&2
  exit 3
fi
stage "modules: $(cd "$out" && ls *.ko | tr '\n' ' ')in $out"
