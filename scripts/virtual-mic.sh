#!/usr/bin/env bash
# A virtual microphone for tests on machines without a sound card: a private
# PulseAudio daemon with a null sink "virtmic" whose monitor is the default
# source. Speech played into it with `paplay -d virtmic FILE.wav` is what the
# app records through ALSA's "default" device (routed to PulseAudio).
#
#   eval "$(scripts/virtual-mic.sh start)"   # exports PULSE_SERVER and friends
#   scripts/virtual-mic.sh stop
set -euo pipefail

state_dir="${VIRTUAL_MIC_DIR:-${TMPDIR:-/tmp}/interview-coach-virtmic-$(id -u)}"

start() {
  stop >/dev/null 2>&1 || true
  mkdir -p "$state_dir/runtime" "$state_dir/home"
  chmod 700 "$state_dir/runtime"
  local socket="$state_dir/runtime/native"
  cat >"$state_dir/default.pa" <<PA
load-module module-native-protocol-unix auth-anonymous=1 socket=$socket
load-module module-null-sink sink_name=virtmic rate=48000 channels=1
set-default-source virtmic.monitor
set-default-sink virtmic
PA
  # A private daemon: its own runtime dir, home and config, no autospawn.
  export XDG_RUNTIME_DIR="$state_dir/runtime" HOME="$state_dir/home" PULSE_RUNTIME_PATH="$state_dir/runtime"
  pulseaudio --daemonize=yes --disallow-exit --exit-idle-time=-1 --disable-shm=yes -n \
    -F "$state_dir/default.pa" --use-pid-file=yes --log-target=file:"$state_dir/pulse.log" >&2
  for _ in $(seq 50); do
    [[ -S "$socket" ]] && break
    sleep 0.1
  done
  [[ -S "$socket" ]] || { echo "virtual-mic: PulseAudio did not start; see $state_dir/pulse.log" >&2; exit 1; }
  # Keep the sink running with silence, or the first second of audio is lost.
  PULSE_SERVER="unix:$socket" nohup pacat --playback -d virtmic --raw --format=s16le --rate=48000 --channels=1 /dev/zero \
    >/dev/null 2>&1 &
  echo $! >"$state_dir/keepalive.pid"
  sleep 3
  echo "export PULSE_SERVER=unix:$socket"
  echo "export VIRTUAL_MIC_SINK=virtmic"
}

stop() {
  if [[ -f "$state_dir/keepalive.pid" ]]; then
    kill "$(cat "$state_dir/keepalive.pid")" 2>/dev/null || true
    rm -f "$state_dir/keepalive.pid"
  fi
  local pidfile="$state_dir/runtime/pid"
  if [[ -f "$pidfile" ]]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
  XDG_RUNTIME_DIR="$state_dir/runtime" HOME="$state_dir/home" PULSE_RUNTIME_PATH="$state_dir/runtime" \
    pulseaudio --kill 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
