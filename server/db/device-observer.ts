/**
 * What the device log does when the identity store changes (SPEC SS-7), registered on the store as
 * its `IdentityStoreObserver` and run inside the identity store's own transaction:
 * - after a resolution, every profile whose device projection changed is put on the change feed
 *   of each device that views it;
 * - after a data-subject deletion, the profile's device activity goes (its events; the requests
 *   that resolved to it keep their place in each device's sequence but lose the identity values
 *   they carried), and the deletion is put on the feed.
 */
import type { StoreChange, WriteSet } from '../../shared/resolver/store-port.ts';
import type { IdentityStoreObserver } from './identity-store-port.ts';
import { rows, run, type SqlRun, type SqlTexts } from './sql-statements.ts';

export function deviceLogObserver(texts: SqlTexts): IdentityStoreObserver {
  return {
    *committed(write: WriteSet): SqlRun<void> {
      const changed = devicesVisibleChanges(write.changes);
      if (changed.length > 0) yield* run(texts.feedProfileChanges(changed.length), ['profile', ...changed]);
    },
    *profileDeleted(mpid: string): SqlRun<void> {
      const requests = yield* rows<{ device_id: string; seq: number; request_id: string; doc: string }>(
        texts.device.requestsResolvedTo,
        [mpid],
      );
      for (const r of requests) {
        yield* run(texts.device.deleteEventsOf, [r.device_id, r.request_id]);
        yield* run(texts.device.scrubRequest, [scrubbedDoc(r.doc), '{}', r.device_id, r.seq]);
      }
      yield* run(texts.feedProfileChanges(1), ['profile', mpid]);
    },
  };
}

/**
 * The stored request document with the identity values it carried removed: a v1 document (the
 * device's row, body under `data.sync`) or a v2 one (the wire request, body at the top; SPEC S2-8).
 */
function scrubbedDoc(doc: string): string {
  const parsed = JSON.parse(doc) as {
    body?: Record<string, unknown>;
    data?: { stored?: unknown; sync?: { body?: Record<string, unknown> } };
  };
  for (const body of [parsed.body, parsed.data?.sync?.body]) {
    if (body === undefined) continue;
    delete body['known_identities'];
    delete body['identity_changes'];
  }
  if (parsed.data !== undefined) parsed.data.stored = null;
  return JSON.stringify(parsed);
}

/**
 * The profiles whose device view (projection) a write set changes: everything but last-seen
 * touches, which devices are not sent.
 */
function devicesVisibleChanges(changes: readonly StoreChange[]): string[] {
  const mpids = new Set<string>();
  for (const change of changes) {
    switch (change.op) {
      case 'createProfile':
        mpids.add(change.profile.mpid);
        break;
      case 'addIdentity':
      case 'removeIdentity':
        mpids.add(change.mpid);
        break;
      case 'updateProfile':
        if (change.patch.firstSeenAt !== undefined || change.patch.orphanedAt !== undefined)
          mpids.add(change.mpid);
        break;
      case 'putAlias':
        break;
    }
  }
  return [...mpids];
}
