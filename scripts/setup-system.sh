#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages interview-coach needs, only those missing.
#   scripts/setup-system.sh build   # to build and run the app
#   scripts/setup-system.sh test    # plus what the test suite needs
set -euo pipefail

build_packages=(
  pkg-config cmake make clang libclang-dev   # whisper.cpp and its bindings
  libasound2-dev                        # cpal (ALSA)
  libx11-6 libx11-xcb1 libxcursor1 libxi6 libxkbcommon-x11-0 libxrandr2
  libegl1 libegl-mesa0 libgl1-mesa-dri  # the window, on any GPU or none
)
test_packages=(
  pulseaudio pulseaudio-utils libasound2-plugins  # a virtual microphone
  espeak-ng sox                                   # real speech to record
  festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts  # other voice families
  python3-venv                                    # piper's neural voice (scripts/tts-setup.sh)
  xvfb imagemagick xdotool                        # the real window, headless
  python3 python3-pip                             # fetching the test model
)

packages=("${build_packages[@]}")
if [[ "${1:-build}" == "test" ]]; then
  packages+=("${test_packages[@]}")
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "Installing system packages: ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
