/**
 * The views the app shows (SPEC DV-17) and the sealed device credential (DV-18), against a real
 * server over HTTP: people with their sync state, what is pending, a person's decisions and
 * activity, and a credential that is only ever stored sealed.
 */
import { firstValueFrom, filter } from 'rxjs';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { describe, expect, it, vi } from 'vitest';
import { openDeviceDatabase, readLocal } from '../../shared/device/collections.ts';
import { DeviceEngine, type PersonView } from '../../shared/device/engine.ts';
import { DeviceSync, type CredentialSealer } from '../../shared/device/sync.ts';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import { seededRandom } from '../../shared/util/random.ts';
import { API_KEY } from '../helpers/server.ts';
import { serverWithDevices, SYNC_CONFIG } from '../helpers/server-with-devices.ts';

const world = serverWithDevices();
const device = (name: string, seed: number) => world.device(name, seed);

const summary = (people: readonly PersonView[]) =>
  people.map((p) => ({
    mpid: p.mpid,
    state: p.state,
    known: p.known,
    current: p.current,
    from: p.mergedFrom,
  }));

describe('device views', () => {
  it('[DV-17] people go from recorded to confirmed, and pending work drains, when the device syncs', async () => {
    const a = await device('a', 1);
    const anon = await a.engine.identify({});
    await a.engine.track('visited', { stand: 4 });
    const login = await a.engine.login({ customerid: 'c1', email: 'a@x.com' });
    await a.engine.track('signed-up');
    if (!anon.ok || !login.ok) throw new Error('local resolution failed');
    expect(await firstValueFrom(a.engine.status$)).toEqual({ pendingRequests: 2, pendingEvents: 2 });
    expect(summary(await firstValueFrom(a.engine.people$))).toEqual([
      { mpid: anon.value.mpid, state: 'recorded', known: true, current: true, from: [] },
    ]);
    expect((await firstValueFrom(a.engine.currentPerson$))?.identities).toEqual({
      customerid: ['c1'],
      email: ['a@x.com'],
    });

    await a.sync.syncOnce();
    expect(await firstValueFrom(a.engine.status$)).toEqual({ pendingRequests: 0, pendingEvents: 0 });
    expect(summary(await firstValueFrom(a.engine.people$))).toEqual([
      { mpid: anon.value.mpid, state: 'confirmed', known: true, current: true, from: [] },
    ]);
    const decisions = await firstValueFrom(a.engine.decisions$(anon.value.mpid));
    expect(decisions.map((d) => [d.kind, d.status, d.serverMpid])).toEqual([
      ['login', 'applied', anon.value.mpid],
      ['identify', 'applied', anon.value.mpid],
    ]);
    expect(decisions[0]?.trace).toMatchObject({ result: { mpid: anon.value.mpid } });
    const activity = await firstValueFrom(a.engine.activity$(anon.value.mpid));
    expect(activity.map((e) => [e.type, e.name, e.data])).toEqual([
      ['event', 'signed-up', {}],
      ['event', 'visited', { stand: 4 }],
    ]);
  });

  it('[DV-17][DV-8] a login the server resolved to an existing customer shows as merged, with its offline MPID', async () => {
    const a = await device('a', 1);
    const b = await device('b', 2);
    const first = await a.engine.login({ customerid: 'c7' });
    const second = await b.engine.login({ customerid: 'c7' });
    await b.engine.track('badge-scanned');
    if (!first.ok || !second.ok) throw new Error('local resolution failed');
    await a.sync.syncOnce();
    await b.sync.syncOnce();
    const people = await firstValueFrom(
      b.engine.people$.pipe(filter((list) => list.some((p) => p.state === 'merged'))),
    );
    expect(summary(people)).toEqual([
      { mpid: first.value.mpid, state: 'merged', known: true, current: true, from: [second.value.mpid] },
    ]);
    const decisions = await firstValueFrom(b.engine.decisions$(first.value.mpid));
    expect(decisions.map((d) => [d.provisionalMpid, d.serverMpid])).toEqual([
      [second.value.mpid, first.value.mpid],
    ]);
    const activity = await firstValueFrom(b.engine.activity$(first.value.mpid));
    expect(activity.map((e) => e.name)).toEqual(['badge-scanned']);
  });

  it('[DV-17][DV-8][UP-14] a list followed through the sync loses the offline record the server merged, and shows the person it became', async () => {
    const a = await device('a', 1);
    const b = await device('b', 2);
    const first = await a.engine.login({ customerid: 'c8' });
    const second = await b.engine.login({ customerid: 'c8' });
    if (!first.ok || !second.ok) throw new Error('local resolution failed');
    let latest: readonly PersonView[] = [];
    const followed = b.engine.people$.subscribe((people) => (latest = people));
    await firstValueFrom(b.engine.people$.pipe(filter((list) => list.length === 1)));
    await a.sync.syncOnce();
    await b.sync.syncOnce();
    const merged = {
      mpid: first.value.mpid,
      state: 'merged',
      known: true,
      current: true,
      from: [second.value.mpid],
    };
    await vi.waitFor(() => expect(summary(latest)).toEqual([merged]), { timeout: 5_000 });
    followed.unsubscribe();
  });

  it('[DV-18] with a sealer the device credential is stored sealed only, and a restarted device syncs with it', async () => {
    const storage = getRxStorageMemory();
    const sealed: string[] = [];
    const sealer: CredentialSealer = {
      seal: (plain) => {
        const box = `sealed:${Buffer.from(plain).toString('base64')}`;
        sealed.push(box);
        return Promise.resolve(box);
      },
      unseal: (box) => Promise.resolve(Buffer.from(box.slice('sealed:'.length), 'base64').toString('utf8')),
    };
    const open = async (seed: number) => {
      const db = await openDeviceDatabase('sealed-device', storage);
      const engine = await DeviceEngine.open({
        db,
        config: ScopeConfigSchema.parse(SYNC_CONFIG),
        environment: 'production',
        random: seededRandom(seed),
        clock: world.clock,
      });
      return {
        db,
        engine,
        sync: new DeviceSync(engine, { baseUrl: world.server.url, apiKey: API_KEY, credentials: sealer }),
      };
    };
    const first = await open(1);
    await first.engine.login({ customerid: 'sealed-1' });
    await first.sync.syncOnce();
    const stored = await readLocal<Record<string, unknown>>(first.db, 'credential');
    expect(stored).toEqual({ sealed: sealed[0] });
    expect(JSON.stringify(stored)).not.toContain('dev_');
    await first.db.close();

    const again = await open(2);
    await again.engine.login({ customerid: 'sealed-2' });
    await again.sync.syncOnce();
    expect(sealed).toHaveLength(1);
    expect((await again.engine.requests()).map((r) => r.server?.status)).toEqual(['applied', 'applied']);
    await again.db.close();
  });
});
