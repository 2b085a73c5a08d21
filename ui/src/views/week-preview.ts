// The "next 7 days" strip: one row per miner, one cell per hour, coloured by the profile the
// engine's resolver picks for that hour (with its reason on hover), days marked, and an
// optional price row. Renders whatever the preview command returns for the draft.
import { h } from "../ui";
import { profileColour, profileLetter } from "./profile-colours";

export interface PreviewRow { miner: string; profiles: string[]; reasons: string[] }
export interface PreviewData { hours: string[]; rows: PreviewRow[]; prices?: (number | null)[]; currency?: string }

const dayFmt = (iso: string) => new Date(iso).toLocaleDateString([], { weekday: "short", day: "numeric" });
const hourOf = (iso: string) => new Date(iso).getHours();

export function weekPreview(p: PreviewData): HTMLElement {
  const table = h("table", { class: "week-preview", id: "week-preview" });
  const head = h("tr", {}, h("th", { scope: "col" }, "Miner"));
  // A day label over each day's hours.
  let i = 0;
  while (i < p.hours.length) {
    let n = 1;
    while (i + n < p.hours.length && hourOf(p.hours[i + n]) !== 0) n++;
    head.append(h("th", { colspan: n, scope: "colgroup", class: "wp-day" }, n >= 4 ? dayFmt(p.hours[i]) : ""));
    i += n;
  }
  const body = h("tbody");
  for (const r of p.rows) {
    const tr = h("tr", { "data-miner": r.miner }, h("th", { scope: "row" }, r.miner));
    r.profiles.forEach((prof, k) => {
      const at = new Date(p.hours[k]);
      const when = `${dayFmt(p.hours[k])} ${String(at.getHours()).padStart(2, "0")}:00`;
      tr.append(h("td", {
        class: hourOf(p.hours[k]) === 0 ? "wp-cell midnight" : "wp-cell", style: `background:${profileColour(prof)}`,
        title: `${r.miner}, ${when}: ${prof}${r.reasons[k] ? ` (${r.reasons[k]})` : ""}`, "data-profile": prof,
      }, profileLetter(prof)));
    });
    body.append(tr);
  }
  if (p.prices && p.prices.some((x) => x !== null)) {
    const known = p.prices.filter((x): x is number => x !== null);
    const lo = Math.min(...known), hi = Math.max(...known);
    const tr = h("tr", { class: "wp-prices" }, h("th", { scope: "row" }, `Price${p.currency ? ` (${p.currency}/kWh)` : ""}`));
    p.prices.forEach((x, k) => {
      const share = x === null || hi === lo ? 0 : (x - lo) / (hi - lo);
      tr.append(h("td", { class: "wp-price", title: x === null ? "no price" : `${x.toFixed(3)} ${p.currency ?? ""}/kWh`, "data-hour": p.hours[k] },
        x === null ? "" : h("span", { class: "bar", style: `height:${Math.round(4 + share * 18)}px` })));
    });
    body.append(tr);
  }
  table.append(h("thead", {}, head), body);
  return h("div", { class: "wp-scroll" }, table);
}
