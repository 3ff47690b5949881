/**
 * Which profiles and identity values the device's graph holds at all (SPEC DE-19), so that an
 * identity call learns that a value is new, or that a fresh MPID is free, without asking storage.
 *
 * The Field flow captures person after person: nearly every identity call looks up values nobody
 * on the device holds yet (a new email, a new customer ID) and checks that the MPID it would give
 * a new profile is free. Each of those answers is "none", and asking IndexedDB for it is a round of
 * its own that grows with the store. The directory lists every profile MPID and identity key with
 * a document in storage (removed documents included, as storage keeps them) and then follows this
 * page's own writes. It answers only "absent": anything listed is read as before, so a wrong
 * "present" costs a read, never an answer.
 *
 * It belongs to the page cache and is trusted exactly as long as the cache is: another page's
 * write (the head moved) or a failed transaction drops it. It is listed beside the transactions,
 * not inside one (10,000 people take a few hundred milliseconds): the page's writes made meanwhile
 * are added when the listing ends, and a listing the page forgot during is not taken, since
 * another page's write may be missing from it (`PageCache.beginListing`).
 */

export const SEP = '|';
export const PROFILE_PREFIX = `p${SEP}`;
export const IDENTITY_PREFIX = `i${SEP}`;
/** Above every character an id uses, so `prefix + TOP` closes the prefix's range. */
export const TOP = '\uffff';

/** The ids of a kind's range in storage, removed documents included (DE-19). */
export type ListIds = (prefix: string) => Promise<readonly string[]>;

/** A storage instance that can list its primary keys in a range without reading documents. */
export interface IdListing {
  listIds(lower: string, upper: string): Promise<readonly string[]>;
}

/** Whether a storage instance lists its keys itself (see `IdListing`). */
export function canList(instance: unknown): instance is IdListing {
  return typeof (instance as Partial<IdListing> | null)?.listIds === 'function';
}

/** The identity key an identity document's id holds (`i|<key>|<mpid>`; an MPID has no separator). */
const keyOfIdentityId = (id: string) => id.slice(IDENTITY_PREFIX.length, id.lastIndexOf(SEP));

export class GraphDirectory {
  private constructor(
    /** MPIDs with a profile document. */
    private readonly profiles: Set<string>,
    /** Identity keys with at least one identity document. */
    private readonly keys: Set<string>,
  ) {}

  /**
   * Lists the graph's profiles and identity keys. It runs beside the page's transactions, so the
   * page cache adds the page's own writes made meanwhile (`PageCache.endListing`).
   */
  static async read(list: ListIds): Promise<GraphDirectory> {
    const [profileIds, identityIds] = await Promise.all([list(PROFILE_PREFIX), list(IDENTITY_PREFIX)]);
    return new GraphDirectory(
      new Set(profileIds.map((id) => id.slice(PROFILE_PREFIX.length))),
      new Set(identityIds.map(keyOfIdentityId)),
    );
  }

  /** Whether no document at all has this id (only profile and identity ids are known; others: false). */
  absent(id: string): boolean {
    if (id.startsWith(PROFILE_PREFIX)) return !this.profiles.has(id.slice(PROFILE_PREFIX.length));
    if (id.startsWith(IDENTITY_PREFIX)) return !this.keys.has(keyOfIdentityId(id));
    return false;
  }

  /** Whether no identity document holds this identity key. */
  unheld(key: string): boolean {
    return !this.keys.has(key);
  }

  /** Takes a document id storage accepted a write of (removed ones stay listed: storage keeps them). */
  wrote(id: string): void {
    if (id.startsWith(PROFILE_PREFIX)) this.profiles.add(id.slice(PROFILE_PREFIX.length));
    else if (id.startsWith(IDENTITY_PREFIX)) this.keys.add(keyOfIdentityId(id));
  }

  /** How many profiles and identity keys are listed (for tests). */
  get size(): { profiles: number; keys: number } {
    return { profiles: this.profiles.size, keys: this.keys.size };
  }
}
