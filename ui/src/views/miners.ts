// Miners: add by address with a live probe, scan a range, edit and remove.
import { api, errorText, type Config, type Found, type MinerConfig } from "../ipc";
import type { Ctx } from "../main";
import { confirmDialog, h, settingsText, toast } from "../ui";

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
  root.replaceChildren(h("h1", {}, "Miners"), addSection(config, ctx, root), await scanSection(config, ctx, root), listSection(config, ctx, root, readOnly));
  if (ctx.sub === "scan") document.getElementById("scan-range")?.focus();
  else document.getElementById("add-name")?.focus();
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
  const limits = ctx.overview?.limits;
  const items = config.miners.map((m) => {
    const nameI = h("input", { value: m.name, "aria-label": "Name" }) as HTMLInputElement;
    const ipI = h("input", { value: m.ip, "aria-label": "Address" }) as HTMLInputElement;
    const en = h("input", { type: "checkbox", checked: m.enabled, "aria-label": "Enabled" }) as HTMLInputElement;
    const o = (v: number | null | undefined, label: string) => h("input", { type: "number", value: v ?? "", placeholder: "global", "aria-label": label }) as HTMLInputElement;
    const dv = o(m.day_settings?.voltage, "Day voltage"), df = o(m.day_settings?.frequency, "Day frequency");
    const nv = o(m.night_settings?.voltage, "Night voltage"), nf = o(m.night_settings?.frequency, "Night frequency");
    const msg = h("span", { class: "hint error", role: "alert" });
    const check = () => {
      let p = "";
      for (const [i, kind] of [[dv, "v"], [nv, "v"], [df, "f"], [nf, "f"]] as [HTMLInputElement, string][]) {
        if (!i.value || !limits) continue;
        const x = Number(i.value);
        if (kind === "v" && (x < limits.min_voltage || x > limits.max_voltage)) p = `Voltage must be ${limits.min_voltage}–${limits.max_voltage} mV.`;
        if (kind === "f" && (x < limits.min_frequency || x > limits.max_frequency)) p = `Frequency must be ${limits.min_frequency}–${limits.max_frequency} MHz.`;
      }
      msg.textContent = p;
      return p === "";
    };
    [dv, df, nv, nf].forEach((i) => i.addEventListener("input", check));
    const ov = (v: HTMLInputElement, f: HTMLInputElement) => (v.value || f.value ? { voltage: v.value ? Number(v.value) : null, frequency: f.value ? Number(f.value) : null } : null);
    const save = h("button", { class: "small", disabled: readOnly }, "Save");
    save.addEventListener("click", async () => {
      if (!check()) return;
      try {
        await api.updateMiner(m.name, { name: nameI.value.trim(), ip: ipI.value.trim(), enabled: en.checked, day_settings: ov(dv, df), night_settings: ov(nv, nf) });
        toast(`Saved ${nameI.value.trim()}`);
        await ctx.store.configChanged();
        await ctx.refresh();
      } catch (e) { msg.textContent = errorText(e); }
    });
    const del = h("button", { class: "small danger", disabled: readOnly }, "Remove");
    del.addEventListener("click", async () => {
      if (!(await confirmDialog(`Remove ${m.name}?`, "The app stops scheduling it. The miner keeps its current settings.", "Remove"))) return;
      try { await api.removeMiner(m.name); await ctx.refresh(); await renderMiners(root, ctx); } catch (e) { toast(errorText(e), "error"); }
    });
    return h("tr", { "data-miner": m.name }, h("td", {}, nameI), h("td", {}, ipI), h("td", {}, en), h("td", {}, dv, df), h("td", {}, nv, nf), h("td", {}, save, del, msg));
  });
  const table = h("table", { class: "edit" },
    h("thead", {}, h("tr", {}, ...["Name", "Address", "On", "Day override (mV, MHz)", "Night override (mV, MHz)", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, ...items));
  return h("section", { class: "panel" }, h("h2", {}, "Your miners"), table);
}
