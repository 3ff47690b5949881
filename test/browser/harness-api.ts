/**
 * What the device harness page (`device-harness.ts`) exposes on `window.harness`, shared by the
 * page and the Node side that drives it through playwright. Everything crossing `page.evaluate`
 * is plain JSON: answers, log entries and timings, never engine objects.
 */

/** An identity call's outcome and how long it took inside the page (performance.now). */
export interface HarnessAnswer {
  readonly ok: boolean;
  readonly mpid: string | null;
  readonly error: string | null;
  readonly ms: number;
}

/** One request of the device log, as the tests check it. */
export interface HarnessLogEntry {
  readonly seq: number;
  readonly kind: string;
  readonly requestId: string;
  readonly previousMpid: string | null;
  /** The MPID the request stands for now (the device's answer until the server replays it). */
  readonly answer: string | null;
  /** `known_identities` without the device application stamp. */
  readonly identities: Readonly<Record<string, string>>;
}

/** Calls on the graph collection's storage during a run, and the ms they took until resolved. */
export interface StorageTrace {
  readonly findDocumentsById: { readonly count: number; readonly ms: number };
  readonly query: { readonly count: number; readonly ms: number };
  readonly bulkWrite: { readonly count: number; readonly ms: number };
  /** Waiting for the Web Lock. */
  readonly lock: { readonly count: number; readonly ms: number };
}

/** Per-call timings (ms) of the Field flow: identify by email, record a visit, log in, next person. */
export interface FlowTimes {
  readonly identify: number[];
  readonly login: number[];
  readonly track: number[];
  readonly nextPerson: number[];
  /** What the graph's storage did over the whole run (per operation, to see which one slows). */
  readonly storage?: StorageTrace;
}

/** The floor: the cheapest single-document writes the same page can make. */
export interface FloorTimes {
  /** One document inserted into an RxDB collection of its own (Dexie storage). */
  readonly rxdbInsert: number[];
  /** One `put` in a raw IndexedDB readwrite transaction, until it completes. */
  readonly idbPut: number[];
  /**
   * One `get` of the head by primary key in a raw readonly transaction on the device's own graph
   * store: does IndexedDB itself slow as the device fills?
   */
  readonly deviceGet: number[];
  /**
   * Listing the device's graph directory (DE-19: every profile and identity key, keys only), as a
   * page does on its first transaction and after another page wrote; a few samples.
   */
  readonly directoryListing: number[];
}

/** What one call costs in storage operations (see `Harness.profile`). */
export interface CallProfile {
  readonly call: 'identify' | 'login' | 'track' | 'nextPerson';
  readonly ms: number;
  /** IndexedDB transactions opened (every store of the origin), and how many were readwrite. */
  readonly idbTransactions: number;
  readonly idbReadwrite: number;
  /** Calls on the graph collection's RxDB storage instance, and documents they returned. */
  readonly findDocumentsById: number;
  readonly query: number;
  readonly bulkWrite: number;
  readonly documentsRead: number;
  /**
   * Rounds of graph storage calls: a call that starts while none is in flight opens one. Calls in
   * one round run side by side, so this is how many storage waits the call has end to end.
   */
  readonly storageRounds: number;
  /** Time spent waiting for the Web Lock (DV-14), and how many times it was taken. */
  readonly lockWaitMs: number;
  readonly locks: number;
}

export interface LiveWait {
  /** Milliseconds until the view showed what was waited for. */
  readonly ms: number;
  readonly value: number;
}

export type HarnessConfigName = 'field' | 'app';

export interface Harness {
  readonly database: string;
  readonly config: HarnessConfigName;
  login(identities: Record<string, string>): Promise<HarnessAnswer>;
  identify(identities: Record<string, string>): Promise<HarnessAnswer>;
  /** Starts the next person (a local write, no request); resolves with the time it took. */
  nextPerson(): Promise<number>;
  /** Records an event for the current person; resolves with the time it took. */
  track(name: string): Promise<number>;
  /** Starts every login at once, in list order (the engine runs them in call order). */
  loginAll(list: readonly Record<string, string>[]): Promise<HarnessAnswer[]>;
  requests(): Promise<HarnessLogEntry[]>;
  /** Waits until the live `people$` view lists this MPID; rejects after `timeoutMs`. */
  waitForPerson(mpid: string, timeoutMs: number): Promise<LiveWait>;
  /** Waits until the live `status$` view counts at least `count` pending requests. */
  waitForPendingRequests(count: number, timeoutMs: number): Promise<LiveWait>;
  /** Runs the Field flow for people `from` … `from + count - 1`, timing each call. */
  fieldFlow(prefix: string, from: number, count: number): Promise<FlowTimes>;
  /**
   * Identity calls alone for people `from` … `from + count - 1`: identify by email, log in with a
   * customer ID, log out; resolves with each call's time (ms, in call order).
   */
  identityCalls(prefix: string, from: number, count: number): Promise<number[]>;
  floor(count: number): Promise<FloorTimes>;
  /** One person of the Field flow (identify, track, login, next person), each call with the storage work it did. */
  profile(prefix: string): Promise<CallProfile[]>;
}

declare global {
  interface Window {
    harness?: Harness;
    /** Set when the harness could not open the device database. */
    harnessError?: string;
  }
}
