#!/usr/bin/env bash
# Installs what is needed, builds, and opens the desktop app.
#   scripts/run.sh                 the app on its default config (in the platform's config folder)
#   scripts/run.sh --demo          the app with a demo fleet of simulated miners on 127.0.0.1
#   scripts/run.sh --config FILE   the app on another config (e.g. a seed user's file)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/scripts/setup.sh"
source "$here/scripts/env.sh"
bash "$here/scripts/ui.sh"
cargo build --release --manifest-path "$here/Cargo.toml" -p bitaxe-desktop
exec "$CARGO_TARGET_DIR/release/bitaxe-fleet" "$@"
