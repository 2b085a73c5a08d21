// A Server-Sent Events parser for a fetch() body. The browser's EventSource cannot send an
// Authorization header, so the web transport reads /api/v1/events with fetch and feeds the text
// here as it arrives. No DOM, no network: unit-tested under node (tests/sse.test.ts).
//
// The format (WHATWG HTML, "server-sent events"): lines end in CRLF, LF or CR; a blank line ends
// an event; `field: value` (one optional space after the colon); lines starting with ":" are
// comments (the server's keep-alives); several `data` lines join with "\n"; `id` without NUL sets
// the last event id even for an event with no data.

/** One dispatched event. */
export interface SseMessage {
  /** The last event id seen so far (the stream's, not only this event's), or null. */
  id: string | null;
  event: string;
  data: string;
}

export class SseParser {
  private buf = "";
  private data: string[] = [];
  private event = "";
  private hasData = false;
  /** The text so far ended in a CR: an LF starting the next chunk belongs to it. */
  private afterCr = false;
  /** The last `id:` seen: what a reconnect sends as `Last-Event-ID`. */
  lastId: string | null = null;
  /** A `retry:` the server asked for, in ms. */
  retry: number | null = null;

  /** Feed a chunk of text; returns the events it completed, in order. */
  feed(chunk: string): SseMessage[] {
    // A CR ends its line at once; an LF right after it (maybe in the next chunk) is its CRLF.
    if (this.afterCr && chunk.startsWith("\n")) chunk = chunk.slice(1);
    if (chunk !== "") this.afterCr = false;
    this.buf += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const m = /\r\n|\n|\r/.exec(this.buf);
      if (!m) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      if (m[0] === "\r" && this.buf === "") this.afterCr = true;
      const e = this.line(line);
      if (e) out.push(e);
    }
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === "") {
      if (!this.hasData) { this.event = ""; return null; }
      const e = { id: this.lastId, event: this.event || "message", data: this.data.join("\n") };
      this.data = []; this.event = ""; this.hasData = false;
      return e;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data": this.data.push(value); this.hasData = true; break;
      case "event": this.event = value; break;
      case "id": if (!value.includes("\0")) this.lastId = value; break;
      case "retry": if (/^\d+$/.test(value)) this.retry = Number(value); break;
      default: break;
    }
    return null;
  }
}

/** Wait before the next reconnect: doubling from `base`, capped, with up to 30 % jitter. */
export function backoff(attempt: number, base = 500, cap = 15000, random: () => number = Math.random): number {
  const d = Math.min(cap, base * 2 ** Math.max(0, attempt));
  return Math.round(d * (0.7 + 0.3 * random()));
}
