#!/usr/bin/env bash
# Builds the Debian package with cargo-deb (configured in Cargo.toml's
# [package.metadata.deb]): the binary, the launcher entry, the icons, the
# README and the licences. cargo-deb is installed into .cache/tools (inside
# the checkout) on first use. Prints the package's path on its last line.
#   scripts/package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh build
cargo_deb=".cache/tools/bin/cargo-deb"
if [[ ! -x "$cargo_deb" ]]; then
  cargo install cargo-deb --version 3.8.0 --locked --root .cache/tools >&2
fi
cargo build --release --locked >&2
mkdir -p target/debian
"$cargo_deb" --no-build --locked --output target/debian/ >&2
ls -t target/debian/interview-coach_*.deb | head -1
