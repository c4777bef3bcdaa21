#!/usr/bin/env bash
# Figures for the cluster target, on a real kube-apiserver and
# kube-controller-manager (envtest) with gwlab's reference gateway standing in
# for Kong (statuses within tens of milliseconds, a kubelet that makes Pods
# ready at once), so that what is measured is gwlab and the API server:
#   - wall time of `gwlab test scenarios/` on the lab, with per-phase medians
#   - time from SIGINT to exit
#   - the same scenarios and a two-Gateway one with the stand-in isolated
#     (each Gateway on its own address) and shared (as Kong 3.9)
#   - one scenario alone, back to back and spaced out
#   - 200 generated scenarios eight at a time: wall, p50/p99 per scenario,
#     API requests per scenario, gwlab's peak memory (/usr/bin/time -v)
# Needs etcd on PATH and GWLAB_TEST_ASSETS (or KUBEBUILDER_ASSETS) naming a
# directory with kube-apiserver and kube-controller-manager.
# Usage: bench/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${GWLAB_TEST_ASSETS:-${KUBEBUILDER_ASSETS:-}}" ] && [ -d ../shared/envtest/bin ]; then
  export GWLAB_TEST_ASSETS="$(cd ../shared/envtest/bin && pwd)"
fi
cargo test --release --quiet --test cluster bench_ -- --ignored --nocapture --test-threads 1 2>&1 \
  | grep -v -e '^running ' -e '^test result' -e '^$' -e '^test bench'
