#!/usr/bin/env bash
# The screenshots in docs/images: the HTML report of the showcase fixture
# (tests/fixtures/report-showcase: one failed probe, one split, one route not
# attached), rendered by headless Chromium in light and dark mode.
#
# Usage: scripts/report-screenshots.sh   (needs `chromium`: apt-get install -y chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --quiet
# The fixture fails on purpose: exit code 1 is expected.
./target/debug/gwlab test tests/fixtures/report-showcase --html "$work/report.html" >/dev/null || [ $? -eq 1 ]
for scheme in light dark; do
  flags=()
  [ "$scheme" = dark ] && flags=(--force-dark-mode)
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$work/profile" --window-size=1000,1280 "${flags[@]}" \
    --screenshot="docs/images/report-showcase-$scheme.png" "file://$work/report.html" 2>/dev/null
done
ls -l docs/images/report-showcase-*.png
