#!/usr/bin/env bash
# Takes the README's screenshots from the real app under Xvfb, on a demo data
# folder made with the real recording path: espeak-ng answers played into the
# virtual microphone, recorded, transcribed and analysed by `record
# --transcribe`. Self-grades are set as a user would; the earlier sessions
# are dated back a day or two so the progress view has a trend.
#   scripts/screenshots.sh            -> assets/screenshots/*.png
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh test
cargo build --release --locked
bin="$PWD/target/release/interview-coach"
model="$(scripts/test-model.sh "$bin")"
out="$PWD/assets/screenshots"
mkdir -p "$out"
data="$(mktemp -d)"
eval "$(scripts/virtual-mic.sh start)"
xvfb=""
cleanup() {
  [[ -n "$xvfb" ]] && kill "$xvfb" 2>/dev/null || true
  scripts/virtual-mic.sh stop
  rm -rf "$data"
}
trap cleanup EXIT

"$bin" --data-dir "$data" model use "$model" >/dev/null

answer() { # question, seconds, text, voice
  local wav="$data/say.wav"
  espeak-ng -v "$4" -s 150 -w "$wav" "$3"
  "$bin" --data-dir "$data" record --seconds "$2" --question "$1" --transcribe >/dev/null &
  local rec=$!
  sleep 1.5
  paplay -d virtmic "$wav"
  wait "$rec"
}

answer behavioral/q1-outage/incident 22 "So, um, at my previous company our checkout service had an outage on a Friday evening. We saw the error rate jump to forty percent. I was on call, so I led the response. I rolled back the deploy first, and we recovered in twelve minutes. Then I wrote a blameless post mortem and I added an alert on the payment error rate." en-us
answer phone-screen/scenarios/kafka-lag 16 "First I would check whether the consumer is CPU bound or blocked on the database. If it is blocked, I would scale consumers up to the partition count, and batch the writes. I would also look for a poison message." en-gb
answer phone-screen/go-fundamentals/channels 14 "An unbuffered channel is a synchronous handoff. A buffered channel decouples the producer and the consumer up to its capacity. Sending on a closed channel panics, and a nil channel blocks forever." en-us
# A retake of the same question, better: the review compares the two.
answer phone-screen/go-fundamentals/channels 18 "An unbuffered channel is a synchronous handoff: the send blocks until the receiver takes the value. A buffered channel decouples the producer and the consumer up to its capacity. A nil channel blocks forever, which is how you disable a select case. Sending on a closed channel panics, and a receive returns the zero value with ok false." en-us

# The user's self-grades, and the earlier sessions a day or two back.
python3 - "$data" <<'PY'
import json, sys, glob, datetime
data = sys.argv[1]
paths = sorted(glob.glob(f"{data}/sessions/*/session.json"))
grades = [{"ownership": "Senior", "communication": "Mid", "self-awareness": "Senior"},
          {"problem-solving": "Mid", "failure-thinking": "Junior"},
          {"go-depth": "Mid"},
          {"go-depth": "Senior"}]
for n, (path, g) in enumerate(zip(paths, grades)):
    s = json.load(open(path))
    back = datetime.timedelta(days=len(paths) - 1 - n)
    for key in ("started_at",):
        t = datetime.datetime.fromisoformat(s[key].replace("Z", "+00:00")) - back
        s[key] = t.isoformat().replace("+00:00", "Z")
    for a in s["answers"]:
        a["grades"] = g
        a["started_at"] = s["started_at"]
    s["ended_at"] = s["started_at"]
    s["reflection"] = "Lead with the mitigation and the numbers; keep the context to two sentences."
    json.dump(s, open(path, "w"), indent=2)
PY

start_xvfb() {
  Xvfb :97 -screen 0 1280x880x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  sleep 1
}
start_xvfb
# One screen: the app opened on it, its window captured. Xvfb has been seen
# to go away between apps; it is then started again and the screen retried.
shoot() {
  local screen="$1"
  kill -0 "$xvfb" 2>/dev/null || start_xvfb
  DISPLAY=:97 INTERVIEW_COACH_SCREEN="$screen" "$bin" --data-dir "$data" >"$data/app.log" 2>&1 &
  local app=$!
  sleep 7
  local window
  window="$(DISPLAY=:97 xdotool search --name '^interview-coach$' | head -1 || true)"
  if [[ -z "$window" ]]; then
    kill "$app" 2>/dev/null || true
    wait "$app" 2>/dev/null || true
    return 1
  fi
  DISPLAY=:97 import -window "$window" "$out/$screen.png"
  kill "$app"
  wait "$app" 2>/dev/null || true
  echo "wrote $out/$screen.png"
}
for screen in home review progress settings practice followup; do
  if ! shoot "$screen" && ! { sleep 2; shoot "$screen"; }; then
    echo "no window for the $screen screen; the app said:" >&2
    cat "$data/app.log" >&2
    exit 1
  fi
done
