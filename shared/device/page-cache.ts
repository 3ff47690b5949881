/**
 * What this page knows of the device's graph as stored (SPEC DE-1, DE-2): documents it read or
 * wrote under the device lock, and the index lookups it made, kept across transactions so that an
 * identity call does not read again what this page wrote itself.
 *
 * It is trusted only while the head's revision is the one this page last read or wrote: every
 * write of the graph rewrites the head (the store's `flush`), so another tab's or window's write
 * moves it, and the next transaction, reading the head first, forgets everything (`validate`).
 * Documents are kept with their revision, removed ones included (a later write needs it). Least
 * recently used entries are dropped beyond `capacity`, so a long session stays bounded.
 */
import type { RxDocumentData } from 'rxdb/plugins/core';
import type { GraphDoc } from './collections.ts';
import type { GraphDirectory } from './graph-directory.ts';

type Stored = RxDocumentData<GraphDoc>;
export type LookupField = 'key' | 'mpid' | 'source' | 'destination';
const LOOKUP_FIELDS: readonly LookupField[] = ['key', 'mpid', 'source', 'destination'];

export const lookupKey = (kind: GraphDoc['kind'], field: LookupField, value: string) =>
  `${kind}\u0000${field}\u0000${value}`;

/** A map that forgets its least recently used entries beyond a capacity. */
class Recent<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** The entry, without making it recent (for updates after a write). */
  peek(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** A directory listing under way (see `PageCache.beginListing`). */
export interface Listing {
  readonly generation: number;
  readonly written: string[];
}

/** A write the storage accepted: the document as now stored, and the one it replaced. */
export interface WrittenRow {
  readonly previous: Stored | undefined;
  readonly document: Stored;
}

export class PageCache {
  /** `undefined`: nothing known (never read, or forgotten); `null`: no head stored. */
  private headRev: string | null | undefined = undefined;
  /** Documents as stored, by id (`null`: no document with that id, not even a removed one). */
  private readonly docs: Recent<Stored | null>;
  /** Live documents per index lookup (kind, field, value), by id. */
  private readonly lookups: Recent<Map<string, Stored>>;
  /** Every profile and identity key in storage, once listed (DE-19): answers what is absent. */
  private directory: GraphDirectory | null = null;
  /** The listing under way, with the ids this page wrote meanwhile. */
  private listing: Listing | null = null;
  /** Moves on each time the page forgets: a listing begun before is not taken. */
  private generation = 0;

  constructor(capacity = 4096) {
    this.docs = new Recent(capacity);
    this.lookups = new Recent(capacity);
  }

  /**
   * Takes the head as just read from storage, inside the lock: keeps what is known when it is the
   * head this page last saw, else forgets everything (another page wrote since).
   */
  validate(head: Stored | null): void {
    const rev = head === null ? null : head._rev;
    if (rev !== this.headRev) this.forget();
    this.headRev = rev;
  }

  /** Whether the page trusts what it keeps: it has seen the head since it last forgot. */
  get current(): boolean {
    return this.headRev !== undefined;
  }

  forget(): void {
    this.headRev = undefined;
    this.docs.clear();
    this.lookups.clear();
    this.directory = null;
    this.listing = null;
    this.generation += 1;
  }

  /**
   * Starts listing the directory (DE-19) when the page trusts what it keeps and has no directory
   * nor a listing under way: the listing's token, else `null`. The listing runs beside the page's
   * transactions; what this page writes meanwhile is added when it ends.
   */
  beginListing(): Listing | null {
    if (this.headRev === undefined || this.directory !== null || this.listing !== null) return null;
    this.listing = { generation: this.generation, written: [] };
    return this.listing;
  }

  /**
   * Takes a listing's directory (`null`: it failed), with this page's writes since it began,
   * unless the page forgot meanwhile: another page's write since may be missing from it.
   */
  endListing(listing: Listing, directory: GraphDirectory | null): void {
    if (this.listing !== listing) return;
    this.listing = null;
    if (directory === null || listing.generation !== this.generation || this.headRev === undefined) return;
    for (const id of listing.written) directory.wrote(id);
    this.directory = directory;
  }

  /** A document as stored (removed ones included), `null` if none, `undefined` if not known. */
  doc(id: string): Stored | null | undefined {
    if (this.headRev === undefined) return undefined;
    const known = this.docs.get(id);
    if (known !== undefined) return known;
    return this.directory?.absent(id) === true ? null : undefined;
  }

  rememberDoc(id: string, stored: Stored | null): void {
    if (this.headRev !== undefined) this.docs.set(id, stored);
  }

  /** The live documents an index lookup finds, or `undefined` if not known. */
  lookup(kind: GraphDoc['kind'], field: LookupField, value: string): Stored[] | undefined {
    if (this.headRev === undefined) return undefined;
    const found = this.lookups.get(lookupKey(kind, field, value));
    if (found !== undefined) return [...found.values()];
    return kind === 'identity' && field === 'key' && this.directory?.unheld(value) === true ? [] : undefined;
  }

  rememberLookup(kind: GraphDoc['kind'], field: LookupField, value: string, docs: readonly Stored[]): void {
    if (this.headRev === undefined) return;
    this.lookups.set(lookupKey(kind, field, value), new Map(docs.map((d) => [d.id, d])));
  }

  /** Takes a write the storage accepted (it moved the head: `headRev` is its new revision). */
  wrote(rows: readonly WrittenRow[], headRev: string): void {
    if (this.headRev === undefined) return;
    this.headRev = headRev;
    for (const { previous, document } of rows) {
      this.docs.set(document.id, document);
      this.directory?.wrote(document.id);
      this.listing?.written.push(document.id);
      for (const field of LOOKUP_FIELDS) {
        if (previous !== undefined)
          this.lookups.peek(lookupKey(previous.kind, field, previous[field]))?.delete(previous.id);
        if (!document._deleted)
          this.lookups.peek(lookupKey(document.kind, field, document[field]))?.set(document.id, document);
      }
    }
  }

  /** How many documents and lookups are kept (for tests). */
  get size(): { docs: number; lookups: number } {
    return { docs: this.docs.size, lookups: this.lookups.size };
  }
}
