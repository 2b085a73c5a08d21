// The week grid: 7 rows (Monday first) × 96 quarter hours. Pick a profile (or the eraser) and
// paint: click a cell, or drag a rectangle across days and hours. Arrow keys move, Space or
// Enter paints the focused cell. Only the painted days are rewritten (week-model.ts).
import { h } from "../ui";
import { profileColour } from "./profile-colours";
import { DAYS, fromCells, paint, SLOTS, toCells, type Cells, type DayPeriod } from "./week-model";

export interface WeekGridOptions {
  periods: DayPeriod[];
  profiles: string[];
  /** Called after each stroke with the week's periods. */
  onChange: (periods: DayPeriod[]) => void;
  readOnly?: boolean;
  /** What an empty cell means, for the legend ("the global plan", "the fleet plan"). */
  emptyMeans: string;
  /** The profile an empty cell runs (the plan's default): empty cells show it faintly. */
  emptyProfile?: string;
}

export function weekGrid(o: WeekGridOptions): HTMLElement {
  const cells: Cells = toCells(o.periods);
  const painted = new Set<number>();
  let brush: string | null = o.profiles[0] ?? null;
  const grid = h("div", { class: "week-grid", role: "grid", "aria-label": "Weekly plan: days by quarter hours", "aria-readonly": o.readOnly ? "true" : undefined });
  const cellEls: HTMLElement[][] = [];
  const colour = (d: number, s: number) => {
    const p = cells[d][s];
    const el = cellEls[d][s];
    el.style.background = p ? profileColour(p) : o.emptyProfile ? `color-mix(in srgb, ${profileColour(o.emptyProfile)} 22%, transparent)` : "";
    el.dataset.profile = p ?? "";
    el.setAttribute("aria-label", `${DAYS[d]} ${slotTime(s)}: ${p ?? o.emptyMeans}`);
  };
  // Hour labels every 3 hours.
  const head = h("div", { class: "wg-row wg-head", role: "row" }, h("span", { class: "wg-day" }));
  for (let hr = 0; hr < 24; hr++) head.append(h("span", { class: "wg-hour", role: "columnheader" }, hr % 3 === 0 ? String(hr).padStart(2, "0") : ""));
  grid.append(head);
  let anchor: [number, number] | null = null;
  let hover: [number, number] | null = null;
  const preview = () => {
    grid.querySelectorAll(".wg-cell.preview").forEach((c) => c.classList.remove("preview"));
    if (!anchor || !hover) return;
    const [d0, d1] = [Math.min(anchor[0], hover[0]), Math.max(anchor[0], hover[0])];
    const [s0, s1] = [Math.min(anchor[1], hover[1]), Math.max(anchor[1], hover[1])];
    for (let d = d0; d <= d1; d++) for (let s = s0; s <= s1; s++) cellEls[d][s].classList.add("preview");
  };
  const commit = (a: [number, number], b: [number, number]) => {
    for (const d of paint(cells, a, b, brush)) {
      painted.add(d);
      for (let s = 0; s < SLOTS; s++) colour(d, s);
    }
    o.onChange(fromCells(cells, o.periods, painted));
  };
  for (let d = 0; d < 7; d++) {
    const row = h("div", { class: "wg-row", role: "row" }, h("span", { class: "wg-day", role: "rowheader" }, DAYS[d]));
    cellEls.push([]);
    for (let s = 0; s < SLOTS; s++) {
      const c = h("span", { class: s % 4 === 0 ? "wg-cell hour" : "wg-cell", role: "gridcell", tabindex: d === 0 && s === 0 ? 0 : -1, "data-day": d, "data-slot": s });
      cellEls[d].push(c);
      row.append(c);
      colour(d, s);
    }
    grid.append(row);
  }
  if (!o.readOnly) {
    const at = (e: Event): [number, number] | null => {
      const t = (e.target as HTMLElement).closest<HTMLElement>(".wg-cell");
      return t ? [Number(t.dataset.day), Number(t.dataset.slot)] : null;
    };
    grid.addEventListener("pointerdown", (e) => {
      const p = at(e);
      if (!p) return;
      e.preventDefault();
      anchor = p; hover = p;
      try { grid.setPointerCapture(e.pointerId); } catch { /* a pointer the browser does not track */ }
      preview();
    });
    grid.addEventListener("pointermove", (e) => {
      if (!anchor) return;
      const el = document.elementFromPoint(e.clientX, e.clientY);
      const p = el ? at({ target: el } as unknown as Event) : null;
      if (p && (p[0] !== hover?.[0] || p[1] !== hover?.[1])) { hover = p; preview(); }
    });
    const end = () => {
      if (anchor && hover) commit(anchor, hover);
      anchor = null; hover = null;
      preview();
    };
    grid.addEventListener("pointerup", end);
    grid.addEventListener("pointercancel", () => { anchor = null; hover = null; preview(); });
    grid.addEventListener("keydown", (e) => {
      const p = at(e);
      if (!p) return;
      let [d, s] = p;
      if (e.key === "ArrowRight") s = Math.min(SLOTS - 1, s + 1);
      else if (e.key === "ArrowLeft") s = Math.max(0, s - 1);
      else if (e.key === "ArrowDown") d = Math.min(6, d + 1);
      else if (e.key === "ArrowUp") d = Math.max(0, d - 1);
      else if (e.key === " " || e.key === "Enter") { e.preventDefault(); commit(p, p); return; }
      else return;
      e.preventDefault();
      cellEls[p[0]][p[1]].tabIndex = -1;
      cellEls[d][s].tabIndex = 0;
      cellEls[d][s].focus();
    });
  }
  // The palette: one button per profile and the eraser.
  const palette = h("div", { class: "wg-palette", role: "radiogroup", "aria-label": "Paint with" });
  const choices: [string | null, string][] = [...o.profiles.map((p): [string, string] => [p, p]), [null, `Erase (${o.emptyMeans})`]];
  for (const [p, label] of choices) {
    const b = h("button", { role: "radio", "aria-checked": String(p === brush), class: "wg-brush", "data-brush": p ?? "" },
      h("span", { class: "swatch", style: p ? `background:${profileColour(p)}` : "" }), label);
    b.addEventListener("click", () => {
      brush = p;
      palette.querySelectorAll("button").forEach((x) => x.setAttribute("aria-checked", String(x === b)));
    });
    palette.append(b);
  }
  return h("div", { class: "week-editor" }, o.readOnly ? null : palette, h("div", { class: "wg-scroll" }, grid));
}

function slotTime(s: number): string {
  const m = s * 15;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}
