// The header chip's words for the link to a scheduler. Pure (no DOM, no Tauri): unit-tested.
import type { Connection } from "../ipc";

/** What the chip says ("" when the app runs its own engine: no chip). */
export function connectionText(c: Connection): string {
  switch (c.state) {
    case "local": return "";
    case "connecting": return `Connecting to ${c.host}…`;
    case "connected": return `Attached to ${c.host}`;
    case "lost": return `Connection to ${c.host} lost — retrying in ${c.retry_in} s`;
    case "refused": return `${c.host} refused the connection: ${c.reason}`;
  }
}
