// Settings: limits, intervals, transitions, parallelism, retries, notifications, import/export.
import { api, errorText, features, type AlertKind, type Config } from "../ipc";
import type { Ctx } from "../main";
import { h, toast } from "../ui";
import { draftChanged, draftNote } from "./draft-note";
import { mark, sentence } from "./problems";
import { alertsSection } from "./alerts";
import { connectSection } from "./connect";

const FIELDS: [keyof Config, string, string, number, number, number][] = [
  ["max_voltage", "Maximum voltage", "mV", 1000, 1300, 5],
  ["max_frequency", "Maximum frequency", "MHz", 100, 800, 5],
  // Below the firmware's own overheat stop (ASIC 75 °C, regulator 105 °C), as core requires.
  ["max_temp", "Maximum ASIC temperature", "°C", 40, 74.5, 0.5],
  ["max_vr_temp", "Maximum regulator temperature", "°C", 50, 104.5, 0.5],
  ["max_power", "Maximum power", "W", 5, 40, 0.5],
  ["check_interval", "Status check every", "s", 5, 3600, 1],
  ["temp_check_interval", "Temperature check every", "s", 5, 3600, 1],
  ["log_stats_interval", "Save statistics every", "s", 10, 86400, 1],
  ["transition_steps", "Steps per change", "", 1, 50, 1],
  ["transition_delay", "Pause between steps", "s", 0, 600, 1],
  ["max_workers", "Miners changing at once", "", 1, 1000, 1],
  ["retry_attempts", "Retries", "", 0, 10, 1],
  ["retry_delay", "First retry after", "s", 0, 300, 1],
  ["overheat_cooloff_minutes", "Cool-off after a firmware overheat", "min", 0, 1440, 1],
  ["give_up_backoff_minutes", "Try a given-up target again after", "min", 1, 1440, 1],
];

const ALERTS: [AlertKind, string][] = [
  ["offline", "Offline and back online"], ["overheated", "Overheated (also the firmware's own overheat stop)"], ["throttled", "Throttled"],
  ["stalled", "Stopped hashing"], ["drift", "Settings changed by the firmware"], ["transition_failed", "A settings change failed"],
  ["gave_up", "A miner would not take its settings (gave up)"], ["ceiling_lowered", "A profile's ceiling lowered after repeated overheats"],
  ["identity_changed", "A different device at a miner's address"],
];

export async function renderSettings(root: HTMLElement, ctx: Ctx): Promise<void> {
  // The store's draft: edits made here and not saved are still here after visiting another view.
  const draft: Config = await ctx.store.draft();
  const msg = h("p", { class: "hint error", role: "alert", id: "settings-message" });
  const save = h("button", { class: "primary", id: "save-settings", disabled: ctx.overview?.read_only != null }, "Save settings");
  const grid = h("div", { class: "settings-grid" });
  for (const [key, label, unit, min, max, step] of FIELDS) {
    const i = h("input", { type: "number", id: `set-${String(key)}`, value: String(draft[key]), min, max, step, "data-path": String(key) }) as HTMLInputElement;
    i.addEventListener("input", async () => {
      (draft as unknown as Record<string, unknown>)[key as string] = Number(i.value);
      const problems = await api.checkConfig(draft).catch(() => []);
      mark(grid, problems);
      const p = Number(i.value) < min || Number(i.value) > max ? `${label} must be between ${min} and ${max}${unit ? " " + unit : ""}.` : problems[0] ? sentence(problems[0]) : "";
      msg.textContent = p;
      save.disabled = p !== "";
      draftChanged();
    });
    grid.append(h("label", { class: "field" }, h("span", {}, `${label}${unit ? ` (${unit})` : ""}`), i));
  }
  const toggle = (key: "smooth_transition" | "parallel_operations", label: string) => {
    const c = h("input", { type: "checkbox", checked: Boolean(draft[key]) }) as HTMLInputElement;
    c.addEventListener("change", () => { (draft as Record<string, unknown>)[key] = c.checked; draftChanged(); });
    return h("label", { class: "check" }, c, ` ${label}`);
  };
  save.addEventListener("click", async () => {
    try { await ctx.store.save(); toast("Settings saved"); await ctx.refresh(); } catch (e) { msg.textContent = errorText(e); }
  });
  const prefs = await api.getPrefs();
  const alertBoxes = ALERTS.map(([k, label]) => {
    const c = h("input", { type: "checkbox", checked: prefs.notify.includes(k), "data-kind": k }) as HTMLInputElement;
    c.addEventListener("change", async () => {
      prefs.notify = c.checked ? [...prefs.notify, k] : prefs.notify.filter((x) => x !== k);
      await api.setPrefs(prefs).catch((e) => toast(errorText(e), "error"));
    });
    return h("label", { class: "check" }, c, ` ${label}`);
  });
  const quiet = h("input", { type: "checkbox", checked: prefs.quiet_hours.enabled }) as HTMLInputElement;
  const qs = h("input", { type: "time", value: prefs.quiet_hours.start }) as HTMLInputElement;
  const qe = h("input", { type: "time", value: prefs.quiet_hours.end }) as HTMLInputElement;
  const saveQuiet = async () => { prefs.quiet_hours = { enabled: quiet.checked, start: qs.value, end: qe.value }; await api.setPrefs(prefs).catch((e) => toast(errorText(e), "error")); };
  [quiet, qs, qe].forEach((i) => i.addEventListener("change", saveQuiet));
  const auto = h("input", { type: "checkbox", checked: features.autostart && await api.getAutostart().catch(() => false) }) as HTMLInputElement;
  auto.addEventListener("change", () => api.setAutostart(auto.checked).catch((e) => toast(errorText(e), "error")));
  const file = h("input", { type: "file", accept: ".json,application/json", id: "import-file" }) as HTMLInputElement;
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (!f) return;
    try { const n = await api.importConfig(await f.text()); toast(`Imported ${n} miner(s)`); ctx.store.discard(); await ctx.store.configChanged(); await ctx.refresh(); await renderSettings(root, ctx); } catch (e) { toast(errorText(e), "error"); }
  });
  const exp = h("button", {}, "Export config");
  exp.addEventListener("click", async () => { try { toast(`Saved ${await api.exportConfig()}`); } catch (e) { toast(errorText(e), "error"); } });
  // Only the desktop app serves the API itself; the web UI is that API's page.
  const served = features.serving ? await api.apiStatus().catch(() => null) : null;
  const apiLine = !features.serving ? null : h("p", { class: "hint", id: "api-listen" }, served?.listening
    ? `API listening on ${served.listening} (tokens beside ${served.token_file ?? "the config"})`
    : served?.error ? `API not started: ${served.error}` : "API off (set api.listen in the config)");
  const logs = h("button", {}, "Open log folder");
  logs.addEventListener("click", () => api.openLogFolder().catch((e) => toast(errorText(e), "error")));
  root.replaceChildren(h("h1", {}, "Settings"), draftNote(ctx.store, () => void renderSettings(root, ctx)),
    h("section", { class: "panel" }, h("h2", {}, "Safety, timing and transitions"), grid,
      h("div", { class: "checks" }, toggle("smooth_transition", "Change settings in smooth steps"), toggle("parallel_operations", "Change several miners at once")),
      msg, save),
    alertsSection(draft, ctx),
    // Desktop notifications and start-at-login belong to the desktop app (features says so).
    ...(features.notifications ? [h("section", { class: "panel" }, h("h2", {}, "Notifications"), h("div", { class: "checks" }, ...alertBoxes),
      h("div", { class: "form-row" }, h("label", { class: "check" }, quiet, " Quiet hours"), h("label", { class: "field" }, h("span", {}, "From"), qs), h("label", { class: "field" }, h("span", {}, "To"), qe)))] : []),
    h("section", { class: "panel" }, h("h2", {}, features.autostart ? "App" : "Configuration"), features.autostart ? h("label", { class: "check" }, auto, " Start at login") : null,
      h("p", { class: "hint" }, `Configuration file: ${ctx.overview?.config_path ?? ""}`), apiLine,
      h("div", { class: "buttons" }, ctx.overview?.read_only == null ? h("label", { class: "file" }, "Import config… ", file) : null,
        ctx.overview?.read_only == null ? exp : null, features.logFolder ? logs : null)));
  if (features.attach) { root.append(await connectSection(ctx)); if (ctx.sub === "connect") document.getElementById("connect-panel")?.scrollIntoView(); }
}
