/**
 * What a device may touch (SPEC HT-1, HT-2): a device's modify and alias act only on profiles its
 * own requests resolved to. One named attack per test, on SQLite and on PostgreSQL: a device that
 * learned another person's MPID (by search) pushes a modify and an alias naming it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import { openDevice, type SimulatedDevice } from '../../simulator/devices.ts';
import { SERVER_BACKENDS, testDatabase } from '../helpers/postgres.ts';
import { admin, API_KEY, call, startTestServer, type TestServer } from '../helpers/server.ts';
import { SYNC_CONFIG } from '../helpers/server-with-devices.ts';
import { pushRow } from '../helpers/sync-wire.ts';

interface Credential {
  device_id: string;
  device_secret: string;
}

interface PushAnswer {
  conflicts: {
    data: {
      sync: {
        requestId: string;
        server: { status: string; mpid: string | null; error: { code: string } | null } | null;
      };
    };
  }[];
  errors: { id: string; code: string }[];
}

interface ProfileDetail {
  profile: { identities: Record<string, string[]> };
  aliases: unknown[];
}

type Kind = 'login' | 'modify' | 'alias';

describe.each(SERVER_BACKENDS)('device trust on $name', ({ name, skip }) => {
  let server: TestServer;
  let dropSchema: (() => Promise<void>) | null = null;
  let devices: SimulatedDevice[] = [];
  let now = 1_800_000_000_000;
  const clock = { now: () => (now += 1000) };

  beforeEach(async (context) => {
    if (skip !== null) context.skip();
    const database = await testDatabase(name);
    dropSchema = database.drop;
    server = await startTestServer({ config: SYNC_CONFIG, ...database.options });
    devices = [];
  });
  afterEach(async () => {
    for (const d of devices) await d.close();
    await server?.close();
    await dropSchema?.();
    dropSchema = null;
  });

  const device = async (deviceName: string, seed: number) => {
    const d = await openDevice({
      name: deviceName,
      seed,
      clock,
      config: ScopeConfigSchema.parse(SYNC_CONFIG),
      endpoint: { baseUrl: server.url, apiKey: API_KEY },
    });
    devices.push(d);
    return d;
  };

  const register = async (id: string): Promise<{ authorization: string }> => {
    const answer = await call<Credential>(server.url, '/sync/v1/devices', {
      device_id: id,
      name: id,
      device_application_stamp: `das-${id}`,
    });
    return { authorization: `Device ${answer.body.device_id}:${answer.body.device_secret}` };
  };

  const push = (headers: { authorization: string }, rows: unknown[]) =>
    call<PushAnswer>(server.url, '/sync/v1/requests/push', { rows }, { headers });

  /** The victim: a customer another device signed in, with an email only they hold. */
  const victim = async (): Promise<string> => {
    const a = await device('victim', 1);
    const login = await a.engine.login({ customerid: 'victim', email: 'victim@x.com' });
    if (!login.ok) throw new Error('local login failed');
    await a.sync.syncOnce();
    return login.value.mpid;
  };

  const profile = async (mpid: string) =>
    (await admin<ProfileDetail>(server.url, 'GET', `/workspaces/default/profiles/${mpid}`)).body;

  it('[HT-1] a device cannot modify a profile it found by search: forbidden per document, the log moves on', async () => {
    const target = await victim();
    const headers = await register('mallory');
    const found = await call<{ mpid: string }>(
      server.url,
      '/sync/v1/search',
      { environment: 'production', known_identities: { customerid: 'victim' } },
      { headers },
    );
    expect(found.body.mpid).toBe(target);
    const before = await profile(target);
    const steal = [{ identity_type: 'email', old_value: 'victim@x.com', new_value: 'mallory@x.com' }];
    const answer = await push(headers, [
      pushRow({
        deviceId: 'mallory',
        seq: 1,
        kind: 'login',
        body: { known_identities: { customerid: 'mallory' } },
      }),
      pushRow({
        deviceId: 'mallory',
        seq: 2,
        kind: 'modify',
        body: { identity_changes: steal },
        modifyMpid: target,
      }),
      pushRow({
        deviceId: 'mallory',
        seq: 3,
        kind: 'login',
        body: { known_identities: { customerid: 'mallory-2' } },
      }),
    ]);
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toEqual([
      { id: 'request|mallory-2', code: 'forbidden', message: expect.any(String) },
    ]);
    expect(
      answer.body.conflicts.map((c) => [
        c.data.sync.requestId,
        c.data.sync.server?.status,
        c.data.sync.server?.error?.code ?? null,
      ]),
    ).toEqual([
      ['mallory-1', 'applied', null],
      ['mallory-2', 'failed', 'FORBIDDEN'],
      ['mallory-3', 'applied', null],
    ]);
    expect(await profile(target)).toEqual(before);
    const again = await push(headers, [
      pushRow({
        deviceId: 'mallory',
        seq: 2,
        kind: 'modify',
        body: { identity_changes: steal },
        modifyMpid: target,
      }),
    ]);
    expect(again.body.conflicts[0]?.data.sync.server?.error?.code).toBe('FORBIDDEN');
  });

  it('[HT-1] a device cannot alias a profile it found by search into its own (nor its own into it)', async () => {
    const target = await victim();
    const headers = await register('mallory');
    const own = await push(headers, [
      pushRow({
        deviceId: 'mallory',
        seq: 1,
        kind: 'login',
        body: { known_identities: { customerid: 'mallory' } },
      }),
    ]);
    const mine = own.body.conflicts[0]?.data.sync.server?.mpid as string;
    const alias = (seq: number, source: string, destination: string) =>
      pushRow({
        deviceId: 'mallory',
        seq,
        kind: 'alias',
        body: {
          request_type: 'alias',
          data: { source_mpid: source, destination_mpid: destination, scope: 'device' },
        },
      });
    const answer = await push(headers, [alias(2, target, mine), alias(3, mine, target)]);
    expect(answer.body.errors.map((e) => [e.id, e.code])).toEqual([
      ['request|mallory-2', 'forbidden'],
      ['request|mallory-3', 'forbidden'],
    ]);
    expect((await profile(target)).aliases).toEqual([]);
    expect((await profile(mine)).aliases).toEqual([]);
  });

  it('[HT-3] a key-only caller acts with the IDSync model: it may modify and alias any profile of its workspace', async () => {
    const target = await victim();
    const visitor = await call<{ mpid: string }>(server.url, '/v1/identify', {
      environment: 'production',
      known_identities: { ios_idfv: 'key-only-visitor' },
    });
    const modified = await call(server.url, `/v1/${target}/modify`, {
      environment: 'production',
      identity_changes: [{ identity_type: 'email', old_value: 'victim@x.com', new_value: 'web@x.com' }],
    });
    expect(modified.status).toBe(200);
    const aliased = await call(server.url, '/v1/alias', {
      request_type: 'alias',
      environment: 'production',
      data: { source_mpid: visitor.body.mpid, destination_mpid: target },
    });
    expect(aliased.status).toBe(202);
    expect((await profile(target)).profile.identities['email']).toEqual(['web@x.com']);
  });

  it('[HT-2] a device whose alias is forbidden is told so once, and keeps syncing', async () => {
    const target = await victim();
    const b = await device('b', 2);
    const visitor = await b.engine.identify({});
    if (!visitor.ok) throw new Error('local identify failed');
    await b.sync.syncOnce();
    // The device's own resolver refuses an alias into a profile it does not hold, so the
    // request a tampered device would send is written into its log directly.
    await appendToLog(b, 'alias', {
      request_type: 'alias',
      data: { source_mpid: visitor.value.mpid, destination_mpid: target, scope: 'device' },
    });
    const notices: unknown[] = [];
    const subscription = b.sync.notices$.subscribe((n) => notices.push(n));
    await b.sync.syncOnce();
    expect(notices).toEqual([expect.objectContaining({ kind: 'failed', code: 'FORBIDDEN' })]);
    expect((await profile(target)).aliases).toEqual([]);
    await b.engine.login({ customerid: 'b-later' });
    await b.sync.syncOnce();
    subscription.unsubscribe();
    expect(notices).toHaveLength(1);
    expect((await b.engine.requests()).map((r) => [r.kind, r.server?.status])).toEqual([
      ['identify', 'applied'],
      ['alias', 'failed'],
      ['login', 'applied'],
    ]);
  });
});

/** Appends a request to a device's log as its engine would (request document and head, one write). */
async function appendToLog(d: SimulatedDevice, kind: Kind, body: Record<string, unknown>): Promise<void> {
  const headDoc = await d.db.graph.findOne('head').exec();
  const last = await d.db.graph
    .findOne({ selector: { kind: 'request', logSeq: { $gt: 0 } }, sort: [{ logSeq: 'desc' }] })
    .exec();
  if (headDoc === null || last === null) throw new Error('the device has no log yet');
  const head = headDoc.toJSON();
  const template = last.toJSON();
  const seq = head.seq + 1;
  const requestId = `tampered-${seq}`;
  const data = template.data as { stored: Record<string, unknown>; sync: Record<string, unknown> };
  await d.db.graph.bulkUpsert([
    {
      ...template,
      id: `${template.id}-tampered`,
      key: `${template.key}-tampered`,
      mpid: '',
      seq,
      logSeq: seq,
      logMpid: '',
      data: {
        stored: { ...data.stored, requestId, kind },
        sync: {
          ...data.sync,
          requestId,
          seq,
          kind,
          body: { environment: 'production', request_id: requestId, ...body },
          modifyMpid: null,
          provisionalMpid: null,
          createdProvisional: false,
          server: null,
        },
      },
    },
    { ...head, seq, data: { ...head.data, seq } },
  ]);
}
