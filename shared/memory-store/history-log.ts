/**
 * The memory store's append-only history (SPEC HM-2), kept in columns rather than one object per
 * entry: an entry's numbers and small codes go into typed arrays, its strings into plain arrays
 * (shared with the profile and request that hold the same strings), and the fields that are almost
 * always null (the other MPID, the alias id) into sparse maps. About 60 bytes an entry instead of
 * 190. `seq` is the entry's position plus one; entries are rebuilt as records when read.
 */
import type { Actor, HistoryEntry, NewHistoryEntry } from '../resolver/records.ts';

/**
 * Strings that repeat across entries (scopes, types, reasons, actors): stored once, referred to by
 * number. At most `limit` of them: a reason that names an MPID is unique to its entry, and those
 * are kept per entry instead (`id` answers `NOT_INTERNED`).
 */
class Interned<T> {
  private readonly items: T[] = [];
  private readonly ids = new Map<string, number>();

  constructor(private readonly limit: number) {}

  id(key: string, item: T): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      if (this.items.length >= this.limit) return NOT_INTERNED;
      id = this.items.length;
      this.items.push(item);
      this.ids.set(key, id);
    }
    return id;
  }

  get(id: number): T {
    return this.items[id] as T;
  }
}

const NOT_INTERNED = 0xffffffff;

/** Small codes per entry: kind, scope, environment, identity type (0 = none), actor, reason. */
const CODES = 6;

export class HistoryLog {
  private size = 0;
  private at = new Float64Array(1024);
  private codes = new Uint32Array(1024 * CODES);
  private readonly mpids: string[] = [];
  private readonly values: (string | null)[] = [];
  private readonly requestIds: (string | null)[] = [];
  private readonly otherMpids = new Map<number, string>();
  private readonly aliasIds = new Map<number, string>();
  /** Rare strings that were not interned: reasons beyond the table's limit, actors beyond theirs. */
  private readonly rareReasons = new Map<number, string>();
  private readonly rareActors = new Map<number, Actor>();
  /** Kinds, scopes, environments and identity types: few, so never limited. */
  private readonly words = new Interned<string>(Number.MAX_SAFE_INTEGER);
  private readonly reasons = new Interned<string>(4096);
  private readonly actors = new Interned<Actor>(4096);

  get length(): number {
    return this.size;
  }

  append(entry: NewHistoryEntry): void {
    const i = this.size;
    if (i === this.at.length) this.grow();
    this.at[i] = entry.at;
    const codes = i * CODES;
    this.codes[codes] = this.word(entry.kind);
    this.codes[codes + 1] = this.word(entry.scopeId);
    this.codes[codes + 2] = this.word(entry.environment);
    this.codes[codes + 3] = entry.identityType === null ? 0 : this.word(entry.identityType) + 1;
    const actor = this.actors.id(`${entry.actor.kind}\u0000${entry.actor.id}`, entry.actor);
    this.codes[codes + 4] = actor;
    if (actor === NOT_INTERNED) this.rareActors.set(i, entry.actor);
    const reason = this.reasons.id(entry.reason, entry.reason);
    this.codes[codes + 5] = reason;
    if (reason === NOT_INTERNED) this.rareReasons.set(i, entry.reason);
    this.mpids[i] = entry.mpid;
    this.values[i] = entry.value;
    this.requestIds[i] = entry.requestId;
    if (entry.otherMpid !== null) this.otherMpids.set(i, entry.otherMpid);
    if (entry.aliasId !== null) this.aliasIds.set(i, entry.aliasId);
    this.size = i + 1;
  }

  /** Drops the newest entry (a rolled-back commit). */
  pop(): void {
    const i = this.size - 1;
    if (i < 0) return;
    this.mpids.length = i;
    this.values.length = i;
    this.requestIds.length = i;
    this.otherMpids.delete(i);
    this.aliasIds.delete(i);
    this.rareReasons.delete(i);
    this.rareActors.delete(i);
    this.size = i;
  }

  entry(i: number): HistoryEntry {
    const codes = i * CODES;
    const type = this.codes[codes + 3] as number;
    return {
      seq: i + 1,
      at: this.at[i] as number,
      scopeId: this.words.get(this.codes[codes + 1] as number),
      environment: this.words.get(this.codes[codes + 2] as number) as HistoryEntry['environment'],
      kind: this.words.get(this.codes[codes] as number) as HistoryEntry['kind'],
      mpid: this.mpids[i] as string,
      identityType: type === 0 ? null : (this.words.get(type - 1) as HistoryEntry['identityType']),
      value: this.values[i] ?? null,
      otherMpid: this.otherMpids.get(i) ?? null,
      aliasId: this.aliasIds.get(i) ?? null,
      requestId: this.requestIds[i] ?? null,
      actor: this.rareActors.get(i) ?? this.actors.get(this.codes[codes + 4] as number),
      reason: this.rareReasons.get(i) ?? this.reasons.get(this.codes[codes + 5] as number),
    };
  }

  entries(): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.entry(i));
    return out;
  }

  private word(text: string): number {
    return this.words.id(text, text);
  }

  private grow(): void {
    const at = new Float64Array(this.at.length * 2);
    at.set(this.at);
    this.at = at;
    const codes = new Uint32Array(this.codes.length * 2);
    codes.set(this.codes);
    this.codes = codes;
  }
}
