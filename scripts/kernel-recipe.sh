# The kernel build recipe, sourced by kernel.sh with $src (extracted source), $out (build
# directory), $flavour and $frags set. Its text is part of the kernel cache key: any change
# here builds the kernels anew.
mkdir -p "$out"
log=$out/build.log
: >"$log"
# failed STEP: the end of the build log and where the rest is, then exit.
failed() {
  echo "--- last 30 lines of $log:"
  tail -n 30 "$log"
  die "kernel $flavour: $1 failed (full log: $log)"
}
mk() { make -C "$src" O="$out" -j"$(nproc)" "$@" >>"$log" 2>&1; }

stage "kernel $flavour: configuring (log: $log)"
mk rustavailable || failed "'make rustavailable' (the Rust toolchain is not usable for the kernel)"
mk allnoconfig || failed "'make allnoconfig'"
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >>"$log" 2>&1 ||
  failed "merging the config fragments"
mk olddefconfig || failed "'make olddefconfig'"
# Every option the fragments ask for must have survived olddefconfig.
missing=$(grep -h '^CONFIG_' "${frags[@]}" | while IFS= read -r line; do
  grep -qxF "$line" "$out/.config" || echo "$line"; done)
[ -z "$missing" ] || die "config options dropped by Kconfig (unmet dependencies):
$missing"

stage "kernel $flavour: building with $(nproc) jobs (a progress line every 30 s)"
last=$SECONDS
# In an `if`, a failing make neither trips errexit nor hides its log tail.
if ! make -C "$src" O="$out" -j"$(nproc)" all 2>&1 | tee -a "$log" | while IFS= read -r line; do
  if (( SECONDS - last >= 30 )); then
    last=$SECONDS; stage "kernel $flavour: ${line:0:90}"
  fi
done; then
  failed "the build"
fi
[ -f "$image" ] || failed "the build (no $image)"
touch "$out/.ktcp-built"
stage "kernel $flavour: built at $out"
