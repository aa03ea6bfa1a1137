#!/usr/bin/env bash
# The PyPI filler tool erm 0.4.0 (with faster-whisper) in .cache/erm-venv,
# for the side-by-side rows of the prompt evaluation (benches/prompt_eval.rs
# runs scripts/erm-detect.py on the same audio and tiny.en weights).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/erm-venv
if [[ -x $venv/bin/python ]] && "$venv/bin/python" -c 'import erm, faster_whisper' 2>/dev/null; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check erm==0.4.0 faster-whisper==1.2.1
