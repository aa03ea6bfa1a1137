# Shared by scripts/smoke.sh and scripts/package-test.sh: a headless X
# server, the app started in it, and a screenshot that must show a drawn UI.
# Source it; it sets `display`, `xvfb` and `app`.

# Starts Xvfb on a free-ish display numbered from $1 (e.g. 80 or 90).
window_start_xvfb() {
  display=":$(($1 + RANDOM % 9))"
  Xvfb "$display" -screen 0 1280x860x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  app=""
  sleep 1
}

window_stop() {
  [[ -n "${app:-}" ]] && kill "$app" 2>/dev/null || true
  [[ -n "${xvfb:-}" ]] && kill "$xvfb" 2>/dev/null || true
}

# Runs a command (the app) on the display for $2 seconds, logging to $1;
# fails with the log if it exits early. Usage: window_run LOG SECONDS CMD...
window_run() {
  local log="$1" seconds="$2"
  shift 2
  DISPLAY="$display" WAYLAND_DISPLAY= "$@" >"$log" 2>&1 &
  app=$!
  sleep "$seconds"
  if ! kill -0 "$app" 2>/dev/null; then
    echo "the app exited early:" >&2
    cat "$log" >&2
    return 1
  fi
}

# Stops the app started by window_run.
window_close() {
  [[ -n "${app:-}" ]] && { kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; }
  app=""
}

# Screenshots the display to $1 and prints its colour count; a window that
# drew its UI has many colours, a blank screen one.
window_screenshot() {
  DISPLAY="$display" import -window root "$1"
  local colours
  colours=$(convert "$1" -format %k info:)
  if ((colours < 16)); then
    echo "the screen is blank ($colours colours)" >&2
    return 1
  fi
  echo "$colours"
}
