// The config's weekly periods (`{ days?, from, to, profile }`, days "mon".."sun", all when
// absent, later periods win where they overlap) to the week grid's per-day periods and back.
// Pure, unit-tested.
import type { Day } from "../generated/Day";
import type { Period as PlanPeriod } from "../generated/Period";
import { hm, minutes, normalise, type DayPeriod } from "./week-model";

export type { PlanPeriod };

export const DAY_KEYS: Day[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

function dayIndex(d: string): number {
  return DAY_KEYS.indexOf(d.trim().slice(0, 3).toLowerCase() as Day);
}

/** One entry per day a period runs on, in the config's order (so later still wins). */
export function expand(periods: PlanPeriod[]): DayPeriod[] {
  const out: DayPeriod[] = [];
  for (const p of periods) {
    const days = p.days && p.days.length ? p.days.map(dayIndex).filter((d) => d >= 0) : [0, 1, 2, 3, 4, 5, 6];
    for (const day of days) out.push({ day, from: minutes(p.from), to: minutes(p.to) || 1440, profile: p.profile });
  }
  return out;
}

function overlaps(a: DayPeriod, b: DayPeriod): boolean {
  return a.day === b.day && a.from < b.to && b.from < a.to;
}

/**
 * Back to the config's form: the same times and profile on several days become one period
 * with `days` (none when every day), unless that would reorder overlapping periods.
 */
export function compact(dps: DayPeriod[]): PlanPeriod[] {
  const parts = normalise(dps);
  const out: { key: string; days: number[]; p: DayPeriod }[] = [];
  const clash = (p: DayPeriod) => parts.some((q) => q !== p && overlaps(p, q));
  for (const p of parts) {
    const key = `${p.from}-${p.to}-${p.profile}`;
    const same = clash(p) ? undefined : out.find((o) => o.key === key && !o.days.includes(p.day) && !clash(o.p));
    if (same) same.days.push(p.day);
    else out.push({ key, days: [p.day], p });
  }
  return out.map(({ days, p }) => {
    const period: PlanPeriod = { from: hm(p.from), to: hm(p.to), profile: p.profile };
    if (days.length < 7) period.days = [...days].sort((a, b) => a - b).map((d) => DAY_KEYS[d]);
    return period;
  });
}
