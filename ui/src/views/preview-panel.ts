// The Plan view's "next 7 days": asks the desktop for the resolver's segments for the draft
// (debounced while painting) and draws them hour by hour.
import { api, errorText, type Config } from "../ipc";
import { h } from "../ui";
import { hourly, hourStarts } from "./preview-hours";
import { weekPreview } from "./week-preview";

let timer = 0;

export function renderPreview(box: HTMLElement, draft: Config): Promise<void> {
  window.clearTimeout(timer);
  return new Promise((resolve) => {
    timer = window.setTimeout(async () => {
      try {
        const p = await api.previewWeek(draft);
        const hours = hourStarts(p.from, p.to);
        const rows = p.miners.map((m) => ({ miner: m.miner, ...hourly(m.segments, hours) }));
        const prices = p.prices ? hours.map((hIso) => {
          const t = Date.parse(hIso);
          return p.prices?.find((s) => Date.parse(s.start) <= t && t < Date.parse(s.end))?.price ?? null;
        }) : undefined;
        box.replaceChildren(rows.length ? weekPreview({ hours, rows, prices, currency: p.currency ?? undefined })
          : h("p", { class: "muted" }, "No miners yet."));
      } catch (e) {
        box.replaceChildren(h("p", { class: "error" }, `No preview: ${errorText(e)}`));
      }
      resolve();
    }, 250);
  });
}
