// The Miners view's words: a miner's own settings in a line, and the limits message. Pure.
import type { MinerConfig, ProfileOverride } from "../ipc";

/** What a miner's overrides change, in words ("night 1250 mV"), or that it follows the fleet. */
export function overrideSummary(m: MinerConfig): string {
  const part = (label: string, o: ProfileOverride | null | undefined) => {
    if (!o || (o.voltage == null && o.frequency == null)) return null;
    const bits = [o.voltage != null ? `${o.voltage} mV` : null, o.frequency != null ? `${o.frequency} MHz` : null].filter(Boolean);
    return `${label} ${bits.join(" @ ")}`;
  };
  const parts = [part("day", m.day_settings), part("night", m.night_settings),
    ...Object.entries(m.profiles ?? {}).map(([n, o]) => part(n, o))].filter(Boolean);
  return parts.length ? `Own settings: ${parts.join(", ")}` : "Fleet settings";
}

/** Limits a value must stay within, in the words the message uses. */
export function rangeProblem(label: string, value: string, min: number, max: number, unit: string): string {
  if (value.trim() === "") return "";
  const x = Number(value);
  if (!Number.isFinite(x)) return `${label}: enter a number.`;
  return x < min || x > max ? `${label} must be ${min}–${max} ${unit} (the safety limits).` : "";
}

