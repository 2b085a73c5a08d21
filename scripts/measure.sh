#!/usr/bin/env bash
# Measures the desktop app on this machine: memory with the window open and closed to the tray,
# and idle CPU over a period, with 20 simulated miners on loopback. Prints one line per figure.
#   scripts/measure.sh [IDLE_SECONDS]      (default 600)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
source "$here/scripts/env.sh"
idle="${1:-600}"
bash "$here/scripts/ui.sh" >/dev/null
cargo build --release --quiet --manifest-path "$here/Cargo.toml" -p bitaxe-desktop -p bitaxe-sim
bin="$CARGO_TARGET_DIR/release"
work="$(mktemp -d -t bitaxe-measure.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$bin/bitaxe-sim" --count 20 > "$work/sims.txt" & pids+=($!)
for _ in $(seq 100); do [ "$(wc -l < "$work/sims.txt")" -ge 20 ] && break; sleep 0.1; done
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
miners = [{"name": l.split()[0], "ip": l.split()[1], "enabled": True} for l in open(f"{work}/sims.txt")]
json.dump({"miners": miners, "check_interval": 30, "temp_check_interval": 30}, open(f"{work}/multi_scheduler_config.json", "w"))
PY
Xvfb :77 -screen 0 1280x860x24 -nolisten tcp >/dev/null 2>&1 & pids+=($!)
export DISPLAY=:77 HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share"
mkdir -p "$HOME"

tree_pids() { # the app and every process under it
  local all=("$1") frontier=("$1")
  while [ ${#frontier[@]} -gt 0 ]; do
    local next=()
    for p in "${frontier[@]}"; do for c in $(pgrep -P "$p" || true); do next+=("$c"); all+=("$c"); done; done
    frontier=("${next[@]}")
  done
  echo "${all[@]}"
}
rss_mb() { local t=0; for p in $(tree_pids "$1"); do t=$((t + $(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done; echo $((t / 1024)); }
cpu_ticks() { local t=0; for p in $(tree_pids "$1"); do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }

run_app() { dbus-run-session -- "$bin/bitaxe-fleet" --config "$work/multi_scheduler_config.json" "$@" >/dev/null 2>&1 & echo $!; }
# The app's own pid (under dbus-run-session, beside the bus daemon and whatever it activates).
app_pid() { for _ in $(seq 50); do local p; p=$(pgrep -P "$1" -x bitaxe-fleet || true); [ -n "$p" ] && { echo "$p"; return; }; sleep 0.2; done; echo "$1"; }

session=$(run_app); pids+=("$session"); app=$(app_pid "$session"); sleep 25
echo "window open: $(rss_mb "$app") MB RSS (app and its WebKit processes)"
t0=$(cpu_ticks "$app"); s0=$(date +%s)
sleep "$idle"
t1=$(cpu_ticks "$app"); s1=$(date +%s)
hz=$(getconf CLK_TCK)
python3 -c "print(f'idle CPU, window open, 20 miners: {($t1-$t0)/$hz:.2f} s CPU over {$s1-$s0} s = {100*($t1-$t0)/$hz/($s1-$s0):.2f} % of one core')"
kill "$session" "$app" 2>/dev/null || true; sleep 2

session=$(run_app --minimized); pids+=("$session"); app=$(app_pid "$session"); sleep 25
echo "closed to the tray: $(rss_mb "$app") MB RSS"
