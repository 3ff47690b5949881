import { describe, expect, it } from 'vitest';
import { admin, call } from '../helpers/server.ts';
import { serverWithDevices } from '../helpers/server-with-devices.ts';
import { deviceAuthorization, loginRow } from '../helpers/sync-wire.ts';

const world = serverWithDevices();
const device = (name: string, seed: number) => world.device(name, seed);

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
    }>(world.server.url, 'GET', `/workspaces/default/profiles/${anon.value.mpid}`);
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

/** A device's credential headers for raw calls to the sync API. */
async function registered(id: string, secret?: string) {
  const answer = await call<{ device_id: string; device_secret: string }>(
    world.server.url,
    '/sync/v1/devices',
    {
      device_id: id,
      name: id,
      device_application_stamp: `das-${id}`,
      ...(secret === undefined ? {} : { device_secret: secret }),
    },
  );
  return answer;
}

interface PushAnswer {
  conflicts: {
    data: { sync: { requestId: string; server: { status: string; mpid: string | null } | null } };
  }[];
  errors: { id: string; code: string }[];
}

describe('sync API', () => {
  it('[SY-2] one bad document in a push gets its own error; the others are applied', async () => {
    const credential = (await registered('raw-1')).body;
    const rows = [
      loginRow('raw-1', 1, 'r-one', 'x1'),
      { newDocumentState: { id: 'junk', kind: 'request' } },
      loginRow('raw-1', 2, 'r-two', 'x2'),
    ];
    const answer = await call<PushAnswer>(
      world.server.url,
      '/sync/v1/requests/push',
      { rows },
      { headers: deviceAuthorization(credential) },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toEqual([expect.objectContaining({ id: 'junk', code: 'invalid' })]);
    expect(answer.body.conflicts.map((c) => [c.data.sync.requestId, c.data.sync.server?.status])).toEqual([
      ['r-one', 'applied'],
      ['r-two', 'applied'],
    ]);
  });

  it('[SY-3] a gap is refused without side effects, and the same push later is applied once', async () => {
    const credential = (await registered('raw-2')).body;
    const headers = deviceAuthorization(credential);
    const early = await call<PushAnswer>(
      world.server.url,
      '/sync/v1/requests/push',
      { rows: [loginRow('raw-2', 2, 'g-two', 'g2')] },
      { headers },
    );
    expect(early.body.errors).toEqual([expect.objectContaining({ code: 'gap' })]);
    expect(early.body.conflicts).toEqual([]);
    const exported = await admin<{ deviceRequests: unknown[] }>(
      world.server.url,
      'GET',
      '/workspaces/default/export',
    );
    expect(exported.body.deviceRequests).toEqual([]);
    const rows = [loginRow('raw-2', 2, 'g-two', 'g2'), loginRow('raw-2', 1, 'g-one', 'g1')];
    const first = await call<PushAnswer>(world.server.url, '/sync/v1/requests/push', { rows }, { headers });
    const again = await call<PushAnswer>(world.server.url, '/sync/v1/requests/push', { rows }, { headers });
    expect(first.body.errors).toEqual([]);
    expect(again.body.conflicts).toEqual(first.body.conflicts);
    const after = await admin<{ deviceRequests: { requestId: string }[] }>(
      world.server.url,
      'GET',
      '/workspaces/default/export',
    );
    expect(after.body.deviceRequests.map((r) => r.requestId)).toEqual(['g-one', 'g-two']);
  });

  it('[AU-8] a device pushes and pulls only its own requests; wrong, revoked and duplicate credentials are refused', async () => {
    const a = (await registered('sec-a')).body;
    const b = (await registered('sec-b')).body;
    await call(
      world.server.url,
      '/sync/v1/requests/push',
      { rows: [loginRow('sec-a', 1, 'a-one', 'sa')] },
      { headers: deviceAuthorization(a) },
    );
    const foreign = await call<PushAnswer>(
      world.server.url,
      '/sync/v1/requests/push',
      { rows: [loginRow('sec-a', 2, 'b-fake', 'sb')] },
      { headers: deviceAuthorization(b) },
    );
    expect(foreign.body.errors).toEqual([expect.objectContaining({ code: 'forbidden' })]);
    const pulled = await call<{ documents: { data: { sync: { deviceId: string } } }[] }>(
      world.server.url,
      '/sync/v1/requests/pull?seq=0',
      undefined,
      { method: 'GET', headers: deviceAuthorization(b) },
    );
    expect(pulled.body.documents).toEqual([]);
    const wrong = await call(world.server.url, '/sync/v1/requests/pull?seq=0', undefined, {
      method: 'GET',
      headers: deviceAuthorization({ ...a, device_secret: 'dev_wrong' }),
    });
    expect(wrong.status).toBe(401);
    const noKey = await call(world.server.url, '/sync/v1/requests/pull?seq=0', undefined, {
      method: 'GET',
      auth: 'none',
      headers: deviceAuthorization(a),
    });
    expect(noKey.status).toBe(401);
    expect((await registered('sec-a')).status).toBe(409);
    const revoked = await admin(world.server.url, 'DELETE', '/workspaces/default/devices/sec-a');
    expect(revoked.status).toBe(204);
    const afterRevoke = await call(world.server.url, '/sync/v1/requests/pull?seq=0', undefined, {
      method: 'GET',
      headers: deviceAuthorization(a),
    });
    expect(afterRevoke.status).toBe(401);
  });

  it('[AU-9] registering again with the same device secret answers the same credential (a lost answer is harmless)', async () => {
    const secret = 'dev_0123456789abcdef0123456789abcdef';
    const first = await registered('again', secret);
    const second = await registered('again', secret);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect((await registered('again', `${secret}x`)).status).toBe(409);
  });

  it('[SY-5] a device sees only the identities it supplied itself on a shared profile', async () => {
    const a = await device('a', 11);
    const b = await device('b', 12);
    await a.engine.login({ customerid: 'shared-1', email: 'private@x.com' });
    await a.sync.syncOnce();
    await b.engine.login({ customerid: 'shared-1' });
    await b.sync.syncOnce();
    const people = await b.engine.people();
    const customer = people.find((p) => p.identities.customerid?.includes('shared-1'));
    expect(customer?.identities.email).toBeUndefined();
    const view = await admin<{ profiles: { identities: Record<string, string[]> }[] }>(
      world.server.url,
      'GET',
      `/workspaces/default/devices/${b.engine.deviceId}/view`,
    );
    expect(view.body.profiles.some((p) => p.identities.email !== undefined)).toBe(false);
  });

  it('[SY-8][DV-12] a live device drops a profile an admin deleted, without a sync call', async () => {
    const a = await device('a', 21);
    const login = await a.engine.login({ customerid: 'to-delete' });
    if (!login.ok) throw new Error('login failed');
    await a.sync.syncOnce();
    await a.sync.goLive();
    expect((await a.engine.people()).map((p) => p.mpid)).toContain(login.value.mpid);
    const deleted = await admin(
      world.server.url,
      'DELETE',
      `/workspaces/default/profiles/${login.value.mpid}`,
    );
    expect(deleted.status).toBe(200);
    await expect
      .poll(async () => (await a.engine.people()).map((p) => p.mpid), { timeout: 10_000 })
      .not.toContain(login.value.mpid);
    const recorded = await a.engine.identify({ email: 'live@x.com' });
    if (!recorded.ok) throw new Error('identify failed');
    await expect
      .poll(async () => (await a.engine.requests()).at(-1)?.server?.status, { timeout: 10_000 })
      .toBe('applied');
  });

  it('[DV-13] search answers from the server while online and says UNAVAILABLE at once while offline', async () => {
    const a = await device('a', 31);
    const login = await a.engine.login({ customerid: 'searchable' });
    if (!login.ok) throw new Error('login failed');
    await a.sync.syncOnce();
    const found = await a.sync.search({ customerid: 'searchable' });
    expect(found).toEqual({ ok: true, value: expect.objectContaining({ mpid: login.value.mpid }) });
    const missing = await a.sync.search({ customerid: 'nobody' });
    expect(missing.ok).toBe(false);
    const offline = await world.device('offline', 32, 'http://127.0.0.1:9');
    const started = performance.now();
    const answer = await offline.sync.search({ customerid: 'searchable' });
    expect(answer.ok ? null : answer.error.code).toBe('UNAVAILABLE');
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
