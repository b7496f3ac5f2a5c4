#!/usr/bin/env bash
# Installs smgcore's build and test dependencies from Debian 12's packages.
# Skips apt entirely when everything is already installed, so it is cheap to
# call before every build. Must run as root (or with sudo available) when
# something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libabsl-dev libxxhash-dev libconcurrentqueue-dev libuv1-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  pybind11-dev python3 python3-dev python3-pytest python3-prometheus-client
  python3-venv python3-pip python3-setuptools python3-wheel
  golang-go
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
