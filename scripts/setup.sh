#!/usr/bin/env bash
# Installs what building and testing needs on Debian/Ubuntu. Safe to run again: only what is
# missing is installed.
#   - C toolchain (SQLite is compiled in), iproute2/util-linux for the loopback-only test namespace
#   - the desktop app's system libraries (WebKitGTK, appindicator, rsvg, xdo)
#   - for the GUI tests: Xvfb, D-Bus session tools, a notification daemon, WebKitWebDriver
#   - Node.js and npm for the UI, the Rust toolchain if absent, and tauri-driver (from crates.io)
set -euo pipefail

packages=(build-essential pkg-config iproute2 util-linux
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev libxdo-dev
  xvfb dbus dbus-x11 dunst webkit2gtk-driver prometheus mosquitto chromium)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
command -v cargo >/dev/null 2>&1 || packages+=(cargo rustc)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "Installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "Installing tauri-driver"
  cargo install tauri-driver@2.1.0 --locked --quiet
fi
