#!/usr/bin/env bash
# tools/setup.sh: installs what seqboat needs to build and test (Debian/Ubuntu),
# skipping packages already present. Safe to run again.
set -euo pipefail
packages=(build-essential cmake libeigen3-dev libfmt-dev doctest-dev nlohmann-json3-dev librsvg2-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "setup: all build dependencies present"
fi
