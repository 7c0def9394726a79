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
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "$@" 2>&1 |
    grep --line-buffered -E '^(Get:|Setting up|E:)' | sed -u 's/^/  apt: /'
}

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  stage "apt: updating the package lists"
  $SUDO apt-get update -qq
  # Debian 12 ships 6.12 sources in bookworm-backports (and, on some mirrors, bookworm-security).
  if [[ " ${missing[*]} " == *" linux-source-$KVER "* ]] &&
     ! apt-cache policy "linux-source-$KVER" | grep -q 'Candidate: [0-9]'; then
    stage "apt: linux-source-$KVER not found; enabling bookworm-backports"
    echo "deb http://deb.debian.org/debian bookworm-backports main" |
      $SUDO tee /etc/apt/sources.list.d/ktcp-rs-bookworm-backports.list >/dev/null
    $SUDO apt-get update -qq
    apt-cache policy "linux-source-$KVER" | grep -q 'Candidate: [0-9]' ||
      die "linux-source-$KVER is in neither the configured repositories nor bookworm-backports"
  fi
  stage "apt: installing ${missing[*]} (a few minutes on a fresh machine)"
  apt_install "${missing[@]}"
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
if ! rustup toolchain list | grep -q "^$RUST_TOOLCHAIN"; then
  stage "rustup: installing $RUST_TOOLCHAIN"
  rustup toolchain install "$RUST_TOOLCHAIN" --profile minimal -c clippy -c rustfmt
fi
if ! rustup component list --toolchain "$RUST_TOOLCHAIN" --installed | grep -q '^rust-src'; then
  stage "rustup: adding rust-src"
  rustup component add rust-src --toolchain "$RUST_TOOLCHAIN"
fi
for c in clippy rustfmt; do
  rustup component list --toolchain "$RUST_TOOLCHAIN" --installed | grep -q "^$c" ||
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
