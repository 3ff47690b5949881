/**
 * The graph's live profile documents, read from storage once and then kept from the collection's
 * change events (UP-14), this page's writes and other pages' alike: a write costs the list the
 * documents it wrote, not a new query over every profile, which grows with the device (10,000
 * people: tens of ms of main thread per write in RxDB's query machinery and the list's rebuild).
 *
 * The events start to be followed before the read begins; those that arrive while it runs are
 * applied after it, in the order they came, so each document ends as its last event left it and
 * nothing written meanwhile is missed.
 */
import { Observable } from 'rxjs';
import type { RxChangeEvent, RxCollection } from 'rxdb/plugins/core';
import type { GraphDoc } from './collections.ts';
import { kindSelector, liveDocuments } from './rxdb-store.ts';

export interface ProfileDocs {
  /** Live profile documents by MPID. */
  readonly docs: ReadonlyMap<string, GraphDoc>;
  /**
   * The MPIDs whose document was written or removed since the last call, for the caller to keep;
   * `null` at the first call: everyone is new.
   */
  takeChanged(): Set<string> | null;
}

/** Emits the same `ProfileDocs` at the first read and after each change event of a profile. */
export function liveProfiles(graph: RxCollection<GraphDoc>): Observable<ProfileDocs> {
  return new Observable<ProfileDocs>((subscriber) => {
    const docs = new Map<string, GraphDoc>();
    let changed: Set<string> | null = null;
    let early: RxChangeEvent<GraphDoc>[] | null = [];
    const profiles: ProfileDocs = {
      docs,
      takeChanged() {
        const taken = changed;
        changed = new Set();
        return taken;
      },
    };
    // A profile leaves the list when its document is removed or stops being a profile (DV-8:
    // reconciliation turns a profile the server resolved elsewhere into kind `dropped`); other
    // kinds carry their profile's MPID too, so the document's id tells whether it is the one listed.
    const apply = (event: RxChangeEvent<GraphDoc>): boolean => {
      const doc = event.documentData;
      if (doc.kind === 'profile' && event.operation !== 'DELETE' && !doc._deleted) docs.set(doc.mpid, doc);
      else if (docs.get(doc.mpid)?.id === doc.id) docs.delete(doc.mpid);
      else return false;
      changed?.add(doc.mpid);
      return true;
    };
    const events = graph.$.subscribe((event) => {
      if (early !== null) early.push(event);
      else if (apply(event)) subscriber.next(profiles);
    });
    liveDocuments(graph, { selector: kindSelector('profile') }).then(
      (found) => {
        if (subscriber.closed) return;
        for (const doc of found) docs.set(doc.mpid, doc);
        for (const event of early ?? []) apply(event);
        early = null;
        subscriber.next(profiles);
      },
      (error: unknown) => subscriber.error(error),
    );
    return () => events.unsubscribe();
  });
}
