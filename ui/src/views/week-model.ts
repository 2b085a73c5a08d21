// The week grid's model: 7 days (Monday first) × 96 quarter hours, each cell a profile name or
// empty (the plan says nothing then: the fallback runs). Periods in and out, minute-exact where
// the user did not paint. Pure, unit-tested.

export const SLOT_MIN = 15;
export const SLOTS = (24 * 60) / SLOT_MIN;
export const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;

/** One period of one weekday: minutes since local midnight, `to` exclusive (1440 = midnight). */
export interface DayPeriod { day: number; from: number; to: number; profile: string }

export type Cells = (string | null)[][];

export function emptyCells(): Cells {
  return DAYS.map(() => new Array<string | null>(SLOTS).fill(null));
}

export function hm(min: number): string {
  const m = ((min % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

export function minutes(t: string): number {
  const [h, m] = t.split(":").map(Number);
  return h * 60 + m;
}

/**
 * Split periods that cross midnight (`to` <= `from`) into the part before midnight and the
 * part on the next day (Sunday wraps to Monday).
 */
export function normalise(periods: DayPeriod[]): DayPeriod[] {
  const out: DayPeriod[] = [];
  for (const p of periods) {
    if (p.to > p.from) out.push(p);
    else {
      out.push({ ...p, to: 1440 });
      if (p.to > 0) out.push({ ...p, day: (p.day + 1) % 7, from: 0 });
    }
  }
  return out;
}

/** The cells the periods cover: a cell takes a period's profile when the period covers its start. */
export function toCells(periods: DayPeriod[]): Cells {
  const cells = emptyCells();
  for (const p of normalise(periods)) {
    for (let s = Math.ceil(p.from / SLOT_MIN); s * SLOT_MIN < p.to && s < SLOTS; s++) cells[p.day][s] = p.profile;
  }
  return cells;
}

/** Whether every period starts and ends on a quarter hour (then the grid shows them exactly). */
export function onGrid(periods: DayPeriod[]): boolean {
  return periods.every((p) => p.from % SLOT_MIN === 0 && p.to % SLOT_MIN === 0);
}

/** One day's periods from its cells: each run of one profile. */
export function dayPeriods(cells: Cells, day: number): DayPeriod[] {
  const out: DayPeriod[] = [];
  const row = cells[day];
  for (let s = 0; s < SLOTS; s++) {
    const p = row[s];
    if (p === null) continue;
    const last = out[out.length - 1];
    if (last && last.profile === p && last.to === s * SLOT_MIN) last.to = (s + 1) * SLOT_MIN;
    else out.push({ day, from: s * SLOT_MIN, to: (s + 1) * SLOT_MIN, profile: p });
  }
  return out;
}

/**
 * The periods after painting: the days the user painted come from the cells, every other day
 * keeps its periods exactly as they were (minute resolution kept).
 */
export function fromCells(cells: Cells, before: DayPeriod[], painted: Set<number>): DayPeriod[] {
  const kept = normalise(before).filter((p) => !painted.has(p.day));
  const fresh = [...painted].flatMap((d) => dayPeriods(cells, d));
  return [...kept, ...fresh].sort((a, b) => a.day - b.day || a.from - b.from);
}

/** Paint the rectangle between two cells (inclusive) with `profile` (null erases). */
export function paint(cells: Cells, a: [number, number], b: [number, number], profile: string | null): number[] {
  const [d0, d1] = [Math.min(a[0], b[0]), Math.max(a[0], b[0])];
  const [s0, s1] = [Math.min(a[1], b[1]), Math.max(a[1], b[1])];
  const days: number[] = [];
  for (let d = d0; d <= d1; d++) {
    for (let s = s0; s <= s1; s++) cells[d][s] = profile;
    days.push(d);
  }
  return days;
}
