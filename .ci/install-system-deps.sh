#!/usr/bin/env bash
# Debian packages the test suite needs. Installs only what is missing, so a warm machine
# pays nothing; a fresh machine (CI) gets everything. Needs root or sudo on Debian/Ubuntu.
set -euo pipefail
# git: history; chromium: the KB is tested in a real headless browser; libreoffice-*-nogui:
# the artefacts are opened (and converted) by LibreOffice headless; poppler-utils: pdffonts/pdftotext;
# fonts-dejavu-core and fonts-wqy-microhei: the proof PDF embeds them (accents, Greek, Cyrillic, Hebrew, Arabic;
# CJK: reportlab embeds TrueType outlines only, and Noto CJK is CFF); fonts-noto-cjk serves LibreOffice;
# openssh-client and gnupg: signing tests (git checks SSH signatures with ssh-keygen, OpenPGP ones with gpg).
PACKAGES=(git chromium libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui poppler-utils fonts-dejavu-core fonts-wqy-microhei fonts-noto-cjk openssh-client gnupg)
# `install-system-deps.sh build` installs only what `make build` needs (the fonts for the PDF).
[ "${1:-}" = "build" ] && PACKAGES=(git fonts-dejavu-core fonts-wqy-microhei fonts-noto-cjk)
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
