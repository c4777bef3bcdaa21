#!/usr/bin/env bash
# Figures for the embedded target, on a release build:
#   - wall time and peak memory of `gwlab test scenarios/`
#   - wall time of one 1000-sample and one 10000-sample split probe (the canary
#     scenario with that many samples), and the power each states
# Usage: bench/run.sh [runs]   (default 5 runs each; prints the median)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet
bin=target/release/gwlab
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for i in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -o "$tmp/t" "$bin" test scenarios/ --quiet >/dev/null
  cat "$tmp/t"
done > "$tmp/suite"
echo "gwlab test scenarios/: median $(cut -d' ' -f1 "$tmp/suite" | median) s wall, $(cut -d' ' -f2 "$tmp/suite" | median) KB peak RSS over $runs runs"

# One split probe of N samples (the canary scenario with samples: N), median
# over the runs, with the power statement the run printed.
split_probe() {
  local samples=$1
  mkdir -p "$tmp/split-$samples"
  cp scenarios/canary/route.yaml "$tmp/split-$samples/"
  sed "s/samples: 400/samples: $samples/" scenarios/canary/scenario.yaml > "$tmp/split-$samples/scenario.yaml"
  for i in $(seq "$runs"); do
    "$bin" test "$tmp/split-$samples" --quiet --json "$tmp/r.json" >/dev/null || true
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); p=[c for c in r["scenarios"][0]["checks"] if c["kind"]=="probe"][0]; print(p["durationSeconds"], p["detail"]["requests"], "passed" if p["passed"] else "failed")' "$tmp/r.json"
  done > "$tmp/split-$samples.txt"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print([c for c in r["scenarios"][0]["checks"] if c["kind"]=="probe"][0]["power"])' "$tmp/r.json" > "$tmp/power-$samples.txt"
  echo "$samples-sample split probe: median $(cut -d' ' -f1 "$tmp/split-$samples.txt" | median) s for $(head -1 "$tmp/split-$samples.txt" | cut -d' ' -f2) requests over $runs runs ($(grep -c passed "$tmp/split-$samples.txt") passed)"
  echo "  $(cat "$tmp/power-$samples.txt")"
}

split_probe 1000
split_probe 10000
