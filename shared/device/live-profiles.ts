/**
 * The graph's live profile documents, read from storage once and then kept from the collection's
 * change events (UP-14), this page's writes and other pages' alike: a write costs the list the
 * documents it wrote, not a new query over every profile, which grows with the device (10,000
 * people: tens of ms of main thread per write in RxDB's query machinery and the list's rebuild).
 *
 * The events start to be followed before the read begins; those that arrive while it runs are
 * applied after it, in the order they came, so nothing written meanwhile is missed. An event older
 * (by revision) than what the list holds of its document is not taken: another page's event may
 * arrive after this page wrote the same document again.
 */
import { Observable } from 'rxjs';
import {
  getHeightOfRevision,
  type RxChangeEvent,
  type RxCollection,
  type RxDocumentData,
} from 'rxdb/plugins/core';
import type { GraphDoc } from './collections.ts';
import { PROFILE_PREFIX } from './graph-directory.ts';
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
    // The newest revision taken of each profile document, removed ones included: another page's
    // event can arrive after this page wrote the document again, and must not bring it back.
    const heights = new Map<string, number>();
    const keep = (doc: RxDocumentData<GraphDoc>) => heights.set(doc.id, getHeightOfRevision(doc._rev));
    // A profile's document keeps its id (PROFILE_PREFIX and the MPID) whatever it becomes: it
    // leaves the list when it is removed or stops being a profile (DV-8: reconciliation turns a
    // profile the server resolved elsewhere into kind `dropped`).
    const apply = (event: RxChangeEvent<GraphDoc>): boolean => {
      const doc = event.documentData;
      if (!doc.id.startsWith(PROFILE_PREFIX)) return false;
      if (getHeightOfRevision(doc._rev) < (heights.get(doc.id) ?? 0)) return false;
      keep(doc);
      if (doc.kind === 'profile' && event.operation !== 'DELETE' && !doc._deleted) docs.set(doc.mpid, doc);
      else if (!docs.delete(doc.mpid)) return false;
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
        for (const doc of found) {
          docs.set(doc.mpid, doc);
          keep(doc);
        }
        for (const event of early ?? []) apply(event);
        early = null;
        subscriber.next(profiles);
      },
      (error: unknown) => subscriber.error(error),
    );
    return () => events.unsubscribe();
  });
}
