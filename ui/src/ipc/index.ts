// The only module that talks to Tauri. Everything else imports these typed wrappers.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type Profile = "day" | "night" | "safe";
export type MinerStateName =
  | "unknown" | "online" | "offline" | "transitioning" | "throttled" | "stalled" | "overheated" | "disabled";
export type Metric = "hashrate" | "power" | "temperature" | "efficiency";
/** Mirrors bitaxe_core::alerts::AlertKind (snake_case). */
export type AlertKind =
  | "offline" | "overheated" | "throttled" | "stalled" | "drift" | "transition_failed"
  | "gave_up" | "ceiling_lowered" | "identity_changed";

export interface Settings { voltage: number; frequency: number }
export interface Target { profile: Profile; settings: Settings }
/** The fields of axeos::Info the UI reads (the Rust struct has more). */
export interface Info {
  power: number | null; temp: number | null; vr_temp: number | null; hash_rate: number | null;
  core_voltage: number | null; core_voltage_actual: number | null; frequency: number | null; actual_frequency: number | null;
  version: string | null; asic_model: string | null; device_model: string | null; mac_addr: string | null;
  hostname: string | null; fan_percent: number | null; auto_fan: boolean | null; manual_fan_percent: number | null;
  overheat_mode: boolean | null; shares_accepted: number | null; uptime_seconds: number | null;
}
/** Mirrors bitaxe_core::status::MinerStatus. */
export interface MinerStatus {
  name: string; url: string; enabled: boolean; state: MinerStateName;
  /** Why it is in that state, in words. */
  reason: string;
  info: Info | null; target: Target | null; throttle_cap: Settings | null;
  /** After the firmware's own overheat recovery: the schedule may not raise it before then (RFC 3339). */
  cooloff_until: string | null;
  /** A target the miner would not take, in words (cleared by Retry or a new target). */
  gave_up: string | null;
  /** Profiles whose ceiling was lowered on this miner after repeated firmware overheats, and by how many throttle steps. */
  ceilings?: [Profile, number][];
  /** A different device answers at this miner's address: not written to until confirmed. */
  identity_pending?: boolean;
  last_error: string | null; updated: string | null;
}
export interface Totals { online: number; total: number; hashrate: number; power: number; efficiency: number | null }
export interface FleetStatus {
  miners: MinerStatus[]; totals: Totals; profile: Profile; source: string;
  next_change: [string, Profile] | null; paused: boolean; emergency: boolean;
}
export interface Envelope { min_voltage: number; max_voltage: number; min_frequency: number; max_frequency: number }
export interface Overview {
  status: FleetStatus; read_only: string | null; config_path: string; demo: boolean; limits: Envelope;
  colours: [string, string][];
}
export interface ProfileOverride { voltage?: number | null; frequency?: number | null }
export interface MinerConfig {
  name: string; ip: string; enabled: boolean;
  day_settings: ProfileOverride | null; night_settings: ProfileOverride | null;
}
export interface PeriodSettings { start_time: string; end_time: string; voltage: number; frequency: number }
export interface Config {
  miners: MinerConfig[];
  global_day_settings: PeriodSettings; global_night_settings: PeriodSettings;
  max_voltage: number; max_frequency: number; max_temp: number; max_power: number;
  check_interval: number; temp_check_interval: number; log_stats_interval: number;
  smooth_transition: boolean; transition_steps: number; transition_delay: number;
  parallel_operations: boolean; max_workers: number; retry_attempts: number; retry_delay: number;
  safe_settings: Settings; min_voltage: number; min_frequency: number; max_vr_temp: number;
  /** Minutes after the firmware's own overheat recovery before the schedule may raise that miner. */
  overheat_cooloff_minutes: number;
  /** Minutes before a given-up target is tried again (doubling each time). */
  give_up_backoff_minutes: number;
  [key: string]: unknown;
}
export interface Found {
  url: string; hostname: string | null; model: string | null; asic_model: string | null; firmware: string | null;
  voltage: number | null; frequency: number | null; hashrate: number | null;
}
export interface PlanRow { miner: string; enabled: boolean; target: Target }
export interface ChartOut { svg: string; points: number; render_ms: number }
/** One line of the events view (src-tauri models::LoggedEvent). */
export interface LoggedEvent { at: string; miner: string | null; kind: EventKind; level: "info" | "warning" | "error"; text: string }
export interface Performance { avg_hashrate: number; avg_power: number; avg_efficiency: number | null; samples: number }
export interface Stats { timestamp: string | null; miners: Record<string, { ip: string; online: boolean; day_performance: Performance; night_performance: Performance }> }
export interface Prefs {
  notify: AlertKind[]; quiet_hours: { enabled: boolean; start: string; end: string }; chart_range: string; demo_ports: number[];
}
/** The `kind` tags of bitaxe_core::events::Event (snake_case). */
export type EventKind =
  | "sampled" | "poll_failed" | "state_changed" | "transition_started" | "transition_step" | "transition_done"
  | "transition_failed" | "transition_stopped" | "throttled" | "restored" | "drift" | "safety_correction"
  | "profile_changed" | "emergency" | "paused" | "config_reloaded" | "stats_saved"
  | "gave_up" | "firmware_overheat" | "ceiling_lowered" | "fan_restored" | "identity_changed" | "unknown_model"
  | "warning";
/** The engine events the UI reads field by field; the rest arrive as `OtherEvent`. */
export type EngineEvent =
  | { kind: "gave_up"; miner: string; target: Settings; reason: string; retry_at: string | null }
  | { kind: "firmware_overheat"; miner: string }
  | { kind: "ceiling_lowered"; miner: string; profile: Profile; steps: number }
  | { kind: "fan_restored"; miner: string; auto: boolean; manual_percent: number | null }
  | { kind: "identity_changed"; miner: string; expected: string; found: string }
  | { kind: "unknown_model"; miner: string; model: string }
  | OtherEvent;
export interface OtherEvent {
  kind: Exclude<EventKind, "gave_up" | "firmware_overheat" | "ceiling_lowered" | "fan_restored" | "identity_changed" | "unknown_model">;
  miner?: string; [key: string]: unknown;
}

/** A failed command: the UI branches on `code`, shows `message`. */
export interface CmdError { code: string; message: string }

export function errorText(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) return String((e as CmdError).message);
  return String(e);
}

export const api = {
  overview: () => invoke<Overview>("overview"),
  getConfig: () => invoke<Config>("get_config"),
  saveConfig: (config: Config) => invoke<void>("save_config", { config }),
  validateConfig: (config: Config) => invoke<string | null>("validate_config", { config }),
  probe: (address: string) => invoke<Found>("probe_miner", { address }),
  scan: (range: string, port: number) => invoke<Found[]>("scan", { range, port }),
  defaultScanRange: () => invoke<string | null>("default_scan_range"),
  addMiners: (miners: MinerConfig[]) => invoke<void>("add_miners", { miners }),
  updateMiner: (original: string, miner: MinerConfig) => invoke<void>("update_miner", { original, miner }),
  removeMiner: (name: string) => invoke<void>("remove_miner", { name }),
  apply: (profile: Profile, miner?: string) => invoke<void>("apply_profile", { profile, miner: miner ?? null }),
  setPaused: (paused: boolean) => invoke<void>("set_paused", { paused }),
  emergencyStop: () => invoke<void>("emergency_stop"),
  resume: () => invoke<void>("resume"),
  restartMiner: (name: string) => invoke<void>("restart_miner", { name }),
  pauseMiner: (name: string, paused: boolean) => invoke<void>("pause_miner", { name, paused }),
  plan: (at: string, config?: Config) => invoke<PlanRow[]>("plan", { at, config: config ?? null }),
  chart: (metric: Metric, range: string, miner: string | null, total: boolean, dark: boolean, width: number, height: number) =>
    invoke<ChartOut>("chart", { metric, range, miner, total, dark, width, height }),
  sparklines: () => invoke<[string, number[]][]>("sparklines"),
  exportFile: (kind: string, range: string, miner: string | null, content?: number[]) =>
    invoke<string>("export_file", { kind, range, miner, content: content ?? null }),
  stats: () => invoke<Stats>("day_night_stats"),
  events: () => invoke<LoggedEvent[]>("events"),
  getPrefs: () => invoke<Prefs>("get_prefs"),
  setPrefs: (prefs: Prefs) => invoke<void>("set_prefs", { prefs }),
  getAutostart: () => invoke<boolean>("get_autostart"),
  setAutostart: (enabled: boolean) => invoke<void>("set_autostart", { enabled }),
  importConfig: (text: string) => invoke<number>("import_config", { text }),
  exportConfig: () => invoke<string>("export_config"),
  openLogFolder: () => invoke<void>("open_log_folder"),
  openMinerPage: (name: string) => invoke<void>("open_miner_page", { name }),
  startDemo: () => invoke<void>("start_demo"),
  stopDemo: () => invoke<void>("stop_demo"),
  takePendingSafe: () => invoke<boolean>("take_pending_safe"),
  /** Try a given-up target again now. */
  retryMiner: (miner: string) => invoke<void>("retry_miner", { miner }),
  /** Forget the per-profile ceilings lowered after repeated firmware overheats. */
  clearCeiling: (miner: string) => invoke<void>("clear_ceiling", { miner }),
  /** Accept the device now answering at this miner's address as the known one. */
  confirmIdentity: (miner: string) => invoke<void>("confirm_identity", { miner }),
};

/** Every engine event, as it happens. */
export function onEngineEvent(handler: (e: EngineEvent) => void): Promise<UnlistenFn> {
  return listen<EngineEvent>("engine-event", (e) => handler(e.payload));
}

/** The tray's "Safe settings for all…" asks the window to confirm. */
export function onConfirmSafe(handler: () => void): Promise<UnlistenFn> {
  return listen("confirm-safe", () => handler());
}
