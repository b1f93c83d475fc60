#!/usr/bin/env bash
# Installs the Debian packages serkd builds and runs with, if any is missing.
# Called by scripts/demo.sh, scripts/test.sh and .ci/run; safe to run again.
set -euo pipefail
packages=(libopenblas-dev libdnnl-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libjpeg62-turbo-dev dataset-fashion-mnist
          libopenmpi-dev openmpi-bin)  # Open MPI: data-parallel training, loaded at run time
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "serkd setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "serkd setup: swift is not on PATH (expected a Swift 6 toolchain, e.g. /opt/swift/usr/bin)" >&2; exit 1; }
