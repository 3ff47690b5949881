import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScopeConfigSchema, type ScopeConfigInput } from '../../shared/identity/scope-config.ts';
import { API_KEY, admin, startTestServer, type TestServer } from '../helpers/server.ts';
import { openDevice, type SimulatedDevice } from '../../simulator/devices.ts';

const CONFIG: ScopeConfigInput = {
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'device_application_stamp'],
  loginIdentities: ['customerid', 'email'],
  uniqueIdentities: ['customerid', 'email'],
};

let server: TestServer;
let devices: SimulatedDevice[] = [];
let now = 1_800_000_000_000;
const clock = { now: () => (now += 1000) };

beforeEach(async () => {
  server = await startTestServer({ config: CONFIG });
  devices = [];
});
afterEach(async () => {
  for (const d of devices) await d.close();
  await server.close();
});

async function device(name: string, seed: number) {
  const d = await openDevice({
    name,
    seed,
    clock,
    config: ScopeConfigSchema.parse(CONFIG),
    endpoint: { baseUrl: server.url, apiKey: API_KEY },
  });
  devices.push(d);
  return d;
}

describe('device sync', () => {
  it('[DV-1][SY-1] resolves offline, then the server replays and the device converges', async () => {
    const a = await device('a', 1);
    const anon = await a.engine.identify({});
    expect(anon.ok).toBe(true);
    const login = await a.engine.login({ customerid: 'c1', email: 'a@x.com' });
    if (!login.ok || !anon.ok) throw new Error('local resolution failed');
    expect(login.value.mpid).toBe(anon.value.mpid);
    await a.engine.track('viewed', { page: 1 });
    const notices = await a.sync.syncOnce();
    expect(notices).toEqual([]);
    const requests = await a.engine.requests();
    expect(requests.map((r) => r.server?.mpid)).toEqual([anon.value.mpid, anon.value.mpid]);
    const detail = await admin<{
      profile: { identities: Record<string, string[]> };
      events: { name: string }[];
    }>(server.url, 'GET', `/workspaces/default/profiles/${anon.value.mpid}`);
    expect(detail.body.profile.identities).toMatchObject({ customerid: ['c1'], email: ['a@x.com'] });
    expect(detail.body.events.map((e) => e.name)).toEqual(['viewed']);
    const user = await a.engine.currentUser();
    expect(user).toMatchObject({ mpid: anon.value.mpid, provisional: false, isLoggedIn: true });
  });

  it('[DV-8][SY-4] two devices log the same new customer in offline: the later one lands on the earlier profile', async () => {
    const a = await device('a', 1);
    const b = await device('b', 2);
    const first = await a.engine.login({ customerid: 'c7' });
    const second = await b.engine.login({ customerid: 'c7' });
    if (!first.ok || !second.ok) throw new Error('local resolution failed');
    expect(first.value.mpid).not.toBe(second.value.mpid);
    await a.sync.syncOnce();
    const notices = await b.sync.syncOnce();
    expect(notices).toEqual([
      expect.objectContaining({ kind: 'merged', from: second.value.mpid, to: first.value.mpid }),
    ]);
    expect((await b.engine.currentUser())?.mpid).toBe(first.value.mpid);
    const people = await b.engine.people();
    expect(people.map((p) => p.mpid)).toEqual([first.value.mpid]);
  });
});
