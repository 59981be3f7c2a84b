#!/usr/bin/env bash
# Debian packages the test suite needs. Installs only what is missing, so a warm machine
# pays nothing; a fresh machine (CI) gets everything. Needs root or sudo on Debian/Ubuntu.
set -euo pipefail
PACKAGES=(git)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
