#!/usr/bin/env bash
# Build (or find in the cache) the guest kernel for one flavour: perf or debug.
# Usage: scripts/kernel.sh [perf|debug] [--print-dir]
# The build lives in $CACHE/kernels/<version>-<flavour>-<hash>, the hash covering the
# compilers, the config fragments and scripts/kernel-recipe.sh; a cache hit builds nothing.
source "$(dirname "$0")/common.sh"

flavour=${1:-debug}
case $flavour in perf|debug) ;; *) die "unknown flavour '$flavour' (perf or debug)";; esac
print_only=${2:-}

tarball=/usr/src/linux-source-$KVER.tar.xz
[ -f "$tarball" ] || die "$tarball missing: run scripts/setup.sh"
pkgver=$(dpkg-query -W -f='${Version}' "linux-source-$KVER")
src=$CACHE/src/linux-$pkgver
frags=("$KTCP_ROOT/scripts/kconfig/base.config" "$KTCP_ROOT/scripts/kconfig/$flavour.config")
recipe=$KTCP_ROOT/scripts/kernel-recipe.sh
# The key: the source package, the compilers, the config fragments and the recipe that
# turns them into a kernel, so that a change to any of them builds anew.
hash=$( { echo "$pkgver"; rustc --version; gcc --version | head -1; cat "${frags[@]}" "$recipe"; } |
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

# shellcheck source=kernel-recipe.sh
source "$recipe"
