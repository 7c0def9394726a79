#!/usr/bin/env bash
# Build (or find in the cache) the guest kernel for one flavour: perf or debug.
# Usage: scripts/kernel.sh [perf|debug] [--print-dir]
# The build lives in $CACHE/kernels/<version>-<flavour>-<config hash>; a cache hit builds nothing.
source "$(dirname "$0")/common.sh"

flavour=${1:-debug}
case $flavour in perf|debug) ;; *) die "unknown flavour '$flavour' (perf or debug)";; esac
print_only=${2:-}

tarball=/usr/src/linux-source-$KVER.tar.xz
[ -f "$tarball" ] || die "$tarball missing: run scripts/setup.sh"
pkgver=$(dpkg-query -W -f='${Version}' "linux-source-$KVER")
src=$CACHE/src/linux-$pkgver
frags=("$KTCP_ROOT/scripts/kconfig/base.config" "$KTCP_ROOT/scripts/kconfig/$flavour.config")
hash=$( { echo "$pkgver"; rustc --version; gcc --version | head -1; cat "${frags[@]}"; } |
  sha256sum | cut -c1-12)
out=$CACHE/kernels/$pkgver-$flavour-$hash
image=$out/arch/x86/boot/bzImage

if [ -f "$out/.ktcp-built" ] && [ -f "$image" ]; then
  [ -n "$print_only" ] && echo "$out" || stage "kernel $flavour: cached at $out"
  exit 0
fi
[ -n "$print_only" ] && die "kernel $flavour not built yet (make kernel)"

if [ ! -f "$src/.ktcp-extracted" ]; then
  stage "extracting $tarball"
  rm -rf "$src" "$src.tmp" && mkdir -p "$src.tmp"
  tar -C "$src.tmp" --strip-components=1 -xf "$tarball"
  touch "$src.tmp/.ktcp-extracted" && mv "$src.tmp" "$src"
fi

mkdir -p "$out"
log=$out/build.log
: >"$log"
# failed STEP: the end of the build log and where the rest is, then exit.
failed() {
  echo "--- last 30 lines of $log:"
  tail -n 30 "$log"
  die "kernel $flavour: $1 failed (full log: $log)"
}
mk() { make -C "$src" O="$out" -j"$(nproc)" "$@" >>"$log" 2>&1; }

stage "kernel $flavour: configuring (log: $log)"
mk rustavailable || failed "'make rustavailable' (the Rust toolchain is not usable for the kernel)"
mk allnoconfig || failed "'make allnoconfig'"
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >>"$log" 2>&1 ||
  failed "merging the config fragments"
mk olddefconfig || failed "'make olddefconfig'"
# Every option the fragments ask for must have survived olddefconfig.
missing=$(grep -h '^CONFIG_' "${frags[@]}" | while IFS= read -r line; do
  grep -qxF "$line" "$out/.config" || echo "$line"; done)
[ -z "$missing" ] || die "config options dropped by Kconfig (unmet dependencies):
$missing"

stage "kernel $flavour: building with $(nproc) jobs (a progress line every 30 s)"
last=$SECONDS
# In an `if`, a failing make neither trips errexit nor hides its log tail.
if ! make -C "$src" O="$out" -j"$(nproc)" all 2>&1 | tee -a "$log" | while IFS= read -r line; do
  if (( SECONDS - last >= 30 )); then
    last=$SECONDS; stage "kernel $flavour: ${line:0:90}"
  fi
done; then
  failed "the build"
fi
[ -f "$image" ] || failed "the build (no $image)"
touch "$out/.ktcp-built"
stage "kernel $flavour: built at $out"
