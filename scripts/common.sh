# Shared settings for the ktcp-rs scripts; sourced, never run.
# shellcheck shell=bash
set -euo pipefail

KTCP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${KTCP_CACHE:-$HOME/.cache/ktcp-rs}
KVER=6.12
RUST_TOOLCHAIN=1.95.0
VENV=$CACHE/venv
export RUSTUP_TOOLCHAIN=$RUST_TOOLCHAIN
export PATH=$HOME/.cargo/bin:$VENV/bin:$PATH
mkdir -p "$CACHE"

T0=${T0:-$(date +%s)}
stage() { printf '[%4ds] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
