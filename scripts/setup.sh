#!/usr/bin/env bash
# Installs what building and testing the headless crates needs on Debian/Ubuntu: a C compiler
# (SQLite is compiled in), iproute2 and util-linux for the loopback-only test namespace, and the
# Rust toolchain if the machine has none. Safe to run again.
set -euo pipefail

need=()
command -v cc >/dev/null 2>&1 || need+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v cargo >/dev/null 2>&1 || need+=(cargo rustc)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "Installing: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
