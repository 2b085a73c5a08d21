// A stand-in for @tauri-apps/api/core in `vite build --mode mock`: canned answers for every
// command, so the views can be looked at (and screenshot at several sizes and themes) in a
// plain browser. Never part of the app build.
import type { Breakdown } from "../src/generated/Breakdown";
import type { CostReport } from "../src/generated/CostReport";
import type { CostTotals } from "../src/generated/CostTotals";
import type { Config, CostSummary, LoggedEvent, MinerStatus, Overview, Prefs, PriceStrip, ProfileRow, WeekPreview } from "../src/ipc";

// Evaluated before ipc/index.ts: it then takes this stand-in for the desktop's Tauri.
(window as unknown as Record<string, unknown>).__BITAXE_MOCK_IPC__ = true;

const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

function status(name: string, port: number, state: MinerStatus["state"], hash: number, power: number, temp: number, reason = ""): MinerStatus {
  const up = state !== "offline";
  return {
    name, url: `http://127.0.0.1:${port}`, enabled: true, state, reason,
    info: up ? {
      power, input_voltage: 5.1, current: null, temp, temp2: null, vr_temp: temp + 8, hash_rate: hash, hash_rate_1m: hash,
      expected_hashrate: null, error_percentage: null, core_voltage: 1150, core_voltage_actual: 1148, frequency: 500, actual_frequency: 499,
      fan_percent: 60, fan_rpm: 4000, auto_fan: true, manual_fan_percent: null, shares_accepted: 120, shares_rejected: 1, best_diff: null,
      best_session_diff: null, uptime_seconds: 3600, overheat_mode: false, mining_paused: false, version: "v2.14.0", asic_model: "BM1370",
      device_model: "Gamma", board_version: "601", mac_addr: "AA:BB:CC:DD:EE:01", hostname: name, small_core_count: null, asic_count: 1, rotation: 0, raw: null,
    } : null,
    target: { profile: "day", settings: { voltage: 1150, frequency: 500 }, off: false }, throttle_cap: null, cooloff_until: null, gave_up: null,
    ceilings: [], identity_pending: false, plan_why: "Day: plan; until 17:00", last_error: up ? null : "connection refused", updated: iso(now),
  };
}

const miners = [
  status("Demo 1", 4001, "online", 1120.4, 18.2, 58.5),
  status("Demo 2", 4002, "throttled", 980.1, 16.9, 69.5, "ASIC 69.5°C above max_temp 68°C"),
  status("Garage", 4003, "offline", 0, 0, 0, "no answer to 3 polls"),
];

let config: Config = {
  miners: miners.map((m, i) => ({ name: m.name, ip: m.url, enabled: true, day_settings: i === 1 ? { voltage: 1120, frequency: null } : null, night_settings: null })),
  global_day_settings: { start_time: "07:30", end_time: "20:00", voltage: 1150, frequency: 500 },
  global_night_settings: { start_time: "20:00", end_time: "07:30", voltage: 1200, frequency: 550 },
  max_voltage: 1300, max_frequency: 650, max_temp: 68, max_power: 30, check_interval: 30, temp_check_interval: 10, log_stats_interval: 300,
  smooth_transition: true, transition_steps: 5, transition_delay: 10, parallel_operations: true, max_workers: 4, retry_attempts: 3, retry_delay: 2,
  safe_settings: { voltage: 1100, frequency: 400 }, min_voltage: 1000, min_frequency: 100, max_vr_temp: 90, temp_hysteresis: 3, restore_after: 3,
  offline_after: 3, stall_after: 6, max_drift_fixes: 3, timezone: "Europe/Berlin", history_retention_days: 90, overheat_cooloff_minutes: 30,
  give_up_backoff_minutes: 15,
  tariff: { currency: "EUR", fixed: [{ from: "06:00", to: "22:00", price_per_kwh: 0.32 }, { from: "22:00", to: "06:00", price_per_kwh: 0.21, days: ["sat", "sun"] }],
    source: { type: "energy-charts", bzn: "DE-LU", charges: 0.15, tax: 0.19 } },
  price_rules: [{ profile: "performance", max_price: 0.1 }, { profile: "quiet", max_price: 0.25 }, { profile: "off" }],
} as Config;

const overview = (): Overview => ({
  status: {
    miners, totals: { online: 2, total: 3, hashrate: 2100.5, power: 35.1, efficiency: 16.71 }, profile: "day", source: "schedule",
    next_change: [iso(now + 5 * 3600_000 + 12 * 60_000), "night"], paused: false, emergency: false, pause_reason: null,
    budget: { cap: 60, used: 35.1, measured: 35.1, counted: 3, reporting: 2, limited: [], met: true },
  },
  read_only: null, config_path: "/home/demo/.config/bitaxe/multi_scheduler_config.json", demo: true,
  limits: { min_voltage: 1000, max_voltage: 1300, min_frequency: 100, max_frequency: 650 },
  colours: [["Demo 1", "#F7931A"], ["Demo 2", "#1F77B4"], ["Garage", "#2CA02C"]],
});

const events: LoggedEvent[] = [
  { at: iso(now - 3600_000), miner: "Demo 1", kind: "state_changed", level: "info", text: "Demo 1 came online" },
  { at: iso(now - 3000_000), miner: "Demo 2", kind: "throttled", level: "warning", text: "Demo 2 was stepped down to 1140mV @ 500MHz (ASIC 69.5°C above 68°C)" },
  { at: iso(now - 600_000), miner: "Garage", kind: "state_changed", level: "error", text: "Garage went offline (no answer to 3 polls)" },
];

const prefs: Prefs = { notify: ["offline", "overheated"], quiet_hours: { enabled: false, start: "22:00", end: "07:00" }, chart_range: "24h", demo_ports: [] };

function chartSvg(w: number, h: number): string {
  const pts = Array.from({ length: 60 }, (_, i) => `${40 + (i / 59) * (w - 60)},${h / 2 + Math.sin(i / 5) * h / 5}`).join(" ");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect x="40" y="10" width="${(w - 60) / 3}" height="${h - 40}" fill="#E3ECFA"/><polyline points="${pts}" fill="none" stroke="#F7931A" stroke-width="2"/></svg>`;
}

function profileRows(): ProfileRow[] {
  const row = (name: string, kind: ProfileRow["kind"], voltage: number, frequency: number, extra: Partial<ProfileRow> = {}): ProfileRow =>
    ({ name, kind, customised: false, voltage, frequency, fan: null, display_timeout: null, off: false, ...extra });
  return [
    row("day", "seed", config.global_day_settings.voltage, config.global_day_settings.frequency),
    row("night", "seed", config.global_night_settings.voltage, config.global_night_settings.frequency),
    row("quiet", "preset", 1050, 400, { fan: { mode: "manual", speed: 35 }, display_timeout: 0, customised: true }),
    row("efficiency", "preset", 1100, 490), row("performance", "preset", 1200, 575),
    row("off", "off", 1000, 100, { off: true }),
  ];
}

function priceStrip(): PriceStrip {
  const start = Date.now() - 24 * 3600_000;
  const slots = Array.from({ length: 96 }, (_, i) => ({ start: new Date(start + i * 900_000).toISOString(), end: new Date(start + (i + 1) * 900_000).toISOString(),
    price: 0.2 + 0.1 * Math.sin(i / 15) }));
  return { currency: "EUR", slots, status: { as_of: iso(now), currency: "EUR", source: "energy-charts DE-LU", last_fetch: iso(now - 1800_000), last_error: null,
    tomorrow_known: false, feed_until: iso(now + 6 * 3600_000), now: "feed", message: "prices for tomorrow not published yet" } };
}

function costSummary(): CostSummary {
  const t = (kwh: number, cost: number | null, jth: number | null): CostTotals =>
    ({ kwh, unpriced_kwh: 0, cost, hours: kwh * 50, th_days: kwh / 20, j_per_th: jth, cost_per_th_day: cost == null ? null : cost / (kwh / 20) });
  const b = (k: number): Breakdown => ({ total: t(k, k * 0.28, 16.4), days: {}, months: {}, profiles: { quiet: t(k * 0.5, k * 0.5 * 0.3, 15.1), performance: t(k * 0.4, k * 0.4 * 0.09, 18.9), night: t(k * 0.1, k * 0.1 * 0.2, 17.2) } });
  const r = (k: number): CostReport => ({ from: iso(now), to: iso(now), timezone: "Europe/Berlin", fleet: b(k * 3), miners: { "Demo 1": b(k), "Demo 2": b(k), Garage: b(k) } });
  return { currency: "EUR", today: r(0.35), month: r(9.8) };
}

function previewWeek(): WeekPreview {
  const start = new Date(); start.setHours(0, 0, 0, 0);
  const segs: WeekPreview["miners"][number]["segments"] = [];
  for (let d = 0; d < 7; d++) {
    const day = new Date(start.getTime() + d * 86400_000);
    const at = (hh: number, mm: number) => new Date(day.getFullYear(), day.getMonth(), day.getDate(), hh, mm).toISOString();
    segs.push({ start: at(0, 0), end: at(7, 30), profile: "night", why: "plan" });
    segs.push({ start: at(7, 30), end: at(17, 0), profile: d >= 5 ? "performance" : "quiet", why: "plan" });
    segs.push({ start: at(17, 0), end: at(21, 0), profile: "off", why: "price 31 ct above 25" });
    segs.push({ start: at(21, 0), end: at(24, 0), profile: "night", why: "plan" });
  }
  const prices = Array.from({ length: 7 * 24 }, (_, i) => ({
    start: new Date(start.getTime() + i * 3600_000).toISOString(), end: new Date(start.getTime() + (i + 1) * 3600_000).toISOString(),
    price: 0.2 + 0.12 * Math.sin(((i % 24) - 6) / 24 * 2 * Math.PI),
  }));
  return { from: start.toISOString(), to: new Date(start.getTime() + 7 * 86400_000).toISOString(), timezone: "Europe/Berlin",
    miners: miners.map((m) => ({ miner: m.name, group: null, segments: segs })), prices, currency: "EUR" };
}

export async function invoke<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
  const answers: Record<string, () => unknown> = {
    overview, get_config: () => JSON.parse(JSON.stringify(config)), save_config: () => { config = args.config as Config; },
    validate_config: () => null, check_config: () => [], profile_specs: profileRows, preview_week: previewWeek, price_strip: priceStrip, refresh_prices: priceStrip, cost_summary: costSummary, events: () => events, get_prefs: () => prefs, set_prefs: () => null, get_autostart: () => false,
    sparklines: () => miners.map((m, i) => [m.name, Array.from({ length: 60 }, (_, k) => (m.info?.hash_rate ?? 0) * (1 + Math.sin(k / (4 + i)) * 0.03))]),
    default_scan_range: () => "127.0.0.0/28", take_pending_safe: () => false,
    chart: () => ({ svg: chartSvg(Number(args.width), Number(args.height)), points: 240, render_ms: 4, legend: [["day", "#FFF1DC"], ["night", "#E3ECFA"]] }),
    day_night_stats: () => ({ timestamp: iso(now), miners: { "Demo 1": { ip: "x", online: true,
      day_performance: { avg_hashrate: 1100, avg_power: 18, avg_efficiency: 16.4, samples: 10 }, night_performance: { avg_hashrate: 1250, avg_power: 22, avg_efficiency: 17.6, samples: 10 } } } }),
    plan: () => config.miners.map((m) => ({ miner: m.name, enabled: m.enabled, target: { profile: "day", settings: { voltage: 1150, frequency: 500 }, off: false },
      resolution: { profile: "day", reason: { kind: "plan", group: null }, until: null }, why: "Day: plan" })),
  };
  const answer = answers[cmd];
  if (!answer) throw { code: "mock", message: `the mock has no answer for ${cmd}` };
  return answer() as T;
}
