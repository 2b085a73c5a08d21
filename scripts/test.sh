#!/usr/bin/env bash
# Installs what is needed, then runs every test: unit, property, client, simulator, engine, CLI
# and the real desktop app in its webview. The suites run in a network namespace that has
# nothing but loopback (when the machine allows it), so no test can reach a real network.
# Afterwards nothing the tests started may still be running (tauri-driver, WebKitWebDriver, the
# app, Xvfb, the private D-Bus session, schedulers, simulators): the script fails if anything is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/ui.sh

cargo fetch --locked 2>/dev/null || cargo fetch
# `--workspace` means every member: the desktop app (src-tauri) is built and tested here although
# `default-members` leaves it out (so a plain `cargo build` never needs the webview libraries).
cargo build --workspace --offline
cargo test --workspace --no-run --offline

# The headless scheduler must not pull in the webview stack.
if cargo tree -p bitaxe-scheduler --offline --target all -e normal,build \
  | grep -iE 'webkit|gtk|tauri|wry|javascriptcore|soup'; then
  echo "bitaxe-scheduler depends on the desktop's webview stack (see above)" >&2
  exit 1
fi

# Every process the tests start inherits this marker, so leftovers can be found afterwards.
marker="$$-$(date +%s%N)"
# Live ones only: a killed process may linger as a zombie until init reaps it.
driver_pids() {
  { pgrep -f tauri-driver || true; pgrep -x WebKitWebDriver || true; } | sort -u \
    | while read -r pid; do
      case "$(ps -o stat= -p "$pid" 2>/dev/null)" in Z* | "") ;; *) echo "$pid" ;; esac
    done
}
drivers_before="$(driver_pids)"

run_tests='cargo test --workspace --offline -- --test-threads=2'
status=0
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
  echo "Running the tests in a loopback-only network namespace"
  BITAXE_TEST_RUN="$marker" unshare -n bash -c "ip link set lo up && $run_tests" || status=$?
else
  echo "Running the tests (no network namespace available: they still only use 127.0.0.1)"
  BITAXE_TEST_RUN="$marker" bash -c "$run_tests" || status=$?
fi

# Nothing left behind: no process carrying the marker, and no tauri-driver or WebKitWebDriver
# that was not already running before the tests. Killed processes get a moment (about 2 s) to go.
leftovers() {
  grep -lsxzF "BITAXE_TEST_RUN=$marker" /proc/[0-9]*/environ 2>/dev/null \
    | cut -d/ -f3 | grep -vx "$$" || true
  comm -13 <(echo "$drivers_before") <(driver_pids) | grep . || true
}
sleep 0.5
for _ in $(seq 10); do
  [ -z "$(leftovers)" ] && break
  sleep 0.2
done
left="$(leftovers | sort -u)"
if [ -n "$left" ]; then
  echo "The tests left processes running:" >&2
  for pid in $left; do ps -o pid=,args= -p "$pid" >&2 || true; done
  status=1
else
  echo "No test process left running."
fi
exit "$status"
