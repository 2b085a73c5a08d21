// The profiles a config knows, in the engine's order (profiles::names): day, night, the
// presets, the user's own, then off. `safe` is never planned. Pure.

export const PRESET_NAMES = ["quiet", "efficiency", "performance"];

export function profileNames(own: Record<string, unknown> | null | undefined): string[] {
  const mine = Object.keys(own ?? {}).filter((k) => !PRESET_NAMES.includes(k) && !["day", "night", "off", "safe"].includes(k)).sort();
  return ["day", "night", ...PRESET_NAMES, ...mine, "off"];
}

/** The engine's rule for a new profile's name (profiles::check_name). */
export function nameProblem(name: string, taken: string[]): string {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) return "Use 1 to 32 letters, digits, '-' or '_'.";
  if (taken.includes(name) || name === "safe") return `A profile named "${name}" already exists.`;
  return "";
}
