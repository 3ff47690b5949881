/**
 * The people list in its order (DV-6: most recently seen first, then by MPID), kept in order as
 * people change (UP-14): a change takes the people it touched out and puts their new views in at
 * their places, both found by binary search, instead of sorting everyone again. The list handed out
 * is a copy, made once per change, so a screen can hold it while the order moves on.
 */

/** The fields that order the list. */
export interface Ordered {
  readonly mpid: string;
  readonly lastSeenAt: number;
}

/** Most recently seen first; MPIDs, which are unique, break ties. */
export function newestFirst(a: Ordered, b: Ordered): number {
  return b.lastSeenAt - a.lastSeenAt || (a.mpid < b.mpid ? -1 : a.mpid > b.mpid ? 1 : 0);
}

export class OrderedPeople<V extends Ordered> {
  private rows: V[] = [];
  private readonly byMpid = new Map<string, V>();
  private shown: readonly V[] = [];
  private changed = false;

  /** Everyone anew. */
  reset(people: Iterable<V>): void {
    this.byMpid.clear();
    for (const person of people) this.byMpid.set(person.mpid, person);
    this.rows = [...this.byMpid.values()].sort(newestFirst);
    this.changed = true;
  }

  /** One person's new view, or `null`: they are no longer listed. */
  set(mpid: string, view: V | null): void {
    const old = this.byMpid.get(mpid);
    if (old === view || (old === undefined && view === null)) return;
    if (old !== undefined) {
      this.rows.splice(this.lowerBound(old), 1);
      this.byMpid.delete(mpid);
    }
    if (view !== null) {
      this.rows.splice(this.lowerBound(view), 0, view);
      this.byMpid.set(mpid, view);
    }
    this.changed = true;
  }

  /** The list as it is now: the same array until something changes. */
  list(): readonly V[] {
    if (this.changed) {
      this.shown = this.rows.slice();
      this.changed = false;
    }
    return this.shown;
  }

  /** The first index whose row does not come before `view` (its own index when it is listed). */
  private lowerBound(view: V): number {
    let low = 0;
    let high = this.rows.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (newestFirst(this.rows[mid] as V, view) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
