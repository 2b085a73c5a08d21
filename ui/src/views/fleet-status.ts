// What the Fleet view says about one miner beside its badge, and which attention actions its
// menu offers. Pure (no DOM, no Tauri), so it is unit-tested on its own.
import type { EngineEvent, LoggedEvent, MinerStatus, Totals } from "../ipc";
import { hashrate } from "../ui";

/** Per-miner actions that appear only when the engine reports something to act on. */
export type Attention = "retry" | "clear_ceiling" | "confirm_identity";

/** When each miner last got an event that asks for an action, and when the user last acted on it. */
export interface Notes {
  ceilingAt: Map<string, number>;
  identityAt: Map<string, number>;
  handled: Map<string, number>;
}

const key = (miner: string, a: Attention) => `${a}\u0000${miner}`;

export function emptyNotes(): Notes {
  return { ceilingAt: new Map(), identityAt: new Map(), handled: new Map() };
}

/** Remember one event (from the events log, or live) that may ask for an action. */
export function note(n: Notes, kind: string, miner: string | null | undefined, at: number): void {
  if (!miner) return;
  const map = kind === "ceiling_lowered" ? n.ceilingAt : kind === "identity_changed" ? n.identityAt : null;
  if (map && (map.get(miner) ?? -Infinity) < at) map.set(miner, at);
}

export function notesFrom(events: LoggedEvent[], into: Notes = emptyNotes()): Notes {
  for (const e of events) note(into, e.kind, e.miner, Date.parse(e.at));
  return into;
}

export function noteLive(n: Notes, e: EngineEvent, now: number): void {
  note(n, e.kind, "miner" in e ? e.miner : null, now);
}

/** The user acted (the command succeeded): the button goes until a newer event asks again. */
export function handled(n: Notes, miner: string, a: Attention, now: number): void {
  n.handled.set(key(miner, a), now);
}

// The engine's own words for a lowered ceiling and for a different device (crates/core worker).
const CEILING_WORDS = /throttle step\(s\) lower after repeated overheats/;
const IDENTITY_WORDS = /a different device answers at this address/;

function pending(n: Notes, map: Map<string, number>, miner: string, a: Attention): boolean {
  const at = map.get(miner);
  if (at === undefined) return false;
  const done = n.handled.get(key(miner, a));
  return done === undefined || at > done;
}

/** The attention actions for this miner, most urgent first. */
export function attention(m: MinerStatus, n: Notes): Attention[] {
  const out: Attention[] = [];
  // The status fields are the source; the words and the event log cover an older engine.
  if (m.identity_pending || IDENTITY_WORDS.test(m.reason) || pending(n, n.identityAt, m.name, "confirm_identity")) out.push("confirm_identity");
  if (m.gave_up) out.push("retry");
  if ((m.ceilings ?? []).length > 0 || CEILING_WORDS.test(m.reason) || pending(n, n.ceilingAt, m.name, "clear_ceiling")) out.push("clear_ceiling");
  return out;
}

/** Whether the cool-off after a firmware overheat still holds at `now`. */
export function coolingOff(m: MinerStatus, now: number): boolean {
  if (!m.cooloff_until) return false;
  const until = Date.parse(m.cooloff_until);
  return Number.isFinite(until) && until > now;
}

/**
 * The words beside the badge, in order: the cool-off (local wall time, `hm`) while it lasts, a
 * given-up target, then the engine's reason. Nothing is said twice: the reason's own UTC
 * "no raise before …" goes when the cool-off is shown, and a gave-up text the reason already
 * holds is not repeated.
 */
export function statusParts(m: MinerStatus, now: number, hm: (iso: string) => string): string[] {
  const parts: string[] = [];
  let reason = m.reason.trim();
  if (coolingOff(m, now) && m.cooloff_until) {
    parts.push(`cooling off until ${hm(m.cooloff_until)}`);
    reason = reason.replace(/[;,] no raise before [^;]*/g, "").trim();
  }
  const gaveUp = m.gave_up?.trim();
  if (gaveUp && !reason.includes(gaveUp)) parts.push(gaveUp);
  if (reason) parts.push(reason);
  return parts;
}

/** Menu labels and what the confirmation says will happen. */
export function attentionText(a: Attention, m: MinerStatus): { label: string; title: string; body: string; ok: string } {
  switch (a) {
    case "retry":
      return {
        label: "Retry", title: `Retry ${m.name}`, ok: "Retry now",
        body: `${m.name} did not take its last target (${m.gave_up ?? "given up"}). Try it again now, with a fresh budget of attempts.`,
      };
    case "clear_ceiling":
      return {
        label: "Clear ceiling", title: `Clear the lowered ceiling on ${m.name}`, ok: "Clear ceiling",
        body: `${m.name} overheated twice at one profile, so that profile runs lower on it. Clearing lets the schedule raise it to its full settings again, one throttle step at a time.`,
      };
    case "confirm_identity":
      return {
        label: "Confirm device", title: `Confirm the device at ${m.url}`, ok: "It is my miner",
        body: `A different device now answers at ${m.url}. Nothing is written to it until you confirm that it is ${m.name}; then the schedule and the safety limits apply to it.`,
      };
  }
}

/** The line under the Fleet table; the top bar shows the same overview's totals. */
export function totalsLine(t: Totals): string {
  const eff = t.efficiency != null ? ` · ${t.efficiency.toFixed(2)} J/TH` : "";
  return `${t.online}/${t.total} online · ${hashrate(t.hashrate)} · ${t.power.toFixed(1)} W${eff}`;
}
