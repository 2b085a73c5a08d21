// One colour per profile for the week grid, the preview and the legends (the charts' bands are
// the same hues, fainter). A user's own profile gets a stable colour from its name. Pure.

const KNOWN: Record<string, string> = {
  day: "#F2B84B", night: "#5B7FE0", quiet: "#5DAE6E", efficiency: "#3FA7A7",
  performance: "#E0693A", off: "#8E8E8E", safe: "#6E6E6E",
};

export function profileColour(name: string): string {
  if (KNOWN[name]) return KNOWN[name];
  let h = 7;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `hsl(${h % 360} 55% 55%)`;
}

/** The letter the week preview prints for a profile (as `--plan --week` does). */
export function profileLetter(name: string): string {
  return name === "off" ? "·" : name.charAt(0).toUpperCase();
}
