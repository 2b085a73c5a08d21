#!/usr/bin/env bash
# Installs what is needed, then runs every test: unit, property, client, simulator, engine, CLI
# and the real desktop app in its webview. The suites run in a network namespace that has
# nothing but loopback (when the machine allows it), so no test can reach a real network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/ui.sh

cargo fetch --locked 2>/dev/null || cargo fetch
cargo build --workspace --offline
cargo test --workspace --no-run --offline
run_tests='cargo test --workspace --offline -- --test-threads=2'
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
  echo "Running the tests in a loopback-only network namespace"
  unshare -n bash -c "ip link set lo up && $run_tests"
else
  echo "Running the tests (no network namespace available: they still only use 127.0.0.1)"
  bash -c "$run_tests"
fi
