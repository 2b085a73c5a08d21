// Hour cells from the resolver's segments: each hour shows the profile that runs longest in
// it (its start breaks ties), with that segment's reason. Pure, unit-tested.

export interface Seg { start: string; end: string; profile: string; why: string }

/** The hour starts from `from` to `to` (ISO strings, UTC instants), one per 3600 s. */
export function hourStarts(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(from); t < Date.parse(to); t += 3600_000) out.push(new Date(t).toISOString());
  return out;
}

export function hourly(segments: Seg[], hours: string[]): { profiles: string[]; reasons: string[] } {
  const segs = segments.map((s) => ({ ...s, a: Date.parse(s.start), b: Date.parse(s.end) }));
  const profiles: string[] = [];
  const reasons: string[] = [];
  for (const hIso of hours) {
    const a = Date.parse(hIso), b = a + 3600_000;
    let best: (typeof segs)[number] | null = null;
    let bestLen = 0;
    for (const s of segs) {
      const len = Math.min(b, s.b) - Math.max(a, s.a);
      if (len > bestLen) { best = s; bestLen = len; }
    }
    profiles.push(best?.profile ?? "");
    reasons.push(best?.why ?? "");
  }
  return { profiles, reasons };
}
