#!/usr/bin/env bash
# Builds and runs the headless scheduler (no desktop libraries needed).
#   scripts/scheduler.sh           bitaxe-scheduler on ./multi_scheduler_config.json
#   scripts/scheduler.sh --demo    three simulated miners on 127.0.0.1 and a scheduler driving them
#   scripts/scheduler.sh ARGS...   any bitaxe-scheduler flags (see --help)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
source "$here/scripts/env.sh"
cargo build --release --manifest-path "$here/Cargo.toml" -p bitaxe-scheduler -p bitaxe-sim
bin="$CARGO_TARGET_DIR/release"
# The web UI that `--serve` offers at `/`: built when node is here (a Pi may have none: then the
# API still serves, with a placeholder page).
if [ ! -f "$here/ui/dist/index.html" ] && command -v npm >/dev/null 2>&1; then
  bash "$here/scripts/ui.sh" || echo "The web UI was not built; --serve shows a placeholder page" >&2
fi
if [ -z "${BITAXE_UI_DIR:-}" ] && [ -f "$here/ui/dist/index.html" ]; then
  export BITAXE_UI_DIR="$here/ui/dist"
fi

if [ "${1:-}" != "--demo" ]; then
  exec "$bin/bitaxe-scheduler" "$@"
fi

demo="$(mktemp -d -t bitaxe-demo.XXXXXX)"
"$bin/bitaxe-sim" --count 3 --ip 127.0.0.1 --speed 1 > "$demo/sims.txt" &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ "$(wc -l < "$demo/sims.txt")" -ge 3 ] && break; sleep 0.1; done
cfg="$demo/multi_scheduler_config.json"
while read -r name url; do
  "$bin/bitaxe-scheduler" --config "$cfg" --add-miner "$name" "$url" >/dev/null
done < "$demo/sims.txt"
echo "Demo: 3 simulated miners on loopback, config and logs in $demo (Ctrl-C to stop)"
"$bin/bitaxe-scheduler" --config "$cfg" --list-miners
"$bin/bitaxe-scheduler" --config "$cfg"
