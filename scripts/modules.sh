#!/usr/bin/env bash
# Build kecho_rs.ko and khttpd_rs.ko for one flavour (or against KDIR), warnings fatal.
# Usage: scripts/modules.sh [perf|debug]   (KDIR=/path/to/built/kernel overrides the flavour)
# Out-of-tree Kbuild writes objects beside the sources, so each flavour builds in its own copy
# under build/<flavour>/ and the source tree stays clean.
source "$(dirname "$0")/common.sh"

flavour=${1:-debug}
if [ -n "${KDIR:-}" ]; then
  kdir=$KDIR; out=$KTCP_ROOT/build/custom
else
  bash "$KTCP_ROOT/scripts/kernel.sh" "$flavour"
  kdir=$(bash "$KTCP_ROOT/scripts/kernel.sh" "$flavour" --print-dir); out=$KTCP_ROOT/build/$flavour
fi
[ -f "$kdir/Module.symvers" ] || die "$kdir is not a built kernel tree (no Module.symvers)"

mkdir -p "$out"
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' "$KTCP_ROOT/src" "$out/" 2>/dev/null ||
  rsync -a "$KTCP_ROOT/src" "$out/"
cp "$KTCP_ROOT/Kbuild" "$out/Kbuild"
log=$out/build.log
stage "modules: building against $kdir"
if ! make -C "$kdir" M="$out" -j"$(nproc)" modules >"$log" 2>&1; then
  cat "$log"; die "module build failed"
fi
if grep -iE '(^|[^-])warning' "$log"; then
  die "module build printed warnings (see above); the modules must build warning-free"
fi
stage "modules: $(cd "$out" && ls *.ko | tr '\n' ' ')in $out"
