// History: charts drawn in Rust (plotters, SVG), ranges, fleet or per miner, day/night stats, exports.
import { api, errorText, type Metric } from "../ipc";
import type { Ctx } from "../main";
import { capital, h, toast } from "../ui";
import { costPanel } from "./cost-panel";

const METRICS: [Metric, string][] = [["hashrate", "Hashrate"], ["power", "Power"], ["temperature", "Temperature"], ["efficiency", "Efficiency"]];

export async function renderHistory(root: HTMLElement, ctx: Ctx): Promise<void> {
  const prefs = await api.getPrefs();
  let range = prefs.chart_range || "24h";
  let miner: string | null = null;
  let total = false;
  const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  const charts = h("div", { class: "charts", id: "charts" });
  const legend = h("p", { class: "hint legend", id: "band-legend" });
  const seg = (items: [string, string][], current: () => string, set: (v: string) => void, label: string) => {
    const g = h("div", { class: "segmented", role: "group", "aria-label": label });
    for (const [v, t] of items) {
      const b = h("button", { "aria-pressed": String(current() === v), "data-value": v }, t);
      b.addEventListener("click", () => { set(v); g.querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(x === b))); void draw(); });
      g.append(b);
    }
    return g;
  };
  const who = h("select", { id: "history-miner", "aria-label": "Miner" },
    h("option", { value: "" }, "Every miner"), h("option", { value: "__total" }, "Fleet total"),
    ...(ctx.overview?.status.miners ?? []).map((m) => h("option", { value: m.name }, m.name))) as HTMLSelectElement;
  who.addEventListener("change", () => { total = who.value === "__total"; miner = total || !who.value ? null : who.value; void draw(); });
  const draw = async () => {
    charts.replaceChildren(h("p", { class: "muted" }, "Drawing…"));
    const width = Math.max(480, Math.min(1100, charts.clientWidth || 900));
    const out: HTMLElement[] = [];
    for (const [metric, title] of METRICS) {
      try {
        const c = await api.chart(metric, range, miner, total, dark, width, 240);
        if (metric === "hashrate") {
          legend.replaceChildren(...(c.legend.length ? ["Bands: the profile that ran. "] : []),
            ...c.legend.map(([p, colour]) => h("span", { class: "swatch-item" }, h("span", { class: "swatch", style: `background:${colour}` }), capital(p))));
        }
        const box = h("figure", { class: "chart", "data-metric": metric });
        box.innerHTML = c.svg;
        box.prepend(h("figcaption", {}, title, h("span", { class: "muted" }, ` · ${c.points} points · drawn in ${c.render_ms.toFixed(0)} ms`)));
        const svgBtn = h("button", { class: "small" }, "SVG");
        svgBtn.addEventListener("click", () => save("svg", Array.from(new TextEncoder().encode(c.svg))));
        const pngBtn = h("button", { class: "small" }, "PNG");
        pngBtn.addEventListener("click", async () => save("png", await toPng(c.svg, width, 240)));
        box.append(h("div", { class: "chart-actions" }, svgBtn, pngBtn));
        if (c.points === 0) box.append(h("p", { class: "muted" }, "No samples in this range yet: the scheduler records one per poll."));
        out.push(box);
      } catch (e) { out.push(h("p", { class: "error" }, `${title}: ${errorText(e)}`)); }
    }
    charts.replaceChildren(...out);
    await drawPrices();
  };
  // The price of each slot over the range, under the charts (from the tariff: feed and fixed).
  const priceBox = h("figure", { class: "chart price-strip", id: "price-strip" });
  const drawPrices = async () => {
    const s = await api.priceStrip(range).catch(() => null);
    if (!s || s.slots.length === 0) { priceBox.replaceChildren(); priceBox.hidden = true; return; }
    priceBox.hidden = false;
    const t0 = Date.parse(s.slots[0].start), t1 = Date.parse(s.slots[s.slots.length - 1].end);
    const lo = Math.min(0, ...s.slots.map((x) => x.price)), hi = Math.max(...s.slots.map((x) => x.price), lo + 0.01);
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 1000 60");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "strip");
    for (const x of s.slots) {
      const r = document.createElementNS(ns, "rect");
      const a = ((Date.parse(x.start) - t0) / (t1 - t0)) * 1000, b = ((Date.parse(x.end) - t0) / (t1 - t0)) * 1000;
      const y = 58 - ((x.price - lo) / (hi - lo)) * 56;
      r.setAttribute("x", a.toFixed(2)); r.setAttribute("width", Math.max(0.5, b - a - 0.3).toFixed(2));
      r.setAttribute("y", Math.min(y, 58).toFixed(2)); r.setAttribute("height", Math.max(1, 58 - y).toFixed(2));
      r.setAttribute("fill", "#F7931A");
      const tip = document.createElementNS(ns, "title");
      tip.textContent = `${new Date(x.start).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" })}: ${x.price.toFixed(3)} ${s.currency}/kWh`;
      r.append(tip);
      svg.append(r);
    }
    priceBox.replaceChildren(h("figcaption", {}, "Electricity price", h("span", { class: "muted" },
      ` · ${lo.toFixed(3)} to ${hi.toFixed(3)} ${s.currency}/kWh · ${s.status.last_fetch ? `fetched ${new Date(s.status.last_fetch).toLocaleString()}` : s.status.source ? "not fetched yet" : "fixed tariff"}`)), svg);
  };
  const save = async (kind: string, content?: number[]) => {
    try { toast(`Saved ${await api.exportFile(kind, range, miner, content)}`); } catch (e) { toast(errorText(e), "error"); }
  };
  const csv = h("button", { id: "export-csv" }, "Export CSV");
  csv.addEventListener("click", () => save("csv"));
  const stats = await api.stats().catch(() => null);
  const statRows = Object.entries(stats?.miners ?? {}).flatMap(([name, s]) => !s ? [] : h("tr", {},
    h("td", {}, name),
    ...[s.day_performance, s.night_performance].flatMap((p) => [
      h("td", { class: "right num" }, p.samples ? `${p.avg_hashrate.toFixed(1)} GH/s` : "--"),
      h("td", { class: "right num" }, p.samples ? `${p.avg_power.toFixed(1)} W` : "--"),
      h("td", { class: "right num" }, p.avg_efficiency != null ? `${p.avg_efficiency.toFixed(2)} J/TH` : "--")])));
  const statTable = statRows.length
    ? h("table", { class: "stats" }, h("thead", {}, h("tr", {}, h("th", {}, "Miner"), h("th", { class: "right" }, "Day hashrate"), h("th", { class: "right" }, "Day power"), h("th", { class: "right" }, "Day J/TH"), h("th", { class: "right" }, "Night hashrate"), h("th", { class: "right" }, "Night power"), h("th", { class: "right" }, "Night J/TH"))), h("tbody", {}, ...statRows))
    : h("p", { class: "muted" }, "Day and night averages appear after the first statistics save.");
  root.replaceChildren(h("h1", {}, "History"),
    h("div", { class: "toolbar" }, seg([["1h", "1 h"], ["24h", "24 h"], ["7d", "7 d"], ["30d", "30 d"]], () => range, (v) => { range = v; void api.setPrefs({ ...prefs, chart_range: v }); }, "Range"), who, csv),
    legend,
    charts, priceBox, await costPanel(), h("h2", {}, "Day vs night"), statTable);
  await draw();
}

/** Rasterise an SVG in the webview (the chart itself is drawn by plotters in Rust). */
async function toPng(svg: string, w: number, hgt: number): Promise<number[]> {
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = w * 2; canvas.height = hgt * 2;
  const g = canvas.getContext("2d");
  if (!g) return [];
  g.scale(2, 2);
  g.drawImage(img, 0, 0, w, hgt);
  const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, "image/png"));
  return blob ? Array.from(new Uint8Array(await blob.arrayBuffer())) : [];
}
