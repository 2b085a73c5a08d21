#!/usr/bin/env bash
# The daemon's memory with a fleet: starts N simulated miners (bitaxe-sim, loopback), runs
# `bitaxe-scheduler --serve 127.0.0.1:0` on them (API, local socket, metrics; MQTT too when the
# config gets an `mqtt` key from MQTT_URL), scrapes /metrics every few seconds as Prometheus
# would, and after P polls of every miner prints the daemon's VmRSS and VmHWM from
# /proc/PID/status. Goal: under 30 MB with 100 miners.
#
#   scripts/measure-rss.sh            # 100 miners, 10 polls each, release build
#   MINERS=20 POLLS=5 PROFILE=debug scripts/measure-rss.sh
#   PROFILE=pi MALLOC_ARENA_MAX=2 scripts/measure-rss.sh   # as the service runs on a Pi
#
# Loopback only. Needs curl. Builds the binaries with cargo if missing.
set -euo pipefail

MINERS=${MINERS:-100}
POLLS=${POLLS:-10}
INTERVAL=${INTERVAL:-2}
PROFILE=${PROFILE:-release}
MQTT_URL=${MQTT_URL:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/$PROFILE

if [ "$PROFILE" = debug ]; then flag=; else flag="--profile $PROFILE"; fi
if [ ! -x "$BIN/bitaxe-scheduler" ] || [ ! -x "$BIN/bitaxe-sim" ] || [ -n "${REBUILD:-}" ]; then
  (cd "$ROOT" && cargo build $flag -p bitaxe-scheduler -p bitaxe-sim)
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$BIN/bitaxe-sim" --count "$MINERS" --speed 20 >"$work/sims.txt" 2>/dev/null &
pids+=($!)
for _ in $(seq 1 100); do
  [ "$(grep -c http "$work/sims.txt" 2>/dev/null || true)" -ge "$MINERS" ] && break
  sleep 0.1
done
[ "$(grep -c http "$work/sims.txt")" -ge "$MINERS" ] || { echo "the sims did not start" >&2; exit 1; }

config=$work/multi_scheduler_config.json
{
  printf '{\n  "check_interval": %s,\n  "temp_check_interval": %s,\n  "timezone": "UTC",\n' "$INTERVAL" "$INTERVAL"
  if [ -n "$MQTT_URL" ]; then printf '  "mqtt": {"url": "%s"},\n' "$MQTT_URL"; fi
  printf '  "miners": [\n'
  head -n "$MINERS" "$work/sims.txt" | awk '{printf "%s    {\"name\": \"%s\", \"ip\": \"%s\"}", (NR>1?",\n":""), $1, $2} END {print ""}'
  printf '  ]\n}\n'
} >"$config"

(cd "$work" && exec "$BIN/bitaxe-scheduler" --config "$config" --serve 127.0.0.1:0 >"$work/daemon.out" 2>&1) &
daemon=$!
pids+=($daemon)

addr=""
for _ in $(seq 1 200); do
  if [ -s "$config.api-addr" ] && [ -s "$config.api-token" ]; then
    addr=$(head -n1 "$config.api-addr"); break
  fi
  sleep 0.1
done
[ -n "$addr" ] || { echo "the daemon's API did not come up:" >&2; cat "$work/daemon.out" >&2; exit 1; }
token=$(cat "$config.api-read-token")

want=$((MINERS * POLLS))
polls=0
start=$(date +%s)
while [ "$polls" -lt "$want" ]; do
  metrics=$(curl -fsS -H "Authorization: Bearer $token" "$addr/metrics")
  polls=$(printf '%s\n' "$metrics" | awk '/^bitaxe_poll_duration_seconds_count /{printf "%d", $2}')
  polls=${polls:-0}
  if [ $(( $(date +%s) - start )) -gt $(( POLLS * INTERVAL * 4 + 60 )) ]; then
    echo "only $polls of $want polls after $(( $(date +%s) - start )) s" >&2; exit 1
  fi
  sleep 2
done
online=$(printf '%s\n' "$metrics" | awk '/^bitaxe_fleet_miners_online /{printf "%d", $2}')
# A few more scrapes and overview reads, as a dashboard would do.
for _ in 1 2 3; do
  curl -fsS -H "Authorization: Bearer $token" "$addr/api/v1/overview" >/dev/null
  curl -fsS -H "Authorization: Bearer $token" "$addr/metrics" >/dev/null
done
rss=$(awk '/^VmRSS/{print $2}' "/proc/$daemon/status")
hwm=$(awk '/^VmHWM/{print $2}' "/proc/$daemon/status")
echo "daemon ($PROFILE build) with $MINERS miners ($online online), API + local socket + metrics${MQTT_URL:+ + MQTT}, after $polls polls:"
echo "VmRSS $((rss / 1024)).$(( (rss % 1024) * 10 / 1024 )) MB, VmHWM $((hwm / 1024)).$(( (hwm % 1024) * 10 / 1024 )) MB"
