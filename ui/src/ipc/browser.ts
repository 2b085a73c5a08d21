// The desktop-only commands, done the browser's way for the page the scheduler serves: the
// preferences in localStorage, files as downloads, a miner's page in a new tab. What a browser
// cannot do (start at login, the log folder, the demo fleet) fails with a clear message; the
// views hide those through `features` in ipc/index.ts. The read token's answer: every overview
// says why the page only shows status, as the desktop does beside another scheduler.

import type { Api } from "./index";
import type { AlertKind } from "../generated/AlertKind";
import type { CmdError } from "../generated/CmdError";
import type { Config } from "../generated/Config";
import type { Overview } from "../generated/Overview";
import type { Prefs } from "../generated/Prefs";
import { session } from "./session";
import { download, READ_ONLY_NOTE, webCall, webGet } from "./web";

const PREFS_KEY = "bitaxe.prefs";
const ALL_ALERTS: AlertKind[] = ["offline", "overheated", "throttled", "stalled", "drift", "transition_failed", "gave_up", "ceiling_lowered", "identity_changed"];
const RANGE_HOURS: Record<string, number> = { "1h": 1, "24h": 24, "7d": 168, "30d": 720 };

function unsupported(message: string): CmdError {
  return { code: "unsupported", message };
}

export const browserCommands: Partial<Api> = {
  overview: async () => {
    const o = await webCall<Overview>("overview");
    if (session()?.scope === "read" && o.read_only === null) o.read_only = READ_ONLY_NOTE;
    return o;
  },
  getPrefs: async () => webPrefs(),
  setPrefs: async (prefs: Prefs) => {
    try { localStorage.setItem(PREFS_KEY, JSON.stringify(prefs)); } catch { /* storage refused: not kept */ }
  },
  getAutostart: async () => false,
  setAutostart: async () => { throw unsupported("Start at login is a setting of the desktop app."); },
  openLogFolder: async () => { throw unsupported("The log folder is on the scheduler's computer."); },
  openMinerPage: async (name: string) => {
    const m = (await webCall<Config>("get_config")).miners.find((x) => x.name === name);
    if (!m) throw { code: "unknown_miner", message: `no miner named ${JSON.stringify(name)}` } satisfies CmdError;
    window.open(minerUrl(m.ip), "_blank", "noopener");
  },
  startDemo: async () => { throw unsupported("The demo fleet runs in the desktop app."); },
  stopDemo: async () => { throw unsupported("The demo fleet runs in the desktop app."); },
  takePendingSafe: async () => false,
  exportConfig: async () => {
    const c = await webCall<Config>("get_config");
    download("multi_scheduler_config.json", JSON.stringify(c, null, 2) + "\n", "application/json");
    return "multi_scheduler_config.json to your downloads";
  },
  exportFile: async (kind: string, range: string, miner: string | null, content?: number[]) => {
    const name = exportName(miner, range, kind);
    if (kind === "csv") {
      const to = new Date(), hours = RANGE_HOURS[range] ?? 24;
      const from = new Date(to.getTime() - hours * 3_600_000);
      const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), bucket: String(csvBucket(hours)) });
      if (miner) q.set("miner", miner);
      download(name, historyCsv(await webGet<HistoryPoint[]>(`/api/v1/history?${q}`)), "text/csv");
    } else if (content && content.length) {
      download(name, new Uint8Array(content), kind === "png" ? "image/png" : "image/svg+xml");
    } else {
      throw { code: "missing", message: "nothing to save" } satisfies CmdError;
    }
    return `${name} to your downloads`;
  },
};

function webPrefs(): Prefs {
  const d: Prefs = { notify: ALL_ALERTS, quiet_hours: { enabled: false, start: "22:00", end: "07:00" }, chart_range: "24h", demo_ports: [] };
  try {
    const kept = JSON.parse(localStorage.getItem(PREFS_KEY) ?? "null") as Partial<Prefs> | null;
    return kept && typeof kept === "object" ? { ...d, ...kept } : d;
  } catch { return d; }
}

/** A miner's address as a link (the config holds `host`, `host:port` or a whole URL). */
export function minerUrl(ip: string): string {
  return /^https?:\/\//i.test(ip) ? ip : `http://${ip}/`;
}

/** About 2000 points over the range, in whole minutes (at least one), as the desktop's export. */
export function csvBucket(hours: number): number {
  return Math.max(60, Math.round((hours * 3600) / 2000 / 60) * 60);
}

/** `bitaxe[-miner]-range-stamp.ext`, like the desktop's export names. */
export function exportName(miner: string | null, range: string, kind: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}`;
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/\.{2,}/g, ".").replace(/^[._]+|[._]+$/g, "");
  return ["bitaxe", miner, range, stamp].filter((x): x is string => !!x).map(clean).filter(Boolean).join("-") + "." + clean(kind);
}

/** One averaged bucket of `GET /api/v1/history` (bitaxe_core::history::Point). */
export interface HistoryPoint { miner: string; at: number; hashrate: number; power: number; temp: number | null; efficiency: number | null; profile: string }

/** The desktop export's CSV columns (core's chart::csv), times in this browser's zone. */
export function historyCsv(points: HistoryPoint[]): string {
  const p = (n: number) => String(Math.trunc(Math.abs(n))).padStart(2, "0");
  const iso = (secs: number) => {
    const d = new Date(secs * 1000), off = -d.getTimezoneOffset();
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${off < 0 ? "-" : "+"}${p(off / 60)}:${p(off % 60)}`;
  };
  const opt = (v: number | null) => (v == null ? "" : v.toFixed(2));
  return "time,miner,profile,hashrate_ghs,power_w,temp_c,efficiency_j_per_th\n" + points.map((x) =>
    `${iso(x.at)},${x.miner.replace(/,/g, " ")},${x.profile},${x.hashrate.toFixed(2)},${x.power.toFixed(2)},${opt(x.temp)},${opt(x.efficiency)}\n`).join("");
}
