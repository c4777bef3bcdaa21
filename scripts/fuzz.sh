#!/usr/bin/env bash
# A longer run of gwlab's own fuzzer (tests/fuzz.rs) than the short budget
# `cargo test` runs: mutants of the repository's scenarios and migrate inputs
# for SECONDS, from SEED (default: the time).
#
# Usage: scripts/fuzz.sh SECONDS [SEED] [--debug]
#   --debug  use the debug build `cargo test` already made (no release build)
#
# Each failing case is kept in target/fuzz-failures/<kind>-<seed>-<case>/ with
# WHY.txt. To keep one as a regression case: put its scenario directory at
# tests/fuzz/regressions/scenario-<what>/ (or its input.yaml at
# tests/fuzz/regressions/migrate-<what>.yaml), with a first line saying
# `# expect: bad input` or `# expect: accepted` and what was found; then fix it.
# Reproduce one case: GWLAB_FUZZ_SEED=SEED GWLAB_FUZZ_CASE=N cargo test --test fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [SEED] [--debug]}
seed=${2:-$(date +%s)}
profile=(--release)
if [ "${3:-}" = "--debug" ] || [ "${2:-}" = "--debug" ]; then
  profile=()
  [ "${2:-}" = "--debug" ] && seed=$(date +%s)
fi
echo "fuzzing for ${seconds}s from seed ${seed}"
GWLAB_FUZZ_SEED=$seed GWLAB_FUZZ_SECONDS=$seconds \
  cargo test "${profile[@]}" --test fuzz mutants_of_the_repository_inputs -- --nocapture
