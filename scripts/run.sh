#!/usr/bin/env bash
# Builds interview-coach (release) and starts the app. Extra arguments go to
# the program, e.g. `scripts/run.sh content list`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh build
exec cargo run --release --locked -- "$@"
