#!/usr/bin/env bash
# Install everything a fresh Debian 12 machine lacks to build and test ktcp-rs.
# Idempotent: a second run checks and returns in seconds without touching the network.
source "$(dirname "$0")/common.sh"

APT_PKGS=(
  linux-source-6.12 build-essential clang libclang-dev lld llvm flex bison bc
  libelf-dev libssl-dev dwarves busybox-static cpio kmod xz-utils zstd rsync
  qemu-system-x86 udev python3 python3-venv curl wrk apache2-utils nginx-light
  fonts-dejavu-core procps iproute2 libseccomp-dev libcap-ng-dev pkg-config dkms
  trace-cmd linux-perf
)

VIRTME_NG_VERSION=1.42
# virtiofsd (not packaged for Debian 12) shares the host's root with the guest: with it the
# guest caches what it reads (binaries, the modules, Python), where 9p reads every file anew.
VIRTIOFSD_VERSION=1.14.0

# apt_install PKG...: installs with one progress line per package fetched and set up.
apt_install() {
  # Waits up to 5 minutes for apt's lock (apt-daily on a machine that just booted).
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
    -o DPkg::Lock::Timeout=300 "$@" 2>&1 |
    grep --line-buffered -E '^(Get:|Setting up|E:)' | sed -u 's/^/  apt: /'
}

# apt_update: apt-get update, retried while it could not fetch or could not take apt's lock (a
# network not up yet, apt-daily running on a machine that just booted). Any other failure (no
# sudo, a bad clock, an unsigned repository) stops here with apt's own words. After the
# retries: no source reached at all (no Hit:/Get: line) or a failing status stops here,
# pointing at the network; some sources still failing is only a warning, since has_candidate
# and apt_install stop the script if what this project needs cannot be installed.
apt_update() {
  local try out rc
  for try in 1 2 3 4 5; do
    rc=0
    out=$($SUDO env LC_ALL=C apt-get update -q -o Acquire::Retries=3 -o DPkg::Lock::Timeout=60 2>&1) || rc=$?
    if ! grep -qE '^(W|E): (Failed to fetch|Some index files failed)|^E: Could not get lock' <<<"$out"; then
      [ "$rc" = 0 ] && return 0
      printf '%s\n' "$out" | tail -n 5 >&2
      die "apt-get update failed (status $rc)"
    fi
    ((try < 5)) || break
    stage "apt: package lists not fetched, or apt busy (try $try of 5); retrying in $((try * 5)) s"
    sleep $((try * 5))
  done
  grep -E '^(W|E):' <<<"$out" | head -n 5 >&2
  grep -qE '^(Hit|Get):' <<<"$out" ||
    die "apt-get update reached no package source after 5 tries; check the network or the mirror in /etc/apt/sources.list*"
  [ "$rc" = 0 ] || die "apt-get update failed (status $rc) after 5 tries; check the network or the mirror in /etc/apt/sources.list*"
  stage "apt: warning: some package lists could not be fetched (above); going on with the rest"
}

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  stage "apt: updating the package lists"
  apt_update
  # Debian 12 ships 6.12 sources in bookworm-backports (and, on some mirrors, bookworm-security).
  if [[ " ${missing[*]} " == *" linux-source-$KVER "* ]] &&
     ! has_candidate "linux-source-$KVER"; then
    stage "apt: linux-source-$KVER not found; enabling bookworm-backports"
    echo "deb http://deb.debian.org/debian bookworm-backports main" |
      $SUDO tee /etc/apt/sources.list.d/ktcp-rs-bookworm-backports.list >/dev/null
    apt_update
    has_candidate "linux-source-$KVER" ||
      die "linux-source-$KVER is in neither the configured repositories nor bookworm-backports"
  fi
  # A machine whose qemu-utils came from bookworm-backports (qemu 10) cannot take bookworm's
  # qemu-system-x86 (7.2 breaks with it): take qemu-system-x86 from backports too.
  qemu_from=()
  if [[ " ${missing[*]} " == *" qemu-system-x86 "* ]] &&
     [[ $(dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null) == *bpo12* ]]; then
    missing=("${missing[@]/qemu-system-x86/}")
    qemu_from=(-t bookworm-backports qemu-system-x86)
    # What apt sees, not what the files say (a commented or disabled backports line).
    policy=$(apt-cache policy qemu-system-x86 2>/dev/null)
    if [[ $policy != *bpo12* ]]; then
      echo "deb http://deb.debian.org/debian bookworm-backports main" |
        $SUDO tee /etc/apt/sources.list.d/ktcp-rs-bookworm-backports.list >/dev/null
      apt_update
    fi
  fi
  read -r -a missing <<<"${missing[*]}"
  stage "apt: installing ${missing[*]}${qemu_from[*]:+${missing[*]:+ and }${qemu_from[*]: -1} from bookworm-backports (as qemu-utils)} (a few minutes on a fresh machine)"
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
  ((${#qemu_from[@]} == 0)) || apt_install "${qemu_from[@]}"
  missing+=("${qemu_from[@]: -1}")
  for p in "${missing[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || die "apt could not install $p"
  done
  # nginx-light starts a system nginx on port 80; we only use its binary.
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
fi

if ! command -v rustup >/dev/null; then
  die "rustup not found. Install it (as the user who runs make), then run make again:
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain none
  . \"\$HOME/.cargo/env\"
(this script then installs the pinned toolchain $RUST_TOOLCHAIN with clippy, rustfmt and rust-src)"
fi
# (Lists are read whole before grep: see has_candidate in common.sh.)
if ! grep -q "^$RUST_TOOLCHAIN" <<<"$(rustup toolchain list)"; then
  stage "rustup: installing $RUST_TOOLCHAIN"
  rustup toolchain install "$RUST_TOOLCHAIN" --profile minimal -c clippy -c rustfmt
fi
installed=$(rustup component list --toolchain "$RUST_TOOLCHAIN" --installed) ||
  die "rustup component list --toolchain $RUST_TOOLCHAIN failed"
if ! grep -q '^rust-src' <<<"$installed"; then
  stage "rustup: adding rust-src"
  rustup component add rust-src --toolchain "$RUST_TOOLCHAIN"
fi
for c in clippy rustfmt; do
  grep -q "^$c" <<<"$installed" ||
    rustup component add "$c" --toolchain "$RUST_TOOLCHAIN"
done
if ! command -v bindgen >/dev/null; then
  stage "cargo: installing bindgen-cli"
  cargo install --locked bindgen-cli --version 0.73.1 2>&1 |
    grep --line-buffered -E '^ *(Compiling|Installed|error)' | sed -u 's/^ */  cargo: /'
  command -v bindgen >/dev/null || die "cargo install bindgen-cli failed"
fi
if ! "$CACHE/virtiofsd/bin/virtiofsd" --version 2>/dev/null | grep -qx "virtiofsd $VIRTIOFSD_VERSION"; then
  stage "cargo: installing virtiofsd $VIRTIOFSD_VERSION into $CACHE/virtiofsd (a few minutes)"
  cargo install --locked virtiofsd --version "$VIRTIOFSD_VERSION" --root "$CACHE/virtiofsd" 2>&1 |
    grep --line-buffered -E '^ *(Compiling|Installed|error)' | sed -u 's/^ */  cargo: /'
  [ -x "$CACHE/virtiofsd/bin/virtiofsd" ] ||
    stage "warning: cargo install virtiofsd failed: guest runs share the root over 9p (slower)"
fi
if ! compgen -G "$VENV/lib/python3*/site-packages/virtme_ng-$VIRTME_NG_VERSION.dist-info" >/dev/null; then
  stage "pip: installing virtme-ng $VIRTME_NG_VERSION into $VENV"
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --progress-bar off "virtme-ng==$VIRTME_NG_VERSION" 2>&1 |
    grep --line-buffered -E '^(Collecting|Successfully|ERROR)' | sed -u 's/^/  pip: /'
  [ -x "$VENV/bin/vng" ] || die "pip could not install virtme-ng $VIRTME_NG_VERSION"
fi
[ -x "$VENV/bin/redbot" ] || { stage "pip: installing redbot (HTTP linter, guest hardening test)"; "$VENV/bin/pip" install -q redbot==2.7.1; rm -f "$CACHE/redbot-bundle.tar"; }
[ -f "$CACHE/redbot-bundle.tar" ] || "$VENV/bin/python3" "$KTCP_ROOT/scripts/redbot-bundle.py" "$CACHE/redbot-bundle.tar"
stage "setup complete"
