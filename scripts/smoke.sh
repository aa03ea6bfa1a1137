#!/usr/bin/env bash
# Smoke test: the release binary opens its real window under Xvfb (software
# rendering), stays up, and draws something. Optional: a screenshot path.
#   scripts/smoke.sh [SCREENSHOT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/window-lib.sh
bin=target/release/interview-coach
shot="${1:-$(mktemp -d)/smoke.png}"
data="$(mktemp -d)"
cleanup() {
  window_stop
  rm -rf "$data"
}
trap cleanup EXIT
window_start_xvfb 90
window_run "$data/app.log" "${SMOKE_SECONDS:-8}" "$bin" --data-dir "$data" || { echo "smoke: failed" >&2; exit 1; }
colours="$(window_screenshot "$shot")" || { echo "smoke: failed" >&2; exit 1; }
echo "smoke: the app runs and draws ($colours colours); screenshot $shot"
