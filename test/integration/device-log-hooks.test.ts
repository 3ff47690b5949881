/**
 * The seam between the identity store and the device log (SPEC SS-6, SS-7), on SQLite and
 * PostgreSQL: the identity store tells its observer of commits and deletions inside the same
 * transaction, and the device log, registered as that observer, keeps device feeds and scrubs a
 * deleted profile's device data. The identity store itself writes no device table.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../server/db/connect.ts';
import { DeviceStore } from '../../server/db/device-store.ts';
import { SqlIdentityStore } from '../../server/db/sql-identity-store.ts';
import { rows, type SqlRun } from '../../server/db/sql-statements.ts';
import { PushedRequestSchema, SyncRequestDocSchema } from '../../shared/protocol/sync.ts';
import { resolveOptions } from '../../shared/resolver/context.ts';
import { programFor } from '../../shared/resolver/program-for.ts';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import { seededRandom } from '../../shared/util/random.ts';
import { openTestPostgres, pgSkipReason } from '../helpers/postgres.ts';
import { requestDocument } from '../helpers/sync-wire.ts';

const WS = 'ws1';
const NOW = 1_800_000_000_000;
const config = ScopeConfigSchema.parse({
  scopeId: WS,
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'device_application_stamp'],
  loginIdentities: ['customerid', 'email'],
  uniqueIdentities: ['customerid', 'email'],
});

const dialects = [
  { name: 'SQLite', skip: null, open: () => openDatabase({ target: ':memory:' }) },
  { name: 'PostgreSQL', skip: pgSkipReason, open: () => openTestPostgres() },
];

/** A statement every dialect answers, so an observer yields like a real one. */
function* ping(): SqlRun<void> {
  yield* rows('select 1 as n', []);
}

for (const dialect of dialects) {
  describe.skipIf(dialect.skip !== null)(`identity store and device log on ${dialect.name}`, () => {
    let handle: DatabaseHandle | null = null;
    afterEach(async () => {
      await handle?.close();
      handle = null;
    });

    async function open() {
      handle = await dialect.open();
      await handle.db
        .insertInto('workspaces')
        .values({
          id: WS,
          config: JSON.stringify(config),
          config_version: 1,
          created_at: NOW,
          updated_at: NOW,
        })
        .execute();
      return { handle, store: new SqlIdentityStore(handle) };
    }

    const identify = (store: SqlIdentityStore, known_identities: Record<string, string>, seed: number) =>
      store.runProgram(WS, (c) =>
        programFor(
          'login',
          { body: { environment: 'production', known_identities } },
          resolveOptions({
            config: c,
            random: seededRandom(seed),
            now: NOW,
            actor: { kind: 'system', id: 't' },
          }),
        ),
      );

    it('[SS-7] observers see each commit and deletion inside its transaction; a failing one undoes it', async () => {
      const { store } = await open();
      const committed: number[] = [];
      const deleted: string[] = [];
      let fail = false;
      store.observe({
        *committed(write) {
          yield* ping();
          if (fail) throw new Error('observer failed');
          committed.push(write.changes.length);
        },
        *profileDeleted(mpid) {
          yield* ping();
          deleted.push(mpid);
        },
      });
      const first = await identify(store, { email: 'a@example.com' }, 1);
      expect(first?.ok).toBe(true);
      expect(committed).toEqual([1]);
      fail = true;
      const before = await store.dump();
      await expect(identify(store, { email: 'b@example.com' }, 2)).rejects.toThrow('observer failed');
      expect(await store.dump()).toEqual(before);
      const mpid = first?.ok === true ? first.value.response.mpid : '';
      expect(await store.deleteProfile(WS, mpid, { kind: 'admin', id: 't' }, NOW)).toBe(true);
      expect(deleted).toEqual([mpid]);
    });

    it('[SS-6][SS-7] the device log keeps device feeds and scrubs a deleted profile through the hook', async () => {
      const { handle, store } = await open();
      const devices = new DeviceStore(handle, store, () => NOW);
      await devices.register(WS, 'key', { device_id: 'd1', name: 'd1', device_application_stamp: 'das-d1' });
      const device = await devices.find('d1');
      if (device === null) throw new Error('device d1 was not registered');
      const doc = SyncRequestDocSchema.parse(
        requestDocument({ deviceId: 'd1', seq: 1, body: { known_identities: { customerid: 'c1' } } }),
      );
      const replayed = await devices.replay(device, doc, seededRandom(3));
      expect(replayed.kind).toBe('applied');
      const mpid = replayed.kind === 'applied' ? (replayed.doc.data.sync.server?.mpid ?? '') : '';
      await devices.pushEvents('d1', [
        { id: 'e1', requestId: 'd1-1', type: 'event', name: 'opened', data: {}, at: NOW },
      ]);
      const feed = () =>
        handle.db
          .selectFrom('change_log')
          .select(['kind', 'key'])
          .where('device_id', '=', 'd1')
          .orderBy('seq')
          .execute();
      const afterReplay = (await feed()).length;

      // A resolution through the identity store alone adds an identity: the device's feed hears of it.
      const added = await identify(store, { customerid: 'c1', email: 'c1@example.com' }, 4);
      expect(added?.ok).toBe(true);
      expect((await feed()).slice(afterReplay)).toEqual([{ kind: 'profile', key: mpid }]);

      expect(await store.deleteProfile(WS, mpid, { kind: 'admin', id: 't' }, NOW)).toBe(true);
      expect((await feed()).at(-1)).toEqual({ kind: 'profile', key: mpid });
      expect(await handle.db.selectFrom('events').selectAll().execute()).toEqual([]);
      const [row] = await handle.db.selectFrom('device_requests').select(['doc', 'resolved_body']).execute();
      const scrubbed = JSON.parse(row?.doc ?? '{}') as { data: { stored: unknown; sync: { body: object } } };
      expect(scrubbed.data.stored).toBeNull();
      expect(scrubbed.data.sync.body).not.toHaveProperty('known_identities');
      expect(row?.resolved_body).toBe('{}');
    });

    it('[SS-7][S2-8][AD-6] a request pushed through v2 (the wire request) is scrubbed of its identity values too', async () => {
      const { handle, store } = await open();
      const devices = new DeviceStore(handle, store, () => NOW);
      await devices.register(WS, 'key', { device_id: 'd2', name: 'd2', device_application_stamp: 'das-d2' });
      const device = await devices.find('d2');
      if (device === null) throw new Error('device d2 was not registered');
      const row = SyncRequestDocSchema.parse(
        requestDocument({ deviceId: 'd2', seq: 1, body: { known_identities: { customerid: 'c2' } } }),
      );
      const request = PushedRequestSchema.parse(row.data.sync);
      const replayed = await devices.replayRequest(device, request, seededRandom(5));
      expect(replayed.kind).toBe('applied');
      const mpid = replayed.kind === 'applied' ? (replayed.doc.server.mpid ?? '') : '';
      expect(await store.deleteProfile(WS, mpid, { kind: 'admin', id: 't' }, NOW)).toBe(true);
      const [stored] = await handle.db.selectFrom('device_requests').select(['doc']).execute();
      expect(stored?.doc).not.toContain('c2');
      expect(JSON.parse(stored?.doc ?? '{}')).not.toHaveProperty('body.known_identities');
    });
  });
}
