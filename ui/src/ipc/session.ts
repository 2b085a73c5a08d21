// The web UI's sign-in: the API token the user typed, kept in this browser (localStorage) until
// "Sign out", and the scope the server says it has. Only the web transport uses this; inside the
// desktop app there is no token (the app talks to its own engine).

export type TokenScope = "read" | "control";

const TOKEN_KEY = "bitaxe.token";
const ENDED_KEY = "bitaxe.session-ended";

/** Why a sign-in failed, in words for the sign-in screen, with the server's code. */
export class SignInError extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}

export interface Session {
  token: string;
  scope: TokenScope;
  app: string;
  api: string;
}

/** The API major this UI speaks (crates/api `API_VERSION`). */
export const API_MAJOR = 1;

let current: Session | null = null;

export function session(): Session | null {
  return current;
}

export function storedToken(): string | null {
  try { return localStorage.getItem(TOKEN_KEY); } catch { return null; }
}

/**
 * Check `token` with the server (`GET /api/v1/version` answers to both scopes and says which)
 * and keep it. Throws a SignInError whose message the sign-in screen shows as it is.
 */
export async function signIn(token: string, remember = true): Promise<Session> {
  const t = token.trim();
  if (!t) throw new SignInError("empty", "Paste the token first.");
  let r: Response;
  try {
    r = await fetch("/api/v1/version", { headers: { Authorization: `Bearer ${t}` }, cache: "no-store" });
  } catch {
    throw new SignInError("network", "The scheduler did not answer. Is it still running?");
  }
  if (r.status === 401) throw new SignInError("unauthorized", "That token is not valid for this scheduler. Use the control or the read token (the files ending in .api-token and .api-read-token next to its config).");
  if (r.status === 429) throw new SignInError("locked_out", "Too many wrong tokens from this address: the scheduler refuses it for a while. Wait a few minutes, then try again.");
  if (!r.ok) throw new SignInError("http", `The scheduler answered ${r.status} ${r.statusText}.`);
  const v = (await r.json()) as { api?: string; app?: string; scope?: string };
  const major = Number(String(v.api ?? "").split(".")[0]);
  if (major !== API_MAJOR) {
    throw new SignInError("version", `This scheduler speaks API ${v.api ?? "?"}; this page needs ${API_MAJOR}.x. Reload the page (it comes from the scheduler) or update one of them.`);
  }
  const scope: TokenScope = v.scope === "control" ? "control" : v.scope === "read" ? "read" : await probeScope(t);
  current = { token: t, scope, app: v.app ?? "", api: v.api ?? "" };
  try {
    if (remember) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ENDED_KEY);
  } catch { /* storage refused (private mode): the session lasts as long as the page */ }
  return current;
}

/** A server without the `scope` field: the config route needs control, and only reads. */
async function probeScope(token: string): Promise<TokenScope> {
  const r = await fetch("/api/v1/config", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
  return r.ok ? "control" : "read";
}

/** Forget the token, then start over at the sign-in screen with `reason` shown, if any. */
export function signOut(reason?: string): void {
  current = null;
  try {
    localStorage.removeItem(TOKEN_KEY);
    if (reason) sessionStorage.setItem(ENDED_KEY, reason); else sessionStorage.removeItem(ENDED_KEY);
  } catch { /* nothing kept */ }
  // A fresh page drops every view, subscription and timer of the old session at once.
  location.reload();
}

/** Why the last session ended (a rotated token), once. */
export function takeEndedReason(): string | null {
  try {
    const r = sessionStorage.getItem(ENDED_KEY);
    sessionStorage.removeItem(ENDED_KEY);
    return r;
  } catch { return null; }
}
