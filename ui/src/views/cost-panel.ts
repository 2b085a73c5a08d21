// The History view's cost panel: measured energy and its cost per miner today and this month,
// and per profile this month with its efficiency (J/TH) and cost per TH-day, so the user sees
// which profile pays.
import type { CostTotals } from "../generated/CostTotals";
import { api, errorText } from "../ipc";
import { capital, h } from "../ui";

function money(t: CostTotals | undefined, currency: string | null): string {
  if (!t) return "--";
  if (t.cost == null) return currency ? "no price" : "--";
  return `${t.cost.toFixed(2)} ${currency ?? ""}`.trim();
}
const kwh = (t: CostTotals | undefined) => (t ? `${t.kwh.toFixed(3)} kWh` : "--");

export async function costPanel(): Promise<HTMLElement> {
  const box = h("section", { class: "panel", id: "cost-panel" }, h("h2", {}, "Energy and cost"));
  try {
    const c = await api.costSummary();
    const cur = c.currency;
    const names = [...new Set([...Object.keys(c.month.miners), ...Object.keys(c.today.miners)])].sort();
    const row = (label: string, today: CostTotals | undefined, month: CostTotals | undefined, cls = "") => h("tr", { class: cls },
      h("th", { scope: "row" }, label), h("td", { class: "right num" }, kwh(today)), h("td", { class: "right num" }, money(today, cur)),
      h("td", { class: "right num" }, kwh(month)), h("td", { class: "right num" }, money(month, cur)));
    const perMiner = h("table", { class: "stats", id: "cost-miners" },
      h("thead", {}, h("tr", {}, ...["Miner", "Today", "Cost today", "This month", "Cost this month"].map((x, i) => h("th", { class: i ? "right" : "", scope: "col" }, x)))),
      h("tbody", {}, ...names.map((n) => row(n, c.today.miners[n]?.total, c.month.miners[n]?.total)),
        row("Fleet", c.today.fleet.total, c.month.fleet.total, "total")));
    const profiles = Object.entries(c.month.fleet.profiles).filter(([, t]) => t && t.kwh > 0) as [string, CostTotals][];
    const perProfile = h("table", { class: "stats", id: "cost-profiles" },
      h("thead", {}, h("tr", {}, ...["Profile (this month)", "Energy", "Cost", "J/TH", `Cost per TH-day`].map((x, i) => h("th", { class: i ? "right" : "", scope: "col" }, x)))),
      h("tbody", {}, ...profiles.map(([p, t]) => h("tr", {}, h("th", { scope: "row" }, capital(p)), h("td", { class: "right num" }, kwh(t)),
        h("td", { class: "right num" }, money(t, cur)), h("td", { class: "right num" }, t.j_per_th != null ? t.j_per_th.toFixed(2) : "--"),
        h("td", { class: "right num" }, t.cost_per_th_day != null ? `${t.cost_per_th_day.toFixed(3)} ${cur ?? ""}` : "--")))));
    box.append(
      h("p", { class: "hint" }, cur ? `Integrated from the measured power and the price of each 15-minute slot (${cur}).` : "Integrated from the measured power. Set a tariff (Energy) to see the cost."),
      perMiner, profiles.length ? perProfile : h("p", { class: "muted" }, "No energy measured this month yet."));
    if (c.month.fleet.total.unpriced_kwh > 0 && cur) box.append(h("p", { class: "hint" }, `${c.month.fleet.total.unpriced_kwh.toFixed(3)} kWh this month had no known price and count no money.`));
  } catch (e) {
    box.append(h("p", { class: "muted" }, `No cost yet: ${errorText(e)}`));
  }
  return box;
}
