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

# vm_run_dir FLAVOUR: a new directory for one guest run, build/vm-FLAVOUR/<time>-<pid>/, with
# build/vm-FLAVOUR/last pointing at it. Runs in progress each have their own directory, so
# several guests can run at once; the newest KTCP_KEEP_RUNS (default 5) finished runs are kept.
vm_run_dir() {
  local base=$KTCP_ROOT/build/vm-$1 dir old n=0
  dir=$base/$(date +%Y%m%d-%H%M%S)-$$
  mkdir -p "$dir"
  echo $$ >"$dir/vm.pid"
  ln -sfn "$(basename "$dir")" "$base/last.tmp" && mv -T "$base/last.tmp" "$base/last"
  for old in $(ls -1d "$base"/[0-9]*-[0-9]* 2>/dev/null | sort -r); do
    [ "$old" = "$dir" ] && continue
    # Still running: its owner is alive and it has no status yet.
    if [ ! -f "$old/rc" ] && kill -0 "$(cat "$old/vm.pid" 2>/dev/null || echo 0)" 2>/dev/null; then continue; fi
    n=$((n + 1))
    [ "$n" -ge "${KTCP_KEEP_RUNS:-5}" ] && rm -rf "$old"
  done
  echo "$dir"
}
