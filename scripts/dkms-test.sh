#!/usr/bin/env bash
# The install paths end to end, without touching this machine's /lib/modules, /usr/src or
# /var/lib/dkms, and without loading anything into its kernel.
# Usage: scripts/dkms-test.sh [--host-only DIR]
# On the host, against the debug guest kernel's tree (its release, e.g. 6.12.117-ktcp):
#   `make install` and `make uninstall` staged under DIR/stage (INSTALL_MOD_PATH): the files,
#   depmod's modules.dep, modinfo's version; then dkms add, build, install (`dkms status`:
#   installed; a copy kept in DIR/installed for the guest) and remove, with a private dkms
#   tree, source tree and install tree under DIR (dkms --dkmstree/--sourcetree/--installtree,
#   --no-depmod: dkms's depmod would work on /lib/modules; `depmod -b DIR/root` instead); a
#   kernel without CONFIG_RUST is skipped (BUILD_EXCLUSIVE_CONFIG, dkms status 77).
# In the guest (scripts/guest/dkms.sh, reading DIR): DIR/installed copied to /lib/modules and
# depmod (or, DKMS_GUEST=full, as make soak does: dkms install, status and remove in the
# guest), modprobe.d options, modprobe and modprobe -r of both modules.
# Without --host-only: a new guest run directory, DIR=<it>/dkms-test, then the guest part in a
# debug guest (vm.sh; DKMS_GUEST passed on). make check runs the host part itself, niced beside the guest's suites,
# into the guest's run directory (a directory the guest sees written live; files written to the
# read-only root while a guest runs may stay invisible to it), and all.sh runs the guest part.
# Prints `PASS dkms/NAME` or `FAIL dkms/NAME: why` per step; writes DIR/ready (the tree is
# usable) or DIR/failed; exits 1 if a step failed.
source "$(dirname "$0")/common.sh"
cd "$KTCP_ROOT"

if [ "${1:-}" = --host-only ]; then
  dir=${2:?usage: scripts/dkms-test.sh [--host-only DIR]}; guest=0
else
  out=$(vm_run_dir debug); dir=$out/dkms-test; guest=1
fi
rm -rf "$dir"; mkdir -p "$dir"
failed=0
pass() { echo "PASS dkms/$1"; }
fail() { echo "FAIL dkms/$1: $2"; failed=1; }
# step NAME CMD...: CMD's output goes to DIR/NAME.log, whose end a failure shows.
step() {
  local name=$1; shift
  if "$@" >"$dir/$name.log" 2>&1; then pass "$name"; return 0; fi
  fail "$name" "$(tail -n 4 "$dir/$name.log" | tr '\n' ' ') (log: $dir/$name.log)"; return 1
}
finish() { if [ "$failed" = 0 ]; then : >"$dir/ready"; else : >"$dir/failed"; fi; }
# Any exit before the end (a die below) still tells the guest, which waits for one of them.
trap '[ -e "$dir/ready" ] || [ -e "$dir/failed" ] || : >"$dir/failed"' EXIT

kdir=$(bash scripts/kernel.sh debug --print-dir) || die "no debug kernel: make kernel"
krel=$(cat "$kdir/include/config/kernel.release")
version=$(sed -n 's/^PACKAGE_VERSION="*\([^"]*\)"*$/\1/p' dkms.conf)
[ -n "$version" ] || die "no PACKAGE_VERSION in dkms.conf"
# The guest's dkms builds with the rustc that built the kernel: this one's toolchain directory
# (its real binaries, not rustup's proxies, so no HOME or RUSTUP_HOME is needed there).
sysroot=$(rustc --print sysroot) && [ -x "$sysroot/bin/rustc" ] || die "no usable rustc on PATH"
printf '%s=%q\n' version "$version" krel "$krel" kdir "$kdir" rustc_bin "$sysroot/bin" >"$dir/env"
export PATH=$PATH:/usr/sbin:/sbin
# dkms would sign with a key it generates under /var/lib/dkms when it finds the kernel's
# sign-file: this file name is not there, so it does not sign (our kernels do not check).
export sign_file=/nonexistent
private=(--dkmstree "$dir/dkms" --sourcetree "$dir/src" --installtree "$dir/root/lib/modules")
mkdir -p "$dir/dkms" "$dir/src" "$dir/root/lib/modules"
# What this machine's own trees look like before: the test must leave them as they were.
system_trees() { ls -laR --time-style=full-iso /lib/modules /usr/src /var/lib/dkms; }
system_trees >"$dir/system-before.txt" 2>&1 || true

# modinfo_version KO: the "version" modinfo reads, which must be dkms.conf's.
modinfo_version() {
  local v; v=$(/sbin/modinfo -F version "$1") || return 1
  [ "$v" = "$version" ] || { echo "$1: version '$v', want '$version'"; return 1; }
}
make_install_staged() {
  local m=$dir/stage/lib/modules/$krel
  make -s install KDIR="$kdir" INSTALL_MOD_PATH="$dir/stage" || return 1
  for ko in kecho_rs khttpd_rs; do
    [ -f "$m/extra/$ko.ko" ] || { echo "no $m/extra/$ko.ko"; return 1; }
    grep -q "^extra/$ko.ko:" "$m/modules.dep" || { echo "depmod: extra/$ko.ko not in $m/modules.dep"; return 1; }
    modinfo_version "$m/extra/$ko.ko" || return 1
  done
}
make_uninstall_staged() {
  local m=$dir/stage/lib/modules/$krel
  make -s uninstall KDIR="$kdir" DESTDIR="$dir/stage" || return 1
  ! ls "$m"/extra/*_rs.ko 2>/dev/null || { echo "modules left in $m/extra"; return 1; }
  ! grep -q '_rs\.ko' "$m/modules.dep" || { echo "depmod: $m/modules.dep still lists them"; return 1; }
}
dkms_add() {
  make -s dkms-source DKMS_SOURCE_TREE="$dir/src" &&
    dkms add -m ktcp-rs -v "$version" "${private[@]}"
}
dkms_build() {
  local m=$dir/dkms/ktcp-rs/$version/$krel/x86_64/module st
  dkms build -m ktcp-rs -v "$version" -k "$krel" --kernelsourcedir "$kdir" "${private[@]}" || return 1
  for ko in kecho_rs khttpd_rs; do
    modinfo_version "$m/$ko.ko" || return 1
    /sbin/modinfo -F vermagic "$m/$ko.ko" | grep -q "^$krel " || { echo "$ko.ko: vermagic is not $krel"; return 1; }
  done
  dkms_status_is built
}
# dkms_status_is STATE: dkms status for this version and kernel says STATE.
dkms_status_is() {
  local st
  st=$(dkms status -m ktcp-rs -v "$version" -k "$krel" "${private[@]}") || return 1
  echo "dkms status: ${st:-(nothing)}"
  [[ $st == *"$krel"*": $1"* ]]
}
dkms_install() {
  local m=$dir/root/lib/modules/$krel
  # The kernel's own directory, as its package would leave it.
  mkdir -p "$m" && cp "$kdir"/modules.builtin* "$kdir/modules.order" "$m/" && ln -sfn "$kdir" "$m/build" || return 1
  dkms install --no-depmod -m ktcp-rs -v "$version" -k "$krel" "${private[@]}" || return 1
  depmod -b "$dir/root" "$krel" || return 1
  for ko in kecho_rs khttpd_rs; do
    [ -f "$m/updates/dkms/$ko.ko" ] || { echo "no $m/updates/dkms/$ko.ko"; return 1; }
    grep -q "^updates/dkms/$ko.ko:" "$m/modules.dep" || { echo "depmod: $ko not in $m/modules.dep"; return 1; }
  done
  dkms_status_is installed || return 1
  mkdir -p "$dir/installed/updates" && cp -a "$m/updates/dkms" "$dir/installed/updates/"
}
dkms_remove() {
  local m=$dir/root/lib/modules/$krel
  dkms remove --no-depmod -m ktcp-rs -v "$version" -k "$krel" "${private[@]}" || return 1
  ! ls "$m"/updates/dkms/*_rs.ko* 2>/dev/null || { echo "modules left in $m/updates/dkms"; return 1; }
  ! dkms_status_is installed && ! dkms_status_is built
}
# A kernel tree without CONFIG_RUST: dkms must skip it (status 77), not try and fail.
dkms_build_exclusive() {
  local k=$dir/norust rc=0
  mkdir -p "$k/include/config"
  printf 'CONFIG_MODULES=y\n# CONFIG_RUST is not set\n' >"$k/.config"
  echo 6.12.0-norust >"$k/include/config/kernel.release"
  touch "$k/Makefile" "$k/Module.symvers"
  dkms build -m ktcp-rs -v "$version" -k 6.12.0-norust --kernelsourcedir "$k" "${private[@]}" || rc=$?
  [ "$rc" = 77 ] || { echo "dkms build for a kernel without CONFIG_RUST: status $rc, want 77 (skipped)"; return 1; }
  ! ls "$dir/dkms/ktcp-rs/$version/6.12.0-norust/x86_64/module/"*.ko 2>/dev/null
}
system_untouched() {
  system_trees >"$dir/system-after.txt" 2>&1 || true
  diff "$dir/system-before.txt" "$dir/system-after.txt"
}

command -v dkms >/dev/null || { fail tool "dkms is not installed (make setup installs it)"; finish; exit 1; }
step make-install-staged make_install_staged
step make-uninstall-staged make_uninstall_staged
step add dkms_add && step build dkms_build && step install dkms_install && step remove dkms_remove
step build-exclusive dkms_build_exclusive
step host-trees-untouched system_untouched
finish
[ "$failed" = 0 ] || exit 1
[ "$guest" = 1 ] || exit 0
stage "dkms: the guest part (debug guest, $out)"
bash scripts/vm.sh --flavour debug --timeout 900 --mem 2G --out "$out" -- \
  "FLAVOUR=debug DKMS_GUEST=${DKMS_GUEST:-installed} bash scripts/guest/dkms.sh"
