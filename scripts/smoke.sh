#!/usr/bin/env bash
# Smoke test: the release binary opens its real window under Xvfb (software
# rendering), stays up, and draws something. Optional: a screenshot path.
#   scripts/smoke.sh [SCREENSHOT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/interview-coach
shot="${1:-$(mktemp -d)/smoke.png}"
data="$(mktemp -d)"
display=":$((90 + RANDOM % 9))"
Xvfb "$display" -screen 0 1280x860x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
app=""
cleanup() {
  [[ -n "$app" ]] && kill "$app" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
sleep 1
DISPLAY="$display" WAYLAND_DISPLAY= "$bin" --data-dir "$data" >"$data/app.log" 2>&1 &
app=$!
sleep "${SMOKE_SECONDS:-8}"
if ! kill -0 "$app" 2>/dev/null; then
  echo "smoke: the app exited early:" >&2
  cat "$data/app.log" >&2
  exit 1
fi
DISPLAY="$display" import -window root "$shot"
# A window that drew its UI has many colours; a blank screen has one.
colours=$(convert "$shot" -format %k info:)
if (( colours < 16 )); then
  echo "smoke: the screen is blank ($colours colours)" >&2
  exit 1
fi
echo "smoke: the app runs and draws ($colours colours); screenshot $shot"
