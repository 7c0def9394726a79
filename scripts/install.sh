#!/usr/bin/env bash
# make install / make uninstall: the modules into (or out of) /lib/modules/<kver>/extra of the
# kernel in KDIR, then depmod. Never loads a module.
# Usage: KDIR=/lib/modules/<kver>/build [INSTALL_MOD_PATH=/staging] scripts/install.sh install|uninstall
# KDIR: a built Rust-enabled kernel tree or its headers (Module.symvers, .config); its release
# names the directory. INSTALL_MOD_PATH (the kernel's name; the Makefile also takes DESTDIR)
# stages everything under that prefix, and depmod runs with -b on it.
source "$(dirname "$0")/common.sh"

action=${1:?usage: scripts/install.sh install|uninstall}
kdir=${KDIR:?KDIR: the kernel tree to install for}
stage_root=${INSTALL_MOD_PATH:-}
[ -f "$kdir/include/config/kernel.release" ] || die "$kdir is not a configured kernel tree (no include/config/kernel.release)"
kver=$(cat "$kdir/include/config/kernel.release")
grep -qx 'CONFIG_RUST=y' "$kdir/.config" 2>/dev/null ||
  die "the kernel in $kdir ($kver) has no Rust support (CONFIG_RUST=y): these modules cannot be built for it"
moddir=$stage_root/lib/modules/$kver
depmod=(depmod); [ -n "$stage_root" ] && depmod+=(-b "$stage_root")
command -v depmod >/dev/null || PATH=$PATH:/sbin:/usr/sbin

case $action in
  install)
    # A warning-free build exits 0, one with warnings 3 (they are printed): both install.
    KDIR=$kdir bash "$KTCP_ROOT/scripts/modules.sh" || [ $? = 3 ] || die "the module build failed"
    [ -n "$stage_root" ] && mkdir -p "$stage_root"
    stage "install: into $moddir/extra"
    # The kernel's modules_install (which strips, signs and compresses as the kernel is
    # configured) with its own depmod off: ours below runs for staged trees as well.
    make -s -C "$kdir" M="$KTCP_ROOT/build/custom" INSTALL_MOD_DIR=extra DEPMOD=true \
      ${stage_root:+INSTALL_MOD_PATH="$stage_root"} modules_install
    ;;
  uninstall)
    stage "uninstall: kecho_rs and khttpd_rs from $moddir/extra"
    rm -f "$moddir"/extra/kecho_rs.ko* "$moddir"/extra/khttpd_rs.ko*
    rmdir --ignore-fail-on-non-empty "$moddir/extra" 2>/dev/null || true
    ;;
  *) die "usage: scripts/install.sh install|uninstall";;
esac
[ -d "$moddir" ] || die "$moddir does not exist"
"${depmod[@]}" "$kver"
stage "$action: done; depmod ${stage_root:+-b $stage_root }$kver"
