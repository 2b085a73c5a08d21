// Fleet: one row per miner with a live sparkline, a badge, numbers and actions; teaches when empty.
import { api, errorText, features, type MinerStatus } from "../ipc";
import type { Ctx } from "../main";
import { badge, capital, confirmDialog, h, localHm, menu, num, settingsText, sparkline, toast, type MenuItem } from "../ui";
import { attention, attentionText, coolingOff, emptyNotes, handled, noteLive, notesFrom, statusParts, totalsLine, type Attention } from "./fleet-status";

type SortKey = "name" | "state" | "hashrate" | "temp" | "power" | "eff";
let sortKey: SortKey = "name";
let sortUp = true;
const spark = new Map<string, number[]>();
/** Ceiling and identity events per miner (from the events log, then live), for the attention actions. */
const notes = emptyNotes();

function value(m: MinerStatus, k: SortKey): number | string {
  const i = m.info;
  switch (k) {
    case "name": return m.name;
    case "state": return m.state;
    case "hashrate": return i?.hash_rate ?? -1;
    case "temp": return i?.temp ?? -1;
    case "power": return i?.power ?? -1;
    case "eff": return i && i.hash_rate && i.power ? i.power / (i.hash_rate / 1000) : 1e9;
  }
}

export async function renderFleet(root: HTMLElement, ctx: Ctx): Promise<void> {
  const o = ctx.overview;
  if (!o) throw new Error("no status yet");
  if (o.status.miners.length === 0) return renderFirstRun(root, ctx);
  for (const [name, values] of await api.sparklines().catch(() => [] as [string, number[]][])) spark.set(name, values);
  notesFrom(await api.events().catch(() => []), notes);
  let shown = drawFleet(root, ctx);
  ctx.scope.onEvent((e) => noteLive(notes, e, Date.now()));
  ctx.scope.on("sampled", (e) => {
    const list = spark.get(String(e.miner)) ?? [];
    list.push(Number(e.hashrate));
    if (list.length > 120) list.shift();
    spark.set(String(e.miner), list);
  });
  // Rows and the totals line follow each new overview in place (the top bar reads the same one).
  ctx.scope.onOverview((now) => {
    if (!document.body.contains(shown.body)) return;
    if (now.status.miners.length === 0) { ctx.scope.drop(); ctx.scope = ctx.store.scope(); void renderFleet(root, ctx); return; }
    const names = (list: { name: string }[]) => list.map((m) => m.name).sort().join("\u0000");
    if (names(now.status.miners) !== shown.names) shown = drawFleet(root, ctx);
    else { updateRows(shown.body, ctx, shown.colours); shown.foot.textContent = totalsLine(now.status.totals); }
  });
}

interface Shown { body: HTMLElement; foot: HTMLElement; colours: Map<string, string>; names: string }

function drawFleet(root: HTMLElement, ctx: Ctx): Shown {
  const o = ctx.overview;
  if (!o) throw new Error("no status yet");
  const colours = new Map(o.colours);
  const table = h("table", { class: "fleet", id: "fleet-table" });
  const head = h("tr");
  const cols: [string, SortKey | null, boolean][] = [
    ["Name", "name", false], ["Status", "state", false], ["Last hour", null, false], ["Hashrate", "hashrate", true],
    ["Temp", "temp", true], ["Power", "power", true], ["J/TH", "eff", true], ["Settings", null, true], ["Profile", null, false], ["", null, false],
  ];
  let shown: Shown;
  for (const [label, key, right] of cols) {
    const th = h("th", { class: `${right ? "right" : ""}${label === "Settings" ? " col-settings" : ""}`, scope: "col" });
    if (key) {
      const b = h("button", { class: "sort" }, label + (sortKey === key ? (sortUp ? " ▲" : " ▼") : ""));
      b.addEventListener("click", () => { sortUp = sortKey === key ? !sortUp : true; sortKey = key; Object.assign(shown, drawFleet(root, ctx)); });
      th.append(b);
    } else th.append(label);
    head.append(th);
  }
  const body = h("tbody");
  const rows = [...o.status.miners].sort((a, b) => {
    const x = value(a, sortKey), y = value(b, sortKey);
    const c = typeof x === "string" ? x.localeCompare(String(y)) : (x as number) - (y as number);
    return sortUp ? c : -c;
  });
  for (const m of rows) body.append(row(m, colours.get(m.name) ?? "#888", ctx));
  table.append(h("thead", {}, head), body);
  const foot = h("p", { class: "muted totals-line", id: "totals-line" }, totalsLine(o.status.totals));
  root.replaceChildren(h("h1", {}, "Fleet"), h("div", { class: "table-scroll" }, table), foot);
  shown = { body, foot, colours, names: o.status.miners.map((m) => m.name).sort().join("\u0000") };
  return shown;
}

function updateRows(body: HTMLElement, ctx: Ctx, colours: Map<string, string>): void {
  for (const m of ctx.overview?.status.miners ?? []) {
    const old = body.querySelector(`tr[data-miner="${CSS.escape(m.name)}"]`);
    // A row whose menu is open stays until the menu closes (the next poll updates it).
    if (old && !old.querySelector(".menu-wrap.open")) old.replaceWith(row(m, colours.get(m.name) ?? "#888", ctx));
  }
}

function row(m: MinerStatus, colour: string, ctx: Ctx): HTMLElement {
  const i = m.info;
  const eff = i && i.hash_rate && i.power ? i.power / (i.hash_rate / 1000) : null;
  const up = i !== null && !["offline", "disabled", "unknown"].includes(m.state);
  const profile = m.target ? capital(m.target.profile) : "--";
  // What the plan says and why ("Off: price 31 ct above 25; until 21:00"), under the profile.
  const why = m.plan_why ? h("span", { class: "reason plan-why" }, m.plan_why.replace(/^[^:]*:\s*/, "")) : null;
  const items: MenuItem[] = [];
  const act = (label: string, title: string, fn: () => Promise<unknown>, urgent = false) => {
    items.push({ label, title, attention: urgent, run: async () => {
      try { if ((await fn()) === false) return; toast(`${m.name}: ${title}`); await ctx.refresh(); } catch (e) { toast(errorText(e), "error"); }
    } });
  };
  if (!ctx.overview?.read_only) {
    for (const a of attention(m, notes)) {
      const t = attentionText(a, m);
      act(t.label, t.label.toLowerCase(), async () => {
        if (!(await confirmDialog(t.title, t.body, t.ok))) return false;
        await attentionCall(a, m.name);
        handled(notes, m.name, a, Date.now());
        return true;
      }, true);
    }
  }
  if (!ctx.overview?.read_only && m.enabled) {
    act("Apply day now", "apply day now", async () => (await confirmed(m, "day", ctx)) && api.apply("day", m.name));
    act("Apply night now", "apply night now", async () => (await confirmed(m, "night", ctx)) && api.apply("night", m.name));
    for (const p of ["quiet", "efficiency", "performance", "off"]) {
      act(`Apply ${p} now`, `apply ${p} now`, async () => (await confirmedProfile(m, p)) && api.apply(p, m.name));
    }
    act("Pause hashing", "pause hashing", () => api.pauseMiner(m.name, true));
    act("Restart…", "restart", async () => (await confirmDialog(`Restart ${m.name}?`, "It stops hashing for about a minute while it reboots.", "Restart")) && api.restartMiner(m.name));
  }
  act("Open its page", "open its own page", () => api.openMinerPage(m.name));
  const parts = statusParts(m, Date.now(), localHm);
  const said = parts.join("; ");
  // `data-label` names each cell in the phone layout, where a row is a card (style.css).
  const tr = h("tr", { "data-miner": m.name, title: said || m.last_error || "" },
    h("td", { class: "c-name" }, h("span", { class: "dot", style: `background:${colour}` }), m.name),
    h("td", { class: "c-state" }, badge(m.state), said ? reasonLine(m, parts) : null),
    h("td", { class: "c-spark" }, sparkline(spark.get(m.name) ?? [], colour)),
    h("td", { class: "right", "data-label": "Hashrate" }, up ? num(i?.hash_rate, 1, "GH/s") : num(null, 0, "")),
    h("td", { class: "right", "data-label": "Temp" }, up ? num(i?.temp, 1, "°C") : num(null, 0, "")),
    h("td", { class: "right", "data-label": "Power" }, up ? num(i?.power, 1, "W") : num(null, 0, "")),
    h("td", { class: "right", "data-label": "J/TH" }, up ? num(eff, 2, "J/TH") : num(null, 0, "")),
    h("td", { class: "right num settings col-settings", "data-label": "Settings" }, up ? settingsText(i?.core_voltage, i?.frequency) : "--"),
    h("td", { class: "c-profile", title: m.plan_why ?? "", "data-label": "Profile" }, profile, why),
    h("td", { class: "c-actions" }, h("div", { class: "row-actions" }, menu(`Actions for ${m.name}`, items))));
  return tr;
}

/** The words under the badge: the cool-off and a given-up target stand out from the reason. */
function reasonLine(m: MinerStatus, parts: string[]): HTMLElement {
  const line = h("span", { class: "reason", "data-reason": "" });
  parts.forEach((p, i) => {
    if (i > 0) line.append("; ");
    const cls = i === 0 && coolingOff(m, Date.now()) ? "cooloff" : m.gave_up && p === m.gave_up.trim() ? "gave-up" : "";
    line.append(cls ? h("span", { class: cls }, p) : p);
  });
  return line;
}

function attentionCall(a: Attention, miner: string): Promise<void> {
  switch (a) {
    case "retry": return api.retryMiner(miner);
    case "clear_ceiling": return api.clearCeiling(miner);
    case "confirm_identity": return api.confirmIdentity(miner);
  }
}

async function confirmed(m: MinerStatus, profile: "day" | "night", ctx: Ctx): Promise<boolean> {
  const cfg = await api.getConfig();
  const mc = cfg.miners.find((x) => x.name === m.name);
  const g = profile === "day" ? cfg.global_day_settings : cfg.global_night_settings;
  const own = profile === "day" ? mc?.day_settings : mc?.night_settings;
  const v = own?.voltage ?? g.voltage, f = own?.frequency ?? g.frequency;
  const steps = cfg.smooth_transition ? cfg.transition_steps : 1;
  void ctx;
  return confirmDialog(`Apply ${profile} to ${m.name}`, `${m.name}: ${v} mV @ ${f} MHz, in ${steps} step(s) over ${Math.round((steps - 1) * cfg.transition_delay)} s. It holds until the schedule's next change.`);
}

/** A preset or Off, confirmed with what it means for this miner (its own override included). */
async function confirmedProfile(m: MinerStatus, profile: string): Promise<boolean> {
  const cfg = await api.getConfig();
  const spec = (await api.profileSpecs(cfg)).find((p) => p.name === profile);
  const own = cfg.miners.find((x) => x.name === m.name)?.profiles?.[profile];
  const v = own?.voltage ?? spec?.voltage, f = own?.frequency ?? spec?.frequency;
  const what = profile === "off" ? "mining paused (the lowest safe settings where the firmware cannot pause)" : `${v} mV @ ${f} MHz`;
  return confirmDialog(`Apply ${profile} to ${m.name}`, `${m.name}: ${what}. It holds until the plan's next change.`);
}

function renderFirstRun(root: HTMLElement, ctx: Ctx): void {
  // Miners added elsewhere (Miners view, the tray, another window) replace the welcome page.
  ctx.scope.onOverview((o) => {
    if (!document.body.contains(root) || o.status.miners.length === 0) return;
    ctx.scope.drop();
    ctx.scope = ctx.store.scope();
    void renderFleet(root, ctx);
  });
  const card = (title: string, text: string, label: string, id: string, fn: () => void) => {
    const b = h("button", { class: "primary", id }, label);
    b.addEventListener("click", fn);
    return h("div", { class: "card" }, h("h2", {}, title), h("p", {}, text), b);
  };
  root.replaceChildren(
    h("h1", {}, "Welcome"),
    h("p", { class: "lead" }, "No miners yet. Add one by its address, find them on your network, or try a demo fleet to see every view working."),
    h("div", { class: "cards" },
      card("Add a miner", "Type its IP address; the app checks it before saving.", "Add a miner", "first-add", () => (location.hash = "#miners")),
      card("Scan for miners", "Look for Bitaxe miners in an address range you choose.", "Scan", "first-scan", () => (location.hash = "#miners/scan")),
      features.attach ? card("Connect to a scheduler", "Your miners already run under bitaxe-scheduler on another machine (a Raspberry Pi): show and control that fleet here.", "Connect", "first-connect", () => (location.hash = "#settings/connect")) : null,
      features.demo ? card("Try the demo", "Three simulated miners on this computer, clearly labelled, removable in one click.", "Start demo", "first-demo", async () => {
        try { await api.startDemo(); await ctx.refresh(); await renderFleet(root, ctx); } catch (e) { toast(errorText(e), "error"); }
      }) : null));
}
