#!/usr/bin/env bash
# Install everything a fresh Debian 12 machine lacks to build and test ktcp-rs.
# Idempotent: a second run checks and returns in seconds without touching the network.
source "$(dirname "$0")/common.sh"

APT_PKGS=(
  linux-source-6.12 build-essential clang libclang-dev lld llvm flex bison bc
  libelf-dev libssl-dev dwarves busybox-static cpio kmod xz-utils zstd rsync
  qemu-system-x86 udev python3 python3-venv curl wrk apache2-utils nginx-light
  fonts-dejavu-core procps iproute2
)

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  stage "apt: installing ${missing[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # nginx-light starts a system nginx on port 80; we only use its binary.
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
fi

command -v rustup >/dev/null || die "rustup not found: install Rust with rustup first"
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
  cargo install --locked bindgen-cli --version 0.73.1 -q
fi
if [ ! -x "$VENV/bin/vng" ]; then
  stage "pip: installing virtme-ng into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q virtme-ng
fi
[ -x "$VENV/bin/redbot" ] || { stage "pip: installing redbot (HTTP linter, guest hardening test)"; "$VENV/bin/pip" install -q redbot==2.7.1; }
stage "setup complete"
