/**
 * Sync protocol v2 (SPEC S2-*): each push error code provoked over real HTTP, the protocol
 * version check, and `--body-limit` on the sync routes.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import { SYNC_PROTOCOL_HEADER } from '../../shared/protocol/sync.ts';
import { openDevice, type SimulatedDevice } from '../../simulator/devices.ts';
import { admin, API_KEY, call, startTestServer, type TestServer } from '../helpers/server.ts';
import { SYNC_CONFIG } from '../helpers/server-with-devices.ts';
import { loginRow, pushRow, registerDevice, requestDocument } from '../helpers/sync-wire.ts';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer({ config: SYNC_CONFIG, bodyLimitBytes: 16 * 1024 });
});
afterEach(async () => {
  await server.close();
});

interface PushAnswer {
  conflicts: { data: { sync: { requestId: string; server: { status: string } | null } } }[];
  errors: { id: string; code: string; message: string }[];
}

const pushV1 = (headers: Record<string, string>, rows: unknown[]) =>
  call<PushAnswer>(server.url, '/sync/v1/requests/push', { rows }, { headers });

const deviceRequests = async () =>
  (await admin<{ deviceRequests: { requestId: string }[] }>(server.url, 'GET', '/workspaces/default/export'))
    .body.deviceRequests;

describe('push error codes', () => {
  it('[S2-1] a document that is not a pushed request is `invalid`; the others are applied', async () => {
    const headers = await registerDevice(server.url, 'us1-test-key', 'e-invalid');
    const answer = await pushV1(headers, [
      loginRow('e-invalid', 1, 'i-one', 'i1'),
      { newDocumentState: { id: 'junk', kind: 'request' } },
    ]);
    expect(answer.body.errors).toEqual([expect.objectContaining({ id: 'junk', code: 'invalid' })]);
    expect(answer.body.conflicts.map((c) => c.data.sync.requestId)).toEqual(['i-one']);
  });

  it('[S2-2] a request whose predecessor is missing is a `gap` and changes nothing', async () => {
    const headers = await registerDevice(server.url, 'us1-test-key', 'e-gap');
    const answer = await pushV1(headers, [loginRow('e-gap', 2, 'g-two', 'g2')]);
    expect(answer.body.errors).toEqual([expect.objectContaining({ id: 'request|g-two', code: 'gap' })]);
    expect(await deviceRequests()).toEqual([]);
  });

  it('[S2-3] another request at a sequence number already taken is a `seq_conflict`', async () => {
    const headers = await registerDevice(server.url, 'us1-test-key', 'e-seq');
    await pushV1(headers, [loginRow('e-seq', 1, 's-one', 's1')]);
    const answer = await pushV1(headers, [loginRow('e-seq', 1, 's-other', 's2')]);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({ id: 'request|s-other', code: 'seq_conflict' }),
    ]);
    expect((await deviceRequests()).map((r) => r.requestId)).toEqual(['s-one']);
  });

  it('[S2-4] a request of another device, or naming a profile outside the view, is `forbidden`', async () => {
    const mine = await registerDevice(server.url, 'us1-test-key', 'e-mine');
    const other = await registerDevice(server.url, 'us1-test-key', 'e-other');
    const foreign = await pushV1(other, [loginRow('e-mine', 1, 'f-one', 'f1')]);
    expect(foreign.body.errors).toEqual([
      expect.objectContaining({ id: 'request|f-one', code: 'forbidden' }),
    ]);
    expect(await deviceRequests()).toEqual([]);
    const modify = await pushV1(mine, [
      pushRow({
        deviceId: 'e-mine',
        seq: 1,
        requestId: 'f-modify',
        kind: 'modify',
        body: { identity_changes: [{ identity_type: 'email', old_value: null, new_value: 'f@x.com' }] },
        modifyMpid: '12345',
      }),
    ]);
    expect(modify.body.errors).toEqual([
      expect.objectContaining({ id: 'request|f-modify', code: 'forbidden' }),
    ]);
  });

  it('[S2-5] a device whose workspace is gone gets `workspace_missing` and nothing is stored', async () => {
    const headers = await registerDevice(server.url, 'us1-test-key', 'e-gone');
    const db = new Database(server.databaseFile);
    db.pragma('foreign_keys = OFF');
    db.prepare('delete from workspaces where id = ?').run('default');
    db.close();
    const answer = await pushV1(headers, [loginRow('e-gone', 1, 'w-one', 'w1')]);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({ id: 'request|w-one', code: 'workspace_missing' }),
    ]);
    expect(answer.body.conflicts).toEqual([]);
  });
});

describe('protocol version', () => {
  it.each([
    ['too old', '0'],
    ['too new', '99'],
    ['not a version', 'three'],
  ])(
    '[S2-6] a device speaking a version the server does not (%s) is refused: update the app',
    async (_, version) => {
      const headers = await registerDevice(server.url, 'us1-test-key', 'v-device');
      const answer = await call<{ errors: { reason: string; message: string }[] }>(
        server.url,
        '/sync/v1/requests/push',
        { rows: [loginRow('v-device', 1, 'v-one', 'v1')] },
        { headers: { ...headers, [SYNC_PROTOCOL_HEADER]: version } },
      );
      expect(answer.status).toBe(400);
      expect(answer.body.errors[0]).toMatchObject({
        reason: 'SYNC_PROTOCOL_UNSUPPORTED',
        message: expect.stringContaining('update the'),
      });
      expect(await deviceRequests()).toEqual([]);
    },
  );

  it('[S2-6] a device that names no version is taken as version 2 and served', async () => {
    const headers = await registerDevice(server.url, 'us1-test-key', 'v-old');
    const answer = await pushV1(headers, [loginRow('v-old', 1, 'o-one', 'o1')]);
    expect(answer.body.errors).toEqual([]);
    const versioned = await pushV1({ ...headers, [SYNC_PROTOCOL_HEADER]: '3' }, [
      loginRow('v-old', 2, 'o-two', 'o2'),
    ]);
    expect(versioned.body.errors).toEqual([]);
  });
});

describe('body limit', () => {
  it('[S2-7] a push larger than --body-limit is refused with 413 and changes nothing', async () => {
    const headers = await registerDevice(server.url, 'us1-test-key', 'b-device');
    const rows = Array.from({ length: 60 }, (_, i) => loginRow('b-device', i + 1, `b-${i}`, `b${i}`));
    expect(JSON.stringify({ rows }).length).toBeGreaterThan(16 * 1024);
    const answer = await call<{ errors: { reason: string }[] }>(
      server.url,
      '/sync/v1/requests/push',
      { rows },
      { headers },
    );
    expect(answer.status).toBe(413);
    expect(answer.body.errors[0]?.reason).toBe('PAYLOAD_TOO_LARGE');
    expect(await deviceRequests()).toEqual([]);
    const events = await call(
      server.url,
      '/sync/v1/events/push',
      { rows: [{ newDocumentState: { padding: 'x'.repeat(17 * 1024) } }] },
      { headers },
    );
    expect(events.status).toBe(413);
  });
});

describe('one call per round (v2)', () => {
  let opened: SimulatedDevice[] = [];
  afterEach(async () => {
    for (const d of opened) await d.close();
    opened = [];
  });
  let now = 1_800_000_000_000;
  const clock = { now: () => (now += 1000) };
  /** A v2 device (the real engine and sync) whose HTTP calls are listed in `calls`. */
  const v2Device = async (name: string, seed: number, calls: string[] = []) => {
    const counting: typeof fetch = (input, init) => {
      calls.push(
        `${init?.method ?? 'GET'} ${new URL(input instanceof Request ? input.url : input).pathname}`,
      );
      return fetch(input, init);
    };
    const device = await openDevice({
      name,
      seed,
      clock,
      config: ScopeConfigSchema.parse(SYNC_CONFIG),
      endpoint: { baseUrl: server.url, apiKey: API_KEY, fetch: counting },
    });
    opened.push(device);
    return device;
  };
  const round = (headers: Record<string, string>, body: Record<string, unknown>) =>
    call<{
      requestErrors: { id: string; code: string }[];
      eventErrors: { id: string; code: string }[];
      results: { requestId: string; server: { status: string; mpid: string | null } }[];
      profiles: { id: string }[];
      checkpoint: { requests: number; profiles: number };
      more: boolean;
    }>(
      server.url,
      '/sync/v2/round',
      { checkpoint: { requests: 0, profiles: 0 }, requests: [], events: [], ...body },
      { headers: { ...headers, [SYNC_PROTOCOL_HEADER]: '3' } },
    );
  const wire = (deviceId: string, seq: number, customerid: string) =>
    requestDocument({
      deviceId,
      seq,
      requestId: `${deviceId}-${seq}`,
      body: { known_identities: { customerid, device_application_stamp: `das-${deviceId}` } },
    }).data.sync;
  const pushed = (({ server: _server, ...request }) => request)(wire('w', 1, 'x'));

  it('[S2-9] a round pushes requests and events and pulls results and profiles in one HTTP call', async () => {
    const calls: string[] = [];
    const device = await v2Device('one-call', 1, calls);
    await device.sync.connect();
    calls.length = 0;
    await device.engine.identify({});
    for (let e = 0; e < 20; e += 1) await device.engine.track(`event-${e}`, { n: e });
    const login = await device.engine.login({ customerid: 'one-call' });
    if (!login.ok) throw new Error('login failed');
    expect(await device.sync.syncOnce()).toEqual([]);
    expect(calls).toEqual(['POST /sync/v2/round']);
    expect((await device.engine.requests()).map((r) => r.server?.status)).toEqual(['applied', 'applied']);
    expect((await device.engine.people()).map((p) => p.mpid)).toEqual([login.value.mpid]);
    const counts = await admin<{ eventCounts: Record<string, number> }>(
      server.url,
      'GET',
      '/workspaces/default/export',
    );
    expect(counts.body.eventCounts[device.engine.deviceId]).toBe(20);
    calls.length = 0;
    expect(await device.sync.syncOnce()).toEqual([]);
    expect(calls).toEqual(['POST /sync/v2/round']);
  });

  it('[S2-8] pushed requests travel in their own wire schema: a device row is `invalid`, a wire request is applied', async () => {
    const headers = await registerDevice(server.url, 'us1-test-key', 'w');
    const row = loginRow('w', 1, 'w-1', 'x').newDocumentState;
    const refused = await round(headers, { requests: [row] });
    expect(refused.status).toBe(200);
    expect(refused.body.requestErrors).toEqual([expect.objectContaining({ code: 'invalid' })]);
    const applied = await round(headers, { requests: [pushed] });
    expect(applied.body.requestErrors).toEqual([]);
    expect(applied.body.results.map((r) => [r.requestId, r.server.status])).toEqual([['w-1', 'applied']]);
    expect(applied.body.profiles).toHaveLength(1);
    const gap = await round(headers, { requests: [wire('w', 3, 'y')], checkpoint: applied.body.checkpoint });
    expect(gap.body.requestErrors).toEqual([expect.objectContaining({ id: 'w-3', code: 'gap' })]);
    expect(gap.body.results).toEqual([]);
    const old = await call<{ errors: { reason: string }[] }>(
      server.url,
      '/sync/v2/round',
      { checkpoint: { requests: 0, profiles: 0 }, requests: [], events: [] },
      { headers: { ...headers, [SYNC_PROTOCOL_HEADER]: '2' } },
    );
    expect(old.status).toBe(400);
    expect(old.body.errors[0]?.reason).toBe('SYNC_PROTOCOL_UNSUPPORTED');
  });

  it('[S2-9] a round with nothing to push reads without the write lock: it answers while another writer holds it', async () => {
    const headers = await registerDevice(server.url, 'us1-test-key', 'w');
    const applied = await round(headers, { requests: [pushed] });
    expect(applied.body.results).toHaveLength(1);
    const writer = new Database(server.databaseFile);
    writer.exec('begin immediate');
    try {
      const again = await round(headers, {});
      expect(again.status).toBe(200);
      expect(again.body.results.map((r) => r.requestId)).toEqual(['w-1']);
    } finally {
      writer.exec('rollback');
      writer.close();
    }
  });

  it('[S2-10] a revoked device is refused at its next round, though its credential was cached', async () => {
    const headers = await registerDevice(server.url, 'us1-test-key', 'w');
    expect((await round(headers, {})).status).toBe(200);
    expect((await round(headers, {})).status).toBe(200);
    expect((await admin(server.url, 'DELETE', '/workspaces/default/devices/w')).status).toBe(204);
    const refused = await round(headers, {});
    expect(refused.status).toBe(401);
    const v1 = await call(server.url, '/sync/v1/requests/pull?seq=0', undefined, { method: 'GET', headers });
    expect(v1.status).toBe(401);
  });

  it('[S2-7] a device with more than the body limit to send syncs in several rounds of one call each', async () => {
    const calls: string[] = [];
    const device = await v2Device('big', 2, calls);
    await device.sync.connect();
    calls.length = 0;
    for (let i = 0; i < 60; i += 1) await device.engine.identify({ email: `big-${i}@example.com` });
    await device.sync.syncOnce();
    expect(calls.length).toBeGreaterThan(1);
    expect(new Set(calls)).toEqual(new Set(['POST /sync/v2/round']));
    const requests = await device.engine.requests();
    expect(requests).toHaveLength(60);
    expect(requests.every((r) => r.server?.status === 'applied')).toBe(true);
  });

  it('[S2-11] a v1 device and a v2 device on one server converge on one customer', async () => {
    const v1 = await registerDevice(server.url, 'us1-test-key', 'old-app');
    const first = await pushV1(v1, [loginRow('old-app', 1, 'old-1', 'both')]);
    expect(first.body.errors).toEqual([]);
    const device = await v2Device('new-app', 3);
    const login = await device.engine.login({ customerid: 'both' });
    if (!login.ok) throw new Error('login failed');
    const notices = await device.sync.syncOnce();
    const mpid = (await device.engine.currentUser())?.mpid;
    expect(mpid).toBeDefined();
    expect(notices).toEqual([expect.objectContaining({ kind: 'merged', to: mpid })]);
    const pulled = await call<{ documents: { id: string }[] }>(
      server.url,
      '/sync/v1/profiles/pull?seq=0',
      undefined,
      { method: 'GET', headers: v1 },
    );
    expect(pulled.body.documents.map((p) => p.id)).toEqual([mpid]);
    const second = await pushV1(v1, [loginRow('old-app', 2, 'old-2', 'both')]);
    expect(second.body.conflicts.map((c) => c.data.sync.server?.status)).toEqual(['applied']);
    await device.engine.identify({});
    expect(await device.sync.syncOnce()).toEqual([]);
    expect((await device.engine.people()).map((p) => p.mpid)).toContain(mpid);
  });
});

describe('OpenAPI', () => {
  it('[S2-9] the OpenAPI document describes the round with its request and response schemas', async () => {
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { requestBody?: unknown; responses?: Record<string, unknown> } }>;
    };
    const round = openapi.paths['/sync/v2/round']?.post;
    expect(round?.requestBody).toBeDefined();
    expect(Object.keys(round?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '413']));
  });
});

describe('cross-origin', () => {
  it('[S2-6][AU-5] the desktop app may send x-sync-protocol to the round from its origin', async () => {
    const preflight = await fetch(`${server.url}/sync/v2/round`, {
      method: 'OPTIONS',
      headers: {
        origin: 'app://identity-sync',
        'access-control-request-method': 'POST',
        'access-control-request-headers': `authorization,content-type,x-mp-key,${SYNC_PROTOCOL_HEADER}`,
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('app://identity-sync');
    expect(preflight.headers.get('access-control-allow-headers')).toContain(SYNC_PROTOCOL_HEADER);
  });
});
