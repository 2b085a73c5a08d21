// The only module that talks to the engine. Everything else imports these typed wrappers, one
// `api` object whatever carries the calls: inside the desktop app, Tauri commands (and the
// "engine-event" window event); in a plain browser (the page the scheduler serves at `/`), the
// scheduler's HTTP API with the token the user signed in with (ipc/web.ts). The few desktop-only
// commands get a browser equivalent (ipc/browser.ts), or `features` says they are not there.
import { invoke as tauriInvoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { webCall, webListen } from "./web";
import { browserCommands } from "./browser";

// The types come from the Rust types (ts-rs, `ui/src/generated/`, checked by a cargo test in
// src-tauri/src/typescript.rs): no hand-kept mirrors.
import type { Event } from "../generated/Event";
import type { Config } from "../generated/Config";
import type { Found } from "../generated/Found";
import type { MinerConfig } from "../generated/MinerConfig";
import type { Overview } from "../generated/Overview";
import type { Profile } from "../generated/Profile";
import type { PlanRow } from "../generated/PlanRow";
import type { ChartOut } from "../generated/ChartOut";
import type { LoggedEvent } from "../generated/LoggedEvent";
import type { Stats } from "../generated/Stats";
import type { Prefs } from "../generated/Prefs";
import type { Metric } from "../generated/Metric";
import type { CmdError } from "../generated/CmdError";
import type { DraftProblem } from "../generated/DraftProblem";
import type { ProfileRow } from "../generated/ProfileRow";
import type { WeekPreview } from "../generated/WeekPreview";
import type { PriceStrip } from "../generated/PriceStrip";
import type { TestFetch } from "../generated/TestFetch";
import type { CostSummary } from "../generated/CostSummary";
import type { ApiStatus } from "../generated/ApiStatus";
import type { ChannelReport } from "../generated/ChannelReport";

export type { AlertKind } from "../generated/AlertKind";
export type { AlertsConfig } from "../generated/AlertsConfig";
export type { ChannelConfig } from "../generated/ChannelConfig";
export type { FanSpec } from "../generated/FanSpec";
export type { Envelope } from "../generated/Envelope";
export type { FleetStatus } from "../generated/FleetStatus";
export type { Info } from "../generated/Info";
export type { MinerState as MinerStateName } from "../generated/MinerState";
export type { MinerStatus } from "../generated/MinerStatus";
export type { PeriodSettings } from "../generated/PeriodSettings";
export type { Performance } from "../generated/Performance";
export type { ProfileOverride } from "../generated/ProfileOverride";
export type { Settings } from "../generated/Settings";
export type { Target } from "../generated/Target";
export type { Totals } from "../generated/Totals";
export type {
  ApiStatus, ChannelReport, ChartOut, CmdError, Config, CostSummary, DraftProblem, PriceStrip, ProfileRow, TestFetch, WeekPreview, Found, LoggedEvent, Metric, MinerConfig, Overview, PlanRow, Prefs, Profile, Stats,
};

/** An engine event as the bridge sends it (bitaxe_core::events::Event, tagged by `kind`). */
export type EngineEvent = Event;
/** The `kind` tags of the engine's events. */
export type EventKind = Event["kind"];

export function errorText(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) return String((e as CmdError).message);
  return String(e);
}

/**
 * True inside the desktop app (Tauri injects its internals before the page runs); the mock build
 * (`vite build --mode mock`, whose stand-in for Tauri marks the page) counts as the desktop.
 */
export const inDesktop: boolean = typeof window !== "undefined" && ("__TAURI_INTERNALS__" in window || "__BITAXE_MOCK_IPC__" in window);

/** What this front end can do beyond the engine's commands (the views hide what is not there). */
export const features = {
  /** Desktop notifications and their preferences. */
  notifications: inDesktop,
  /** Start at login. */
  autostart: inDesktop,
  /** The simulated demo fleet (it runs inside the desktop app). */
  demo: inDesktop,
  /** Open the log folder in the file manager. */
  logFolder: inDesktop,
  /** This app may serve the API itself (Settings says where). */
  serving: inDesktop,
  /** Attach to a scheduler elsewhere (the desktop app; the web UI is already that scheduler's). */
  attach: inDesktop,
  /** Signed in to a scheduler over the web: the shell offers "Sign out". */
  signOut: !inDesktop,
};

function invoke<T>(name: string, args?: Record<string, unknown>): Promise<T> {
  return inDesktop ? tauriInvoke<T>(name, args) : webCall<T>(name, args);
}

const commands = {
  overview: () => invoke<Overview>("overview"),
  getConfig: () => invoke<Config>("get_config"),
  saveConfig: (config: Config) => invoke<void>("save_config", { config }),
  validateConfig: (config: Config) => invoke<string | null>("validate_config", { config }),
  /** Every problem in a draft, by the engine's rules, with the key path of the field. */
  checkConfig: (config: Config) => invoke<DraftProblem[]>("check_config", { config }),
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
  /** Every profile the draft knows, resolved fleet-wide. */
  profileSpecs: (config: Config) => invoke<ProfileRow[]>("profile_specs", { config }),
  /** The next 7 days from today's local midnight, for a draft (nothing saved). */
  previewWeek: (config: Config) => invoke<WeekPreview>("preview_week", { config }),
  /** Fetch a draft tariff's source once (nothing saved). */
  testFetch: (config: Config) => invoke<TestFetch>("test_fetch", { config }),
  /** Send a test message to every alert channel of a draft (nothing saved), one report each. */
  testAlerts: (config: Config) => invoke<ChannelReport[]>("test_alerts", { config }),
  /** Fetch the saved tariff's prices now. */
  refreshPrices: () => invoke<PriceStrip>("refresh_prices"),
  /** The price slots known over a chart range (null without a tariff). */
  priceStrip: (range: string) => invoke<PriceStrip | null>("price_strip", { range }),
  plan: (at: string, config?: Config) => invoke<PlanRow[]>("plan", { at, config: config ?? null }),
  chart: (metric: Metric, range: string, miner: string | null, total: boolean, dark: boolean, width: number, height: number) =>
    invoke<ChartOut>("chart", { metric, range, miner, total, dark, width, height }),
  sparklines: () => invoke<[string, number[]][]>("sparklines"),
  exportFile: (kind: string, range: string, miner: string | null, content?: number[]) =>
    invoke<string>("export_file", { kind, range, miner, content: content ?? null }),
  stats: () => invoke<Stats>("day_night_stats"),
  /** Measured energy and cost today and this month. */
  costSummary: () => invoke<CostSummary>("cost_summary"),
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
  /** Where this app serves the HTTP API (`api.listen` in the config), or why it does not. */
  apiStatus: () => invoke<ApiStatus>("api_status"),
  /** Try a given-up target again now. */
  retryMiner: (miner: string) => invoke<void>("retry_miner", { miner }),
  /** Forget the per-profile ceilings lowered after repeated firmware overheats. */
  clearCeiling: (miner: string) => invoke<void>("clear_ceiling", { miner }),
  /** Accept the device now answering at this miner's address as the known one. */
  confirmIdentity: (miner: string) => invoke<void>("confirm_identity", { miner }),
};

/** The engine's commands, the same shape in the desktop app and in a browser. */
export type Api = typeof commands;
export const api: Api = inDesktop ? commands : { ...commands, ...browserCommands };

/** Every engine event, as it happens. */
export function onEngineEvent(handler: (e: EngineEvent) => void): Promise<UnlistenFn> {
  if (!inDesktop) return webListen(handler);
  return listen<EngineEvent>("engine-event", (e) => handler(e.payload));
}

/** The tray's "Safe settings for all…" asks the window to confirm (no tray in a browser). */
export function onConfirmSafe(handler: () => void): Promise<UnlistenFn> {
  if (!inDesktop) return Promise.resolve(() => {});
  return listen("confirm-safe", () => handler());
}

export { onConnection as onWebLink, type Connection as WebLink } from "./web";
export { session, signIn, signOut, storedToken, takeEndedReason, SignInError, type Session, type TokenScope } from "./session";
// --- Attached to a scheduler elsewhere (src-tauri/src/remote). The Rust side does the network:
// the window only asks it to connect, and hears the link's state.
import type { Connection } from "../generated/Connection";
import type { Discovered } from "../generated/Discovered";
import type { AttachmentView } from "../generated/AttachmentView";
export type { AttachmentView, Connection, Discovered };

export const attach = {
  /** The certificate fingerprint an `https://` scheduler shows (null for http); nothing but a TLS handshake is sent. */
  probeCertificate: (address: string) => invoke<string | null>("probe_certificate", { address }),
  /** Check, remember and follow the scheduler; the local engine stops. */
  connect: (address: string, token: string, fingerprint: string | null) =>
    invoke<Connection>("connect", { address, token, fingerprint }),
  /** Forget the attachment; the app restarts with its own engine. */
  disconnect: () => invoke<void>("disconnect"),
  /** Schedulers advertising themselves on the LAN (a 3 s mDNS browse). */
  discover: () => invoke<Discovered[]>("discover"),
  connectionState: () => invoke<Connection>("connection_state"),
  /** The saved attachment (address and pinned fingerprint; never the token). */
  attachment: () => invoke<AttachmentView | null>("attachment"),
};

/** Every change of the link to the scheduler (connected, lost and retrying, refused). */
export function onConnection(handler: (c: Connection) => void): Promise<UnlistenFn> {
  return listen<Connection>("connection", (e) => handler(e.payload));
}
