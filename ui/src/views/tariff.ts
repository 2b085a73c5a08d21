// The tariff editor (Energy view): the currency, fixed price windows by time and weekday, and
// an optional price feed (source, its own keys, charges and tax) with a test fetch; when
// prices were last fetched. Edits the store's draft; the caller checks and saves it.
import type { SourceConfig } from "../generated/SourceConfig";
import type { SourceKind } from "../generated/SourceKind";
import type { TariffConfig } from "../generated/TariffConfig";
import type { WindowConfig } from "../generated/WindowConfig";
import { api, errorText, type Config } from "../ipc";
import { h, localHm } from "../ui";
import { DAY_KEYS } from "./plan-periods";

/** Each source's own keys, with their labels and placeholders (prices/source.rs). */
const SOURCE_KEYS: Record<SourceKind, [keyof SourceConfig, string, string][]> = {
  "energy-charts": [["bzn", "Bidding zone", "DE-LU"]],
  awattar: [["country", "Country", "de or at"]],
  octopus: [["product", "Product", "AGILE-24-10-01"], ["region", "Region letter", "C"]],
  tibber: [["token", "API token", ""], ["home_id", "Home id (optional)", "first home"]],
  entsoe: [["token", "API token", ""], ["zone", "Zone (EIC code)", "10Y1001A1001A82H"]],
  url: [["format", "Format", "json or csv"], ["list_field", "List field", "data"], ["start_field", "Start field", "start"],
    ["end_field", "End field", "end"], ["price_field", "Price field", "price"], ["time_format", "Time format", "rfc3339, unix or unix_ms"],
    ["price_unit", "Price unit", "kwh or mwh"]],
};
const SOURCE_NAMES: [SourceKind, string][] = [
  ["energy-charts", "Energy-Charts (no key)"], ["awattar", "aWATTar (no key)"], ["octopus", "Octopus Agile (no key)"],
  ["tibber", "Tibber (token)"], ["entsoe", "ENTSO-E (token)"], ["url", "Your own JSON or CSV URL"],
];

export function tariffPanel(draft: Config, readOnly: boolean, changed: () => void): HTMLElement {
  const t = (): TariffConfig => {
    if (!draft.tariff) draft.tariff = { currency: "EUR", fixed: [] };
    return draft.tariff;
  };
  const box = h("section", { class: "panel", id: "tariff" });
  const draw = () => {
    const tariff = draft.tariff;
    const on = h("input", { type: "checkbox", id: "tariff-on", checked: Boolean(tariff), disabled: readOnly }) as HTMLInputElement;
    on.addEventListener("change", () => { if (on.checked) t(); else draft.tariff = null; changed(); draw(); });
    box.replaceChildren(h("h2", {}, "Electricity price"),
      h("label", { class: "check" }, on, " Use a tariff (for price rules and the cost of each profile)"));
    if (!tariff) return;
    const cur = h("input", { id: "tariff-currency", value: tariff.currency, maxlength: 3, "data-path": "tariff.currency", disabled: readOnly, size: 4 }) as HTMLInputElement;
    cur.addEventListener("input", () => { t().currency = cur.value.trim().toUpperCase(); changed(); });
    box.append(h("div", { class: "form-row" }, h("label", { class: "field" }, h("span", {}, "Currency"), cur)));
    box.append(fixedWindows(tariff, readOnly, changed, draw), sourceEditor(draft, tariff, readOnly, changed, draw));
  };
  draw();
  return box;
}

function fixedWindows(tariff: TariffConfig, readOnly: boolean, changed: () => void, draw: () => void): HTMLElement {
  const list = tariff.fixed ?? (tariff.fixed = []);
  const rows = list.map((w, i) => {
    const path = `tariff.fixed[${i}]`;
    const from = h("input", { type: "time", value: w.from, "data-path": `${path}.from`, disabled: readOnly }) as HTMLInputElement;
    const to = h("input", { type: "time", value: w.to, "data-path": `${path}.to`, disabled: readOnly }) as HTMLInputElement;
    const price = h("input", { type: "number", step: "any", value: w.price_per_kwh, "data-path": `${path}.price_per_kwh`, disabled: readOnly, "aria-label": "Price per kWh" }) as HTMLInputElement;
    const days = DAY_KEYS.map((d) => {
      const c = h("input", { type: "checkbox", checked: !w.days || w.days.includes(d), disabled: readOnly }) as HTMLInputElement;
      c.addEventListener("change", () => {
        const picked = DAY_KEYS.filter((_, k) => (days[k].firstChild as HTMLInputElement).checked);
        w.days = picked.length === 7 ? null : picked;
        if (w.days === null) delete w.days;
        changed();
      });
      return h("label", { class: "day-pick" }, c, d.charAt(0).toUpperCase() + d.slice(1, 2));
    });
    const sync = () => { w.from = from.value; w.to = to.value; w.price_per_kwh = Number(price.value); changed(); };
    [from, to].forEach((x) => x.addEventListener("change", sync));
    price.addEventListener("input", sync);
    const del = h("button", { class: "small danger", disabled: readOnly }, "Remove");
    del.addEventListener("click", () => { list.splice(i, 1); changed(); draw(); });
    return h("tr", { "data-path": path }, h("td", {}, from, " – ", to), h("td", {}, price), h("td", { class: "days" }, ...days), h("td", { class: "right" }, del));
  });
  const add = h("button", { id: "window-add", disabled: readOnly }, "Add a price window");
  add.addEventListener("click", () => {
    const w: WindowConfig = list.length ? { from: "22:00", to: "06:00", price_per_kwh: 0.2 } : { from: "00:00", to: "00:00", price_per_kwh: 0.3 };
    list.push(w);
    changed();
    draw();
  });
  return h("div", { class: "fixed-windows" }, h("h3", {}, "Fixed prices"),
    h("p", { class: "hint" }, "Price per kWh by local time and weekday; the first window that matches wins. With a feed, they fill in where the feed has no price."),
    rows.length ? h("table", { class: "edit" }, h("thead", {}, h("tr", {}, ...["Time", `Price (${tariff.currency}/kWh)`, "Days", ""].map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, ...rows))
      : h("p", { class: "muted" }, "No fixed windows."),
    h("div", { class: "buttons" }, add));
}

function sourceEditor(draft: Config, tariff: TariffConfig, readOnly: boolean, changed: () => void, draw: () => void): HTMLElement {
  const src = tariff.source ?? null;
  const kind = h("select", { id: "source-type", "data-path": "tariff.source.type", disabled: readOnly },
    h("option", { value: "" }, "No feed (fixed prices only)"), ...SOURCE_NAMES.map(([k, label]) => h("option", { value: k, selected: src?.type === k }, label))) as HTMLSelectElement;
  kind.addEventListener("change", () => {
    tariff.source = kind.value ? { type: kind.value as SourceKind } : null;
    changed();
    draw();
  });
  const out = h("div", { class: "source" }, h("h3", {}, "Price feed"), h("div", { class: "form-row" }, h("label", { class: "field" }, h("span", {}, "Source"), kind)));
  if (!src) return out;
  const text = (key: keyof SourceConfig, label: string, placeholder: string, type = "text") => {
    const i = h("input", { id: `source-${String(key)}`, type, value: (src[key] as string | number | null | undefined) ?? "", placeholder, "data-path": `tariff.source.${String(key)}`, disabled: readOnly }) as HTMLInputElement;
    i.addEventListener("input", () => {
      const rec = src as unknown as Record<string, unknown>;
      if (i.value === "") delete rec[key as string];
      else rec[key as string] = type === "number" ? Number(i.value) : i.value.trim();
      changed();
    });
    return h("label", { class: "field" }, h("span", {}, label), i);
  };
  out.append(h("div", { class: "form-row" }, ...SOURCE_KEYS[src.type].map(([k, label, ph]) => text(k, label, ph))),
    h("div", { class: "form-row" }, text("charges", `Charges (${tariff.currency}/kWh, added)`, "0", "number"), text("tax", "Tax (fraction, 0.19 = 19 %)", "0", "number"),
      text("slot_minutes", "Slot length (min)", "as published", "number"), text("url", "Endpoint (optional)", "the provider's")));
  const test = h("button", { id: "test-fetch", disabled: readOnly }, "Test fetch");
  const result = h("p", { class: "hint", id: "test-fetch-result", role: "status" });
  test.addEventListener("click", async () => {
    test.disabled = true;
    result.textContent = "Fetching…";
    try {
      const r = await api.testFetch(draft);
      result.textContent = r.count && r.from && r.to
        ? `${r.source}: ${r.count} prices from ${localHm(r.from)} to ${new Date(r.to).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" })}, ${r.min?.toFixed(3)} to ${r.max?.toFixed(3)} ${r.currency}/kWh.`
        : `${r.source}: no prices.`;
    } catch (e) { result.textContent = `The fetch failed: ${errorText(e)}`; }
    test.disabled = readOnly;
  });
  const status = h("p", { class: "muted", id: "prices-status" });
  void api.priceStrip("24h").then((s) => {
    if (!s) return;
    const st = s.status;
    status.textContent = `${st.last_fetch ? `Prices last fetched ${new Date(st.last_fetch).toLocaleString()}` : "Not fetched yet"}${st.message ? `: ${st.message}` : ""}${st.last_error ? ` (last error: ${st.last_error})` : ""}`;
  }).catch(() => {});
  const now = h("button", { id: "fetch-now", disabled: readOnly }, "Fetch saved tariff now");
  now.addEventListener("click", async () => {
    now.disabled = true;
    try { const s = await api.refreshPrices(); status.textContent = `Fetched: ${s.slots.length} slots. ${s.status.message}`; }
    catch (e) { status.textContent = `The fetch failed: ${errorText(e)}`; }
    now.disabled = readOnly;
  });
  out.append(h("div", { class: "buttons" }, test, now), result, status);
  return out;
}
