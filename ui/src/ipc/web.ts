// The web transport: the same commands as the desktop's Tauri commands, over the scheduler's
// HTTP API (`POST /api/v1/call/<command>` with the invoke arguments as the JSON body), and the
// engine's events from `GET /api/v1/events` (Server-Sent Events read with fetch, because
// EventSource cannot send the Authorization header), resumed with Last-Event-ID after a drop.

import type { CmdError } from "../generated/CmdError";
import type { Event } from "../generated/Event";
import { session, signOut } from "./session";
import { backoff, SseParser } from "./sse";

/** The message a 401 leaves on the sign-in screen. */
const ENDED = "The scheduler no longer accepts this token (it may have been rotated). Sign in again.";
/** What a read token is told when it tries to write. */
export const READ_ONLY_NOTE = "read-only: signed in with the read token";

function authHeaders(): Record<string, string> {
  const s = session();
  return s ? { Authorization: `Bearer ${s.token}` } : {};
}

/** An error as the views expect it from a command: `{ code, message }`. */
function cmdError(code: string, message: string): CmdError {
  return { code, message };
}

/** Turn a refused answer into a CmdError; a 401 ends the session. */
async function refusal(r: Response): Promise<CmdError> {
  let body: { code?: string; error?: string; message?: string } = {};
  try { body = await r.json(); } catch { /* not JSON */ }
  const code = body.code ?? body.error ?? `http_${r.status}`;
  if (r.status === 401) {
    signOut(ENDED);
    return cmdError("unauthorized", ENDED);
  }
  if (r.status === 403 && session()?.scope === "read") return cmdError("forbidden", `Not allowed: ${READ_ONLY_NOTE}.`);
  if (r.status === 429) return cmdError(code, body.message ?? "The scheduler asks to slow down; try again in a moment.");
  return cmdError(code, body.message ?? `The scheduler answered ${r.status} ${r.statusText}.`);
}

/** Call one engine command over HTTP. */
export async function webCall<T>(name: string, args?: Record<string, unknown>): Promise<T> {
  let r: Response;
  try {
    r = await fetch(`/api/v1/call/${encodeURIComponent(name)}`, {
      method: "POST",
      headers: { ...authHeaders(), "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(args ?? {}),
      cache: "no-store",
    });
  } catch {
    throw cmdError("network", "The scheduler did not answer (connection lost). Try again in a moment.");
  }
  if (!r.ok) throw await refusal(r);
  const text = await r.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** `GET` one of the API's own routes (e.g. `/api/v1/history?...`). */
export async function webGet<T>(path: string): Promise<T> {
  let r: Response;
  try {
    r = await fetch(path, { headers: { ...authHeaders(), Accept: "application/json" }, cache: "no-store" });
  } catch {
    throw cmdError("network", "The scheduler did not answer (connection lost). Try again in a moment.");
  }
  if (!r.ok) throw await refusal(r);
  return (await r.json()) as T;
}

export type Connection = "live" | "lost";
const connectionWatchers = new Set<(c: Connection) => void>();

/** Called when the event stream drops (`lost`) and when it is back (`live`). */
export function onConnection(handler: (c: Connection) => void): () => void {
  connectionWatchers.add(handler);
  return () => connectionWatchers.delete(handler);
}

function tell(c: Connection): void {
  for (const w of [...connectionWatchers]) {
    try { w(c); } catch (e) { console.error(e); }
  }
}

/**
 * Every engine event, as the desktop's "engine-event" gives it. Reconnects with backoff and
 * `Last-Event-ID` (the server replays what it still holds); resolves to the function that stops.
 */
export async function webListen(handler: (e: Event) => void): Promise<() => void> {
  let stopped = false;
  let abort: AbortController | null = null;
  let lastId: string | null = null;
  let attempt = 0;
  let wasLive = false;
  const run = async () => {
    while (!stopped) {
      abort = new AbortController();
      try {
        const headers: Record<string, string> = { ...authHeaders(), Accept: "text/event-stream" };
        if (lastId !== null) headers["Last-Event-ID"] = lastId;
        const r = await fetch("/api/v1/events", { headers, signal: abort.signal, cache: "no-store" });
        if (r.status === 401) { await refusal(r); return; }
        if (!r.ok || !r.body) throw new Error(`events: ${r.status}`);
        attempt = 0;
        if (!wasLive) { wasLive = true; tell("live"); }
        const parser = new SseParser();
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const m of parser.feed(value)) {
            lastId = m.id ?? lastId;
            if (m.event !== "message" || !m.data) continue;
            try { handler(JSON.parse(m.data) as Event); } catch (e) { console.error("event", e); }
          }
        }
      } catch (e) {
        if (stopped) return;
        console.warn("event stream:", e);
      }
      if (stopped) return;
      if (wasLive) { wasLive = false; tell("lost"); }
      await new Promise((ok) => setTimeout(ok, backoff(attempt++)));
    }
  };
  void run();
  return () => { stopped = true; abort?.abort(); };
}

/** Hand `bytes` to the browser as a download named `name`. */
export function download(name: string, bytes: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
