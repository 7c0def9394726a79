#!/usr/bin/env bash
# The guest part of scripts/dkms-test.sh: the modules as a machine gets them from DKMS.
# The host built them with a private dkms tree in $KTCP_OUT/dkms-test (the guest's run
# directory); make check builds it beside the lanes, so this waits for its `ready` or `failed`.
# /lib/modules/$(uname -r) becomes a real directory (virtme-ng's tmpfs; its symlink is put
# back at the end) with the kernel's modules.builtin* and `build` pointing at the kernel tree.
# DKMS_GUEST=installed (make check): the host ran `dkms install` into its private install tree
# (dkms itself under TCG takes a minute or more per command); its updates/dkms/ is copied
# here and depmod run. DKMS_GUEST=full (make soak): as on a real machine, the dkms and source
# trees go to /var/lib/dkms and /usr/src (virtme-ng's writable overlays; nothing reaches the
# host), then `dkms install`, `dkms status`, and at the end `dkms remove`.
# Both: /etc/modprobe.d options, modprobe, the parameters, a request, and modprobe -r of both.
source "$(dirname "$0")/lib.sh"
dkms_mode=${DKMS_GUEST:-installed}
case $dkms_mode in installed) plan 7;; full) plan 9;; *) echo "DKMS_GUEST=$dkms_mode: installed or full"; exit 1;; esac
T=${KTCP_OUT:-/tmp}/dkms-test
krel=$(uname -r)
MODS=/lib/modules/$krel
export PATH=$PATH:/usr/sbin:/sbin sign_file=/nonexistent

# wait_host_tree: the host's part finished (up to 10 min) and left a usable tree.
wait_host_tree() {
  local i
  for ((i = 0; i < 6000; i++)); do
    [ -e "$T/ready" ] && break
    [ -e "$T/failed" ] && { echo "the host part failed (make check's dkms lines, $T/*.log)"; return 1; }
    snooze 0.1
  done
  [ -e "$T/ready" ] || { echo "no $T/ready after 10 min: the host part did not finish"; return 1; }
  # version, krel (the kernel it was built for) and kdir (its tree).
  source "$T/env"
  [ "$krel" = "$(uname -r)" ] || { echo "built for $krel, this kernel is $(uname -r)"; return 1; }
  echo "note: dkms tree of ktcp-rs $version for $krel"
}

# setup: the trees where dkms, depmod and modprobe look for them.
setup() {
  wait_host_tree || return 1
  virtme_mods=$(readlink "$MODS") || { echo "$MODS is not virtme-ng's symlink"; return 1; }
  rm "$MODS" && mkdir "$MODS" || return 1
  cp "$virtme_mods"/modules.builtin* "$virtme_mods"/modules.order "$MODS/" 2>/dev/null
  ln -s "$kdir" "$MODS/build"
  [ "$dkms_mode" = full ] || return 0
  # dkms builds with root's PATH, which must lead to the rustc that built the kernel (README
  # "Install"): the host's toolchain directory (rustc_bin, from the host part) comes first.
  local want
  want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="rustc \([^ "]*\).*/\1/p' "$kdir/.config")
  export PATH=$rustc_bin:$PATH
  [ "$(rustc --version | cut -d' ' -f2)" = "$want" ] ||
    { echo "rustc on PATH: '$(rustc --version 2>&1)', the kernel's: $want"; return 1; }
  mkdir -p /var/lib/dkms /usr/src
  cp -a "$T/src/ktcp-rs-$version" /usr/src/ &&
    cp -a "$T/dkms/ktcp-rs" /var/lib/dkms/ &&
    ln -sfn "/usr/src/ktcp-rs-$version" "/var/lib/dkms/ktcp-rs/$version/source" || return 1
  # What `dkms install` looks for (once missed: the copies were skipped and this still passed).
  [ -f "/usr/src/ktcp-rs-$version/dkms.conf" ] || { echo "no /usr/src/ktcp-rs-$version/dkms.conf"; return 1; }
  [ -f "/var/lib/dkms/ktcp-rs/$version/source/dkms.conf" ] ||
    { echo "/var/lib/dkms/ktcp-rs/$version/source does not lead to dkms.conf"; return 1; }
}
restore() {
  [ -n "${virtme_mods:-}" ] || return 0
  rm -rf "$MODS" && ln -s "$virtme_mods" "$MODS"
}

# installed_by_host: what the host's `dkms install` put in its install tree, here.
installed_by_host() {
  local ko
  mkdir -p "$MODS/updates" && cp -a "$T/installed/updates/dkms" "$MODS/updates/" || return 1
  depmod "$krel" || return 1
  for ko in kecho_rs khttpd_rs; do
    grep -q "^updates/dkms/$ko.ko:" "$MODS/modules.dep" || { echo "depmod: $ko not in modules.dep"; return 1; }
  done
}
dkms_install() {
  local ko
  if ! dkms install -m ktcp-rs -v "$version" -k "$krel"; then
    local log=/var/lib/dkms/ktcp-rs/$version/build/make.log
    # The whole log stays in the run directory; the end of it here.
    [ -f "$log" ] && { cp "$log" "${KTCP_OUT:-/tmp}/dkms-make.log"; echo "--- the end of $log:"; tail -n 25 "$log"; }
    return 1
  fi
  for ko in kecho_rs khttpd_rs; do
    [ -f "$MODS/updates/dkms/$ko.ko" ] || { echo "no $MODS/updates/dkms/$ko.ko"; return 1; }
    grep -q "^updates/dkms/$ko.ko:" "$MODS/modules.dep" || { echo "depmod: $ko not in modules.dep"; return 1; }
  done
}
dkms_status_is() {
  local st
  st=$(dkms status -m ktcp-rs -v "$version" -k "$krel")
  echo "note: dkms status: ${st:-(nothing)}"
  [[ $st == *"$krel"*": $1"* ]]
}
# modinfo by module name (found through modules.dep) shows dkms.conf's version.
modinfo_versions() {
  local m v
  for m in kecho_rs khttpd_rs; do
    v=$(modinfo -F version "$m") || return 1
    [ "$v" = "$version" ] || { echo "modinfo $m: version '$v', want '$version'"; return 1; }
  done
}

modprobe_khttpd() {
  local www=$TMPD/www body
  mkdir -p "$www" && chmod 755 "$www" && echo "served by a dkms-installed khttpd_rs" >"$www/dkms.txt" &&
    chmod 644 "$www/dkms.txt" || return 1
  echo "options khttpd_rs port=8090 root=$www" >/etc/modprobe.d/khttpd_rs.conf
  modprobe khttpd_rs || return 1
  param_eq khttpd_rs port 8090 && param_eq khttpd_rs root "$www" || return 1
  body=$(curl -sS --max-time 20 http://127.0.0.1:8090/dkms.txt) || return 1
  [ "$body" = "served by a dkms-installed khttpd_rs" ] || { echo "GET /dkms.txt: '$body'"; return 1; }
}
modprobe_kecho() {
  local fd line
  echo "options kecho_rs port=8091 idle_timeout=60" >/etc/modprobe.d/kecho_rs.conf
  modprobe kecho_rs || return 1
  param_eq kecho_rs port 8091 && param_eq kecho_rs idle_timeout 60 || return 1
  exec {fd}<>/dev/tcp/127.0.0.1/8091 || return 1
  printf 'ktcp-rs dkms echo\n' >&"$fd"
  read -r -t 20 line <&"$fd"
  exec {fd}<&-
  [ "$line" = "ktcp-rs dkms echo" ] || { echo "echo on 8091: '$line'"; return 1; }
}
# modprobe_r MODULE PORT: unloaded, and nothing listens on PORT any more.
modprobe_r() {
  modprobe -r "$1" || return 1
  [ ! -e "/sys/module/$1" ] || { echo "/sys/module/$1 still there"; return 1; }
  port_listening "$2"
  case $? in 1) ;; 0) echo "port $2 still listening"; return 1;; *) return 1;; esac
}
dkms_remove() {
  dkms remove -m ktcp-rs -v "$version" -k "$krel" || return 1
  ! ls "$MODS"/updates/dkms/*_rs.ko* 2>/dev/null || { echo "modules left in $MODS/updates/dkms"; return 1; }
  ! modinfo khttpd_rs >/dev/null 2>&1 || { echo "modinfo still finds khttpd_rs"; return 1; }
  ! dkms_status_is installed
}

check dkms/guest-setup setup
if [ "$dkms_mode" = full ]; then
  check dkms/install dkms_install
  check dkms/status-installed dkms_status_is installed
else
  check dkms/installed-by-host installed_by_host
fi
check dkms/modinfo-version modinfo_versions
check dkms/modprobe-khttpd modprobe_khttpd
check dkms/modprobe-r-khttpd modprobe_r khttpd_rs 8090
check dkms/modprobe-kecho modprobe_kecho
check dkms/modprobe-r-kecho modprobe_r kecho_rs 8091
if [ "$dkms_mode" = full ]; then check dkms/remove dkms_remove; fi
# After a failure: nothing left loaded for the suites after this one.
for m in khttpd_rs kecho_rs; do [ -e "/sys/module/$m" ] && modprobe -r "$m"; done
rm -f /etc/modprobe.d/khttpd_rs.conf /etc/modprobe.d/kecho_rs.conf
restore
end_plan
echo "guest: $(totals)"
