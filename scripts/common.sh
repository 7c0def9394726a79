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

# new_run_dir BASE: a new directory BASE/<time>-<pid>/ for one run, with BASE/last pointing
# at it. Runs in progress each have their own, so several can run at once; the newest
# KTCP_KEEP_RUNS (default 5) are kept, and none that is still running is removed.
new_run_dir() {
  local base=$1 dir old n=0
  dir=$base/$(date +%Y%m%d-%H%M%S)-$$
  mkdir -p "$dir"
  echo $$ >"$dir/run.pid"
  ln -sfn "$(basename "$dir")" "$base/last.tmp.$$" && mv -T "$base/last.tmp.$$" "$base/last"
  for old in $(ls -1d "$base"/[0-9]*-[0-9]* 2>/dev/null | sort -r); do
    [ "$old" = "$dir" ] && continue
    # Still running: its owner is alive and it has no status yet.
    if [ ! -f "$old/rc" ] && kill -0 "$(cat "$old/run.pid" 2>/dev/null || echo 0)" 2>/dev/null; then continue; fi
    n=$((n + 1))
    [ "$n" -ge "${KTCP_KEEP_RUNS:-5}" ] && rm -rf "$old"
  done
  echo "$dir"
}

# vm_run_dir FLAVOUR: a new build/vm-FLAVOUR/<time>-<pid>/ for one guest run (see vm.sh).
vm_run_dir() { new_run_dir "$KTCP_ROOT/build/vm-$1"; }

# use_kernel_rustc KDIR: the modules must be built by the rustc that built the kernel in KDIR
# (its CONFIG_RUSTC_VERSION_TEXT): with rustup, that toolchain (RUSTUP_TOOLCHAIN); without it,
# the rustc on PATH must be that version. Our own guest kernels use RUST_TOOLCHAIN.
use_kernel_rustc() {
  local want have
  want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="rustc \([^ "]*\).*/\1/p' "$1/.config" 2>/dev/null)
  [ -n "$want" ] || die "$1/.config has no CONFIG_RUSTC_VERSION_TEXT: not a Rust-enabled (CONFIG_RUST=y) 6.12+ kernel tree"
  if command -v rustup >/dev/null; then
    rustup run "$want" rustc --version >/dev/null 2>&1 ||
      die "$1 was built with rustc $want: rustup toolchain install $want --profile minimal"
    export RUSTUP_TOOLCHAIN=$want
  else
    have=$(rustc --version 2>/dev/null | cut -d' ' -f2)
    [ "$have" = "$want" ] || die "$1 was built with rustc $want, the rustc on PATH is ${have:-missing}"
  fi
}

# kernel_src: the extracted kernel source tree (its .rustfmt.toml is the format of src/).
kernel_src() { echo "$CACHE/src/linux-$(dpkg-query -W -f='${Version}' "linux-source-$KVER")"; }
# has_candidate PKG: apt knows a version of PKG to install. (Not a pipe into grep -q: under
# pipefail, grep's early exit kills apt-cache with SIGPIPE and the pipe reads as a failure.)
has_candidate() {
  local policy
  policy=$(apt-cache policy "$1" 2>/dev/null)
  [[ $policy == *"Candidate: "[0-9]* ]]
}
# kernel_rustfmt_toml: the kernel's .rustfmt.toml, from the extracted tree or, before the first
# kernel build has extracted it (a fresh clone's make check formats first), read from the
# tarball (its first occurrence only: seconds less than decompressing it all) into a file
# named after the source package's version.
kernel_rustfmt_toml() {
  local src f tmp
  src=$(kernel_src); f=$src.rustfmt.toml
  if [ -f "$src/.rustfmt.toml" ]; then echo "$src/.rustfmt.toml"; return; fi
  if [ ! -s "$f" ]; then
    mkdir -p "$CACHE/src" && tmp=$(mktemp "$f.XXXXXX") || return 1
    if tar -xJOf "/usr/src/linux-source-$KVER.tar.xz" --occurrence=1 "linux-source-$KVER/.rustfmt.toml" >"$tmp" &&
       [ -s "$tmp" ]; then
      mv -f "$tmp" "$f"
    else
      rm -f "$tmp"; echo "no .rustfmt.toml in /usr/src/linux-source-$KVER.tar.xz" >&2; return 1
    fi
  fi
  echo "$f"
}

# tally_guest COUNTS SCRIPT: folds a guest run's counts file into the caller's totals (its
# `count` and `item` functions): every pass and fail; the top script's own plan (each script
# under it was checked by run_script); every skip, allowed only where README.md says why.
tally_guest() {
  local counts=$1 top=$2 planned units ended why name
  if [ ! -f "$counts" ]; then item guest/plan 1 "the guest wrote no counts ($counts)"; return; fi
  count "$(grep -c '^pass ' "$counts")" "$(grep -c '^fail ' "$counts")"
  read -r planned units ended < <(awk -v s="$top" '$2 == s && $1 == "plan" { p = $3 } $2 == s && $1 == "unit" { u++ }
    $2 == s && $1 == "end" { e++ } END { print p + 0, u + 0, e + 0 }' "$counts")
  [ "$planned" -gt 0 ] && [ "$units" = "$planned" ] && [ "$ended" = 1 ]
  item guest/plan $? "$top.sh ran $units of $planned planned steps (end reached: $ended)"
  while read -r _ _ name; do
    if why=$(bash "$KTCP_ROOT/scripts/allowed-skips.sh" "$KTCP_ROOT/README.md" "$name"); then
      count 0 0 1; echo "SKIP $name (allowed: $why)"
    else
      item "skip/$name" 1 "skipped, and README.md does not say it may be"
    fi
  done < <(grep '^skip ' "$counts")
  # Long tests left to make soak (LONG=0): named, counted, shown beside the summary.
  MOVED_N=$(grep -c '^moved ' "$counts")
  [ "$MOVED_N" = 0 ] || echo "moved to make soak (long tests): $(awk '$1 == "moved" { printf "%s ", $3 }' "$counts")"
}
