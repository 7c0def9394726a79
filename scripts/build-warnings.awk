# Counts the distinct warnings of a module build log: "CLIPPY OTHER". Rustc's diagnostics
# come one paragraph each; a warning met twice (a shared file compiled into both modules)
# counts once; "N warnings emitted" summaries are not warnings; a paragraph naming clippy is
# the linter's. Usage: awk -f scripts/build-warnings.awk build.log
BEGIN { RS = "" }
{
  n = split($0, line, "\n"); head = ""; loc = ""
  for (i = 1; i <= n; i++) {
    if (line[i] ~ /warning: [0-9]+ warnings? (emitted|generated)/) continue
    if (head == "" && tolower(line[i]) ~ /warning:/) head = line[i]
    if (loc == "" && line[i] ~ /--> /) loc = line[i]
  }
  if (head == "" || seen[head loc]++) next
  if ($0 ~ /clippy/) clippy++; else other++
}
END { print clippy + 0, other + 0 }
