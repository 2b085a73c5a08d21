// Miners: add by address with a live probe, scan a range, edit and remove.
import { api, errorText, type Config, type Found, type MinerConfig, type ProfileOverride } from "../ipc";
import type { Ctx } from "../main";
import { capital, confirmDialog, drawer, h, settingsText, toast } from "../ui";
import { overrideSummary, rangeProblem } from "./miner-text";
import { sentence } from "./problems";
import { profileNames } from "./profile-names";

function field(label: string, input: HTMLElement, hint?: HTMLElement): HTMLElement {
  return h("label", { class: "field" }, h("span", {}, label), input, hint ?? null);
}

function foundCard(f: Found): HTMLElement {
  return h("div", { class: "probe-card", id: "probe-result" },
    h("strong", {}, `${f.model ?? "Bitaxe"} · ${f.asic_model ?? "?"}`),
    h("span", {}, `Firmware ${f.firmware ?? "?"}`),
    h("span", {}, `Now ${settingsText(f.voltage, f.frequency)}`),
    h("span", {}, f.hashrate != null ? `${f.hashrate.toFixed(1)} GH/s` : ""));
}

export async function renderMiners(root: HTMLElement, ctx: Ctx): Promise<void> {
  const config = await api.getConfig();
  const readOnly = ctx.overview?.read_only != null;
  const list = listSection(config, ctx, root, readOnly);
  const add = addSection(config, ctx, root), scan = await scanSection(config, ctx, root);
  // With miners, the list comes first; without, adding and scanning do.
  root.replaceChildren(h("h1", {}, "Miners"), ...(config.miners.length ? [list, add, scan] : [add, scan, list]));
  if (ctx.sub === "scan") document.getElementById("scan-range")?.focus();
  else if (config.miners.length === 0) document.getElementById("add-name")?.focus();
}

function addSection(config: Config, ctx: Ctx, root: HTMLElement): HTMLElement {
  const name = h("input", { id: "add-name", autocomplete: "off", placeholder: "office" });
  const address = h("input", { id: "add-address", autocomplete: "off", placeholder: "IP, IP:PORT or http://host" });
  const msg = h("p", { class: "hint", id: "add-message", role: "alert" });
  const result = h("div", { id: "probe-slot" });
  const probe = h("button", { id: "probe-btn" }, "Check");
  const save = h("button", { class: "primary", id: "save-miner", disabled: true }, "Add miner");
  let probed = "";
  const validate = () => {
    const n = name.value.trim();
    let problem = "";
    if (!n) problem = "Give the miner a name.";
    else if (config.miners.some((m) => m.name === n)) problem = `A miner named "${n}" already exists.`;
    else if (!address.value.trim()) problem = "Enter its address.";
    else if (/^[a-z]+:\/\//i.test(address.value.trim()) && !address.value.trim().startsWith("http://")) problem = "Only http:// addresses: miners do not speak HTTPS.";
    msg.textContent = problem;
    save.disabled = problem !== "" || probed !== address.value.trim();
    return problem === "";
  };
  name.addEventListener("input", validate);
  address.addEventListener("input", () => { result.replaceChildren(); validate(); });
  probe.addEventListener("click", async () => {
    if (!validate()) return;
    probe.disabled = true;
    result.replaceChildren(h("p", { class: "muted" }, "Checking…"));
    try {
      const f = await api.probe(address.value.trim());
      probed = address.value.trim();
      result.replaceChildren(foundCard(f));
    } catch (e) {
      probed = "";
      result.replaceChildren(h("p", { class: "error" }, `No miner answered: ${errorText(e)}. Check the address and that the miner is on.`));
    }
    probe.disabled = false;
    validate();
  });
  save.addEventListener("click", async () => {
    try {
      await api.addMiners([{ name: name.value.trim(), ip: address.value.trim(), enabled: true, day_settings: null, night_settings: null }]);
      toast(`Added ${name.value.trim()}`);
      await ctx.refresh();
      await renderMiners(root, ctx);
    } catch (e) { msg.textContent = errorText(e); }
  });
  const form = h("div", { class: "form-row" }, field("Name", name), field("Address", address), h("div", { class: "buttons" }, probe, save));
  return h("section", { class: "panel", "aria-labelledby": "add-title" }, h("h2", { id: "add-title" }, "Add by address"), form, msg, result);
}

async function scanSection(config: Config, ctx: Ctx, root: HTMLElement): Promise<HTMLElement> {
  const suggestion = await api.defaultScanRange().catch(() => null);
  const range = h("input", { id: "scan-range", placeholder: "192.0.2.0/24 or 192.0.2.10-192.0.2.40" }) as HTMLInputElement;
  range.value = suggestion ?? "";
  const port = h("input", { id: "scan-port", type: "number", min: 1, max: 65535, value: 80 }) as HTMLInputElement;
  const go = h("button", { id: "scan-btn" }, "Scan");
  const out = h("div", { id: "scan-results" });
  go.addEventListener("click", async () => {
    go.disabled = true;
    out.replaceChildren(h("p", { class: "muted" }, "Scanning… (up to a few seconds per 64 addresses)"));
    try {
      const found = (await api.scan(range.value.trim(), Number(port.value) || 80)).filter((f) => !config.miners.some((m) => m.ip === f.url));
      if (found.length === 0) out.replaceChildren(h("p", { class: "muted" }, "No new miners found in that range."));
      else {
        const boxes = found.map((_, i) => h("input", { type: "checkbox", checked: true, id: `scan-pick-${i}` }) as HTMLInputElement);
        const list = h("ul", { class: "scan-list" }, ...found.map((f, i) => h("li", {}, h("label", { for: `scan-pick-${i}` }, boxes[i], ` ${f.hostname ?? f.url} — ${f.url} · ${f.firmware ?? ""} · ${settingsText(f.voltage, f.frequency)}`))));
        const add = h("button", { class: "primary", id: "scan-add" }, "Add selected");
        add.addEventListener("click", async () => {
          const picked: MinerConfig[] = found.filter((_, i) => boxes[i].checked).map((f, i) => ({
            name: uniqueName(config, f.hostname ?? `miner-${i + 1}`), ip: f.url, enabled: true, day_settings: null, night_settings: null,
          }));
          try { await api.addMiners(picked); toast(`Added ${picked.length} miner(s)`); await ctx.refresh(); await renderMiners(root, ctx); } catch (e) { toast(errorText(e), "error"); }
        });
        out.replaceChildren(list, add);
      }
    } catch (e) { out.replaceChildren(h("p", { class: "error" }, errorText(e))); }
    go.disabled = false;
  });
  return h("section", { class: "panel" }, h("h2", {}, "Find miners"),
    h("p", { class: "hint" }, "Scans only the range you enter (at most 1024 addresses). The suggestion is this computer's own network."),
    h("div", { class: "form-row" }, field("Address range", range), field("Port", port), h("div", { class: "buttons" }, go)), out);
}

function uniqueName(config: Config, base: string): string {
  let n = base, i = 2;
  while (config.miners.some((m) => m.name === n)) n = `${base}-${i++}`;
  return n;
}

function listSection(config: Config, ctx: Ctx, root: HTMLElement, readOnly: boolean): HTMLElement {
  if (config.miners.length === 0) return h("section", { class: "panel" }, h("h2", {}, "Your miners"), h("p", { class: "muted" }, "None yet."));
  const colours = new Map(ctx.overview?.colours ?? []);
  const rows = config.miners.map((m) => {
    const edit = h("button", { class: "small", "data-edit": m.name, disabled: readOnly, title: readOnly ? "Read-only" : `Edit ${m.name}` }, "Edit…");
    edit.addEventListener("click", () => editMiner(config, m, ctx, root, edit));
    return h("tr", { "data-miner": m.name },
      h("td", { class: "nowrap" }, h("span", { class: "dot", style: `background:${colours.get(m.name) ?? "#888"}` }), m.name),
      h("td", { class: "num" }, m.ip),
      h("td", {}, m.enabled ? "Scheduled" : h("span", { class: "muted" }, "Disabled")),
      h("td", {}, h("span", { class: "muted" }, overrideSummary(m))),
      h("td", { class: "right" }, edit));
  });
  const table = h("table", { class: "edit miner-list" },
    h("thead", {}, h("tr", {}, ...["Name", "Address", "Schedule", "Settings", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, ...rows));
  return h("section", { class: "panel" }, h("h2", {}, "Your miners"), h("div", { class: "table-scroll" }, table));
}

/** Edit one miner in a drawer: name, address, enabled, its own settings per profile; or remove it. */
function editMiner(config: Config, m: MinerConfig, ctx: Ctx, root: HTMLElement, opener: HTMLElement): void {
  const limits = ctx.overview?.limits;
  const input = (id: string, value: string | number | null | undefined, attrs: Record<string, string | number> = {}) =>
    h("input", { id, value: value ?? "", autocomplete: "off", ...attrs }) as HTMLInputElement;
  const nameI = input("edit-name", m.name);
  const ipI = input("edit-address", m.ip);
  const en = h("input", { type: "checkbox", id: "edit-enabled", checked: m.enabled }) as HTMLInputElement;
  const num = (id: string, v: number | null | undefined, step: number) => input(id, v, { type: "number", step, placeholder: "fleet" });
  const profiles: [string, HTMLInputElement, HTMLInputElement][] = [
    ["day", num("edit-day-voltage", m.day_settings?.voltage, 5), num("edit-day-frequency", m.day_settings?.frequency, 5)],
    ["night", num("edit-night-voltage", m.night_settings?.voltage, 5), num("edit-night-frequency", m.night_settings?.frequency, 5)],
  ];
  // The presets and the user's own profiles: this miner's overrides of them (`profiles`).
  const others = profileNames(config.profiles).filter((n) => !["day", "night", "off"].includes(n));
  for (const n of others) {
    const o = m.profiles?.[n];
    profiles.push([n, num(`edit-${n}-voltage`, o?.voltage, 5), num(`edit-${n}-frequency`, o?.frequency, 5)]);
  }
  const msg = h("p", { class: "hint error", id: "edit-message", role: "alert" });
  const save = h("button", { class: "primary", id: "edit-save" }, "Save");
  const remove = h("button", { class: "danger", id: "edit-remove" }, "Remove miner");
  const ov = (v: HTMLInputElement, f: HTMLInputElement) =>
    v.value || f.value ? { voltage: v.value ? Number(v.value) : null, frequency: f.value ? Number(f.value) : null } : null;
  const edited = (): MinerConfig => {
    const own: Record<string, ProfileOverride> = {};
    for (const [n, v, f] of profiles.slice(2)) {
      const o = ov(v, f);
      if (o) own[n] = o;
    }
    return {
      ...m, name: nameI.value.trim(), ip: ipI.value.trim(), enabled: en.checked,
      day_settings: ov(profiles[0][1], profiles[0][2]), night_settings: ov(profiles[1][1], profiles[1][2]), profiles: own,
    };
  };
  let seq = 0;
  const check = async (): Promise<boolean> => {
    const mine = ++seq;
    let p = "";
    const n = nameI.value.trim();
    if (!n) p = "Give the miner a name.";
    else if (n !== m.name && config.miners.some((x) => x.name === n)) p = `A miner named "${n}" already exists.`;
    else if (!ipI.value.trim()) p = "Enter its address.";
    for (const [label, v, f] of profiles) {
      if (p || !limits) break;
      p = rangeProblem(`${capital(label)} voltage`, v.value, limits.min_voltage, limits.max_voltage, "mV")
        || rangeProblem(`${capital(label)} frequency`, f.value, limits.min_frequency, limits.max_frequency, "MHz");
    }
    if (!p) {
      // The engine's own rules on the whole config with this miner changed.
      const next: Config = { ...config, miners: config.miners.map((x) => (x.name === m.name ? edited() : x)) };
      const problems = await api.checkConfig(next).catch((e) => [{ code: "ipc", path: "", message: errorText(e) }]);
      p = problems[0] ? sentence(problems[0]) : "";
    }
    if (mine !== seq) return false;
    msg.textContent = p;
    save.disabled = p !== "";
    return p === "";
  };
  [nameI, ipI, ...profiles.flatMap(([, v, f]) => [v, f])].forEach((i) => i.addEventListener("input", () => void check()));
  en.addEventListener("change", () => void check());
  const field2 = (label: string, i: HTMLElement) => h("label", { class: "field" }, h("span", {}, label), i);
  const body = h("div", { class: "drawer-body" },
    field2("Name", nameI), field2("Address", ipI),
    h("label", { class: "check" }, en, " Follow the schedule (unticked: watched, never changed)"),
    ...profiles.slice(0, 2).map(([label, v, f]) => h("fieldset", {}, h("legend", {}, `Own ${label} settings (empty: the fleet's)`),
      field2("Voltage (mV)", v), field2("Frequency (MHz)", f))),
    others.length ? h("details", { class: "more-profiles" }, h("summary", {}, "Own settings for other profiles"),
      ...profiles.slice(2).map(([label, v, f]) => h("fieldset", {}, h("legend", {}, capital(label)),
        field2("Voltage (mV)", v), field2("Frequency (MHz)", f)))) : null,
    msg,
    h("div", { class: "actions" }, remove, h("div", { class: "buttons" }, save)));
  const d = drawer(`Edit ${m.name}`, body, opener);
  // Leaving the view closes it.
  ctx.scope.add(d.close);
  save.addEventListener("click", async () => {
    if (!(await check())) return;
    try {
      const next = edited();
      await api.updateMiner(m.name, next);
      toast(`Saved ${next.name}`);
      d.close();
      await ctx.store.configChanged();
      await ctx.refresh();
      await renderMiners(root, ctx);
    } catch (e) { msg.textContent = errorText(e); }
  });
  remove.addEventListener("click", async () => {
    if (!(await confirmDialog(`Remove ${m.name}?`, "The app stops scheduling it. The miner keeps its current settings.", "Remove"))) return;
    try { await api.removeMiner(m.name); d.close(); await ctx.store.configChanged(); await ctx.refresh(); await renderMiners(root, ctx); } catch (e) { toast(errorText(e), "error"); }
  });
  void check();
}
