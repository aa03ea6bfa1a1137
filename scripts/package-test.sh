#!/usr/bin/env bash
# The package as a user gets it: builds it, installs it with apt (which
# brings its dependencies), validates the launcher entry, starts the
# installed program under Xvfb as a new user would and takes a screenshot,
# starts it again with a data folder it cannot write (it must say so and
# still run), then removes the package and checks the user's data is kept.
#   scripts/package-test.sh [SCREENSHOT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
shot="${1:-$(mktemp -d)/first-start.png}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi
if ! command -v desktop-file-validate >/dev/null; then
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends desktop-file-utils
fi

deb="$(scripts/package.sh | tail -1)"
echo "package-test: installing $deb"
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "./$deb" >/dev/null
desktop-file-validate /usr/share/applications/interview-coach.desktop
test -f /usr/share/icons/hicolor/256x256/apps/interview-coach.png
test -f /usr/share/icons/hicolor/scalable/apps/interview-coach.svg

home="$(mktemp -d)"
source scripts/window-lib.sh
cleanup() {
  window_stop
  rm -rf "$home"
}
trap cleanup EXIT
window_start_xvfb 80

# A new user: no data folder yet, started from the menu (no arguments).
run_app() { # log, extra args...
  local log="$1"
  shift
  window_run "$log" "${PACKAGE_TEST_SECONDS:-8}" \
    env -u INTERVIEW_COACH_DATA_DIR -u XDG_DATA_HOME HOME="$home" /usr/bin/interview-coach "$@" || {
    echo "package-test: the installed app failed" >&2
    exit 1
  }
}
run_app "$home/first.log"
colours="$(window_screenshot "$shot")" || { echo "package-test: the installed app drew nothing" >&2; exit 1; }
window_close
data="$home/.local/share/interview-coach"
test -d "$data" || { echo "package-test: no data folder was made at $data" >&2; exit 1; }

# A data folder that cannot be written: said on stderr, and the app runs.
touch "$home/not-a-folder"
run_app "$home/unwritable.log" --data-dir "$home/not-a-folder/data"
window_close
grep -q "cannot be written" "$home/unwritable.log" || {
  echo "package-test: an unwritable data folder was not reported:" >&2
  cat "$home/unwritable.log" >&2
  exit 1
}

DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get remove -y -qq interview-coach >/dev/null
if [[ -e /usr/bin/interview-coach ]]; then
  echo "package-test: /usr/bin/interview-coach is still there after removal" >&2
  exit 1
fi
test -d "$data" || { echo "package-test: removing the package removed the user's data" >&2; exit 1; }
echo "package-test: installed, started ($colours colours; screenshot $shot), removed; the data folder is kept"
