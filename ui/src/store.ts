// The app's one store: the fleet overview, the config draft, and typed engine-event
// subscriptions grouped in scopes a view drops when it unmounts. No DOM and no Tauri here (the
// backend is passed in), so it is unit-tested under node.
import type { Config, EngineEvent, EventKind, Overview } from "./ipc";

/** What the store needs from the app: ipc/index.ts provides the real one, tests a fake. */
export interface Backend {
  overview(): Promise<Overview>;
  getConfig(): Promise<Config>;
  saveConfig(config: Config): Promise<void>;
  /** Every engine event; resolves to the function that stops listening. */
  listen(handler: (e: EngineEvent) => void): Promise<() => void>;
}

/** The event of one kind, with its own fields. */
export type EventOf<K extends EventKind> = Extract<EngineEvent, { kind: K }>;

type Listener = (e: EngineEvent) => void;

/** A set of subscriptions that end together (a view's, when the user leaves it). */
export class Scope {
  private offs: (() => void)[] = [];
  private dropped = false;
  constructor(private readonly store: Store) {}

  /** Events of one kind. */
  on<K extends EventKind>(kind: K, handler: (e: EventOf<K>) => void): void {
    this.add(this.store.subscribe((e) => { if (e.kind === kind) handler(e as EventOf<K>); }));
  }
  /** Every event. */
  onEvent(handler: (e: EngineEvent) => void): void {
    this.add(this.store.subscribe(handler));
  }
  /** Each new overview (after the events that change it). */
  onOverview(handler: (o: Overview) => void): void {
    this.add(this.store.watchOverview(handler));
  }
  /** Anything else to undo on leaving (timers, document listeners). */
  add(off: () => void): void {
    if (this.dropped) off(); else this.offs.push(off);
  }
  get alive(): boolean { return !this.dropped; }
  drop(): void {
    this.dropped = true;
    for (const off of this.offs.splice(0)) off();
  }
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export class Store {
  overview: Overview | null = null;
  private listeners = new Set<Listener>();
  private overviewWatchers = new Set<(o: Overview) => void>();
  private saved: Config | null = null;
  private working: Config | null = null;
  private unlisten: (() => void) | null = null;
  /** Set when the file changed under an unsaved draft (another window, the CLI, a miner edit). */
  stale = false;

  constructor(private readonly backend: Backend) {}

  /** Start listening to the engine (once). */
  async start(): Promise<void> {
    if (this.unlisten) return;
    this.unlisten = await this.backend.listen((e) => this.dispatch(e));
  }

  stop(): void {
    this.unlisten?.();
    this.unlisten = null;
  }

  /** Hand one event to every subscriber; a throwing subscriber does not stop the others. */
  dispatch(e: EngineEvent): void {
    for (const l of [...this.listeners]) {
      try { l(e); } catch (err) { console.error(err); }
    }
    if (e.kind === "config_reloaded") void this.configChanged();
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  watchOverview(w: (o: Overview) => void): () => void {
    this.overviewWatchers.add(w);
    return () => this.overviewWatchers.delete(w);
  }

  /** How many subscriptions are live (tests check that views drop theirs). */
  get subscriptions(): number {
    return this.listeners.size + this.overviewWatchers.size;
  }

  scope(): Scope {
    return new Scope(this);
  }

  /** Read the overview again and tell every watcher (top bar, fleet table, totals line). */
  async refresh(): Promise<Overview> {
    const o = await this.backend.overview();
    this.overview = o;
    for (const w of [...this.overviewWatchers]) {
      try { w(o); } catch (err) { console.error(err); }
    }
    return o;
  }

  /** The saved config (as last read). */
  async config(): Promise<Config> {
    if (!this.saved) this.saved = await this.backend.getConfig();
    return this.saved;
  }

  /**
   * The config draft every editor works on. It lives until saved or discarded, so a half-made
   * change survives moving between views.
   */
  async draft(): Promise<Config> {
    if (!this.working) this.working = clone(await this.config());
    return this.working;
  }

  /** Whether the draft differs from the saved config. */
  get dirty(): boolean {
    return this.working !== null && this.saved !== null && JSON.stringify(this.working) !== JSON.stringify(this.saved);
  }

  /** Save the draft; it becomes the saved config and the draft starts again from it. */
  async save(): Promise<void> {
    const d = await this.draft();
    await this.backend.saveConfig(d);
    this.saved = clone(d);
    this.working = null;
    this.stale = false;
  }

  discard(): void {
    this.working = null;
    this.stale = false;
  }

  /**
   * The file changed (a reload event, or a command that saved it): an unchanged draft follows
   * it; a draft with edits stays and is marked stale.
   */
  async configChanged(): Promise<void> {
    const wasDirty = this.dirty;
    this.saved = await this.backend.getConfig();
    if (!wasDirty) this.working = null;
    else this.stale = true;
  }
}
