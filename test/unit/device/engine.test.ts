/**
 * The device engine on its own, with no server (SPEC DV-2..DV-6): what it stores, in what order,
 * and what it reports, all offline.
 */
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import type { CurrentUser } from '../../../shared/device/engine.ts';
import { ScopeConfigSchema } from '../../../shared/identity/scope-config.ts';
import { openDevice, type SimulatedDevice } from '../../../simulator/devices.ts';

const CONFIG = ScopeConfigSchema.parse({
  scopeId: 'unit',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'device_application_stamp'],
  loginIdentities: ['customerid'],
  uniqueIdentities: ['customerid'],
});
const storage = getRxStorageMemory();
let now = 1_800_000_000_000;
const clock = { now: () => (now += 10) };
const open: SimulatedDevice[] = [];

afterEach(async () => {
  for (const device of open.splice(0)) await device.close();
});

async function device(seed: number, databaseName?: string): Promise<SimulatedDevice> {
  const d = await openDevice({
    name: `unit${seed}`,
    seed,
    clock,
    config: CONFIG,
    storage,
    endpoint: { baseUrl: 'http://127.0.0.1:9', apiKey: 'unused-key' },
    ...(databaseName === undefined ? {} : { databaseName }),
  });
  open.push(d);
  return d;
}

describe('device engine, offline', () => {
  it('[DV-2] keeps three collections and its state in local documents; the application stamp survives a restart', async () => {
    const first = await device(1);
    expect(Object.keys(first.db.collections).sort()).toEqual(['events', 'graph', 'profiles']);
    const stamp = first.engine.das;
    const id = first.engine.deviceId;
    await first.engine.identify({});
    const name = first.databaseName;
    await first.close();
    open.splice(open.indexOf(first), 1);
    const again = await device(2, name);
    expect(again.engine.das).toBe(stamp);
    expect(again.engine.deviceId).toBe(id);
    const [request] = await again.engine.requests();
    expect((request?.body['known_identities'] as Record<string, string>)['device_application_stamp']).toBe(
      stamp,
    );
  });

  it('[DV-3][DV-1] concurrent identity calls run one at a time, in call order, with gapless sequence numbers', async () => {
    const d = await device(3);
    const answers = await Promise.all([
      d.engine.identify({}),
      d.engine.login({ customerid: 'u1' }),
      d.engine.logout(),
      d.engine.login({ customerid: 'u2' }),
    ]);
    expect(answers.every((a) => a.ok)).toBe(true);
    const requests = await d.engine.requests();
    expect(requests.map((r) => [r.seq, r.kind])).toEqual([
      [1, 'identify'],
      [2, 'login'],
      [3, 'logout'],
      [4, 'login'],
    ]);
    expect(requests.every((r) => r.server === null)).toBe(true);
  });

  it('[DV-4] events belong to the request that established the current user; with nobody current the device identifies first', async () => {
    const d = await device(4);
    await d.engine.track('before-anyone');
    const [anonymous] = await d.engine.requests();
    expect(anonymous?.kind).toBe('identify');
    const login = await d.engine.login({ customerid: 'u4' });
    if (!login.ok) throw new Error('login failed');
    await d.engine.track('after-login');
    await d.engine.setUserAttribute('tier', 'gold');
    const events = (await d.db.events.find({ sort: [{ at: 'asc' }] }).exec()).map((e) => [
      e.name,
      e.type,
      e.requestId,
    ]);
    expect(events).toEqual([
      ['before-anyone', 'event', anonymous?.requestId],
      ['after-login', 'event', login.value.requestId],
      ['tier', 'attribute', login.value.requestId],
    ]);
  });

  it('[DV-5] the current user is the newest identity answer, provisional until the server replays it, and observable', async () => {
    const d = await device(5);
    const seen: (CurrentUser | null)[] = [];
    const subscription = d.engine.currentUser$.subscribe((user) => seen.push(user));
    const login = await d.engine.login({ customerid: 'u5' });
    if (!login.ok) throw new Error('login failed');
    await expect.poll(() => seen.at(-1)?.mpid).toBe(login.value.mpid);
    subscription.unsubscribe();
    expect(await d.engine.currentUser()).toEqual({
      mpid: login.value.mpid,
      requestId: login.value.requestId,
      provisional: true,
      isLoggedIn: true,
    });
  });

  it('[DV-6] people lists the live profiles on the device, most recently seen first', async () => {
    const d = await device(6);
    const first = await d.engine.login({ customerid: 'p1' });
    await d.engine.logout();
    const second = await d.engine.login({ customerid: 'p2' });
    if (!first.ok || !second.ok) throw new Error('login failed');
    const people = await d.engine.people();
    expect(people.map((p) => p.mpid)).toEqual([second.value.mpid, first.value.mpid]);
    expect(people[0]?.identities.customerid).toEqual(['p2']);
  });
});
