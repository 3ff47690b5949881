/**
 * What-if replay (SPEC WI-*), on SQLite and PostgreSQL: a workspace's history is recorded by
 * driving the real server over HTTP (the §7 conversion flow through the IDSync API, and offline
 * devices that log in and sync), then replayed under the same config (no differences), under
 * profile isolation (the differences §7's isolation scenarios predict), under an invalid config
 * (refused) and without a token (refused). Every table is compared before and after each replay.
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScopeConfigSchema, type ScopeConfigInput } from '../../shared/identity/scope-config.ts';
import { ErrorBodySchema } from '../../shared/protocol/errors.ts';
import { WhatIfResponseSchema, type WhatIfResponse } from '../../shared/protocol/what-if.ts';
import { openDevice, type SimulatedDevice } from '../../simulator/devices.ts';
import { createTestSchema, SERVER_BACKENDS } from '../helpers/postgres.ts';
import { admin, API_KEY, call, startTestServer, type TestServer } from '../helpers/server.ts';
import { pushRow, registerDevice } from '../helpers/sync-wire.ts';

const ED = 'ed.hyde@example.com';
const CONVERSION: ScopeConfigInput = {
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'ios_idfv', 'roku_aid', 'device_application_stamp'],
  loginIdentities: ['customerid', 'email'],
  uniqueIdentities: ['customerid', 'email'],
};
const ISOLATION: ScopeConfigInput = { ...CONVERSION, strategy: 'profile_isolation' };
const TABLES = [
  'workspaces',
  'workspace_config_history',
  'inputs',
  'admin_tokens',
  'profiles',
  'identities',
  'requests',
  'request_profiles',
  'history',
  'aliases',
  'devices',
  'device_requests',
  'device_views',
  'device_supplied',
  'change_log',
  'events',
];

/** Rows in an order that does not depend on how the database happened to return them. */
function canonical(rows: unknown[]): string[] {
  return rows.map((row) => JSON.stringify(row)).sort();
}

describe.each(SERVER_BACKENDS)('what-if replay on $name', ({ name, skip }) => {
  let server: TestServer;
  let pgUrl: string | null = null;
  let dropSchema: (() => Promise<void>) | null = null;
  let devices: SimulatedDevice[] = [];
  let now = 1_800_000_000_000;
  const clock = { now: () => (now += 1000) };

  beforeEach(async (context) => {
    if (skip !== null) context.skip();
    if (name === 'PostgreSQL') {
      const schema = await createTestSchema();
      pgUrl = schema.url;
      dropSchema = schema.drop;
    }
    server = await startTestServer(
      { config: CONVERSION, ...(pgUrl === null ? {} : { database: pgUrl }) },
      { clock },
    );
    devices = [];
  });
  afterEach(async () => {
    for (const d of devices) await d.close();
    await server?.close();
    await dropSchema?.();
    dropSchema = null;
    pgUrl = null;
  });

  /** Every row of every table, in a canonical order. */
  async function tables(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    if (pgUrl === null) {
      const db = new BetterSqlite3(server.databaseFile, { readonly: true, fileMustExist: true });
      try {
        for (const table of TABLES) out[table] = canonical(db.prepare(`select * from ${table}`).all());
      } finally {
        db.close();
      }
      return out;
    }
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      for (const table of TABLES) out[table] = canonical((await client.query(`select * from ${table}`)).rows);
    } finally {
      await client.end();
    }
    return out;
  }

  const idsync = async (route: string, body: Record<string, unknown>) => {
    const answer = await call<{ mpid: string }>(server.url, route, { environment: 'production', ...body });
    expect(answer.status).toBe(200);
    return answer.body.mpid;
  };

  /** §7 scenarios 1-4, 6-7 through the IDSync API. */
  async function recordConversionFlow() {
    const A = await idsync('/v1/identify', { request_id: 'r1', known_identities: { ios_idfv: '9876' } });
    const login = { customerid: 'ABC123', email: ED, ios_idfv: '9876' };
    expect(await idsync('/v1/login', { request_id: 'r2', known_identities: login, previous_mpid: A })).toBe(
      A,
    );
    const B = await idsync('/v1/logout', {
      request_id: 'r3',
      known_identities: { ios_idfv: '9876' },
      previous_mpid: A,
    });
    expect(await idsync('/v1/login', { request_id: 'r4', known_identities: login, previous_mpid: B })).toBe(
      A,
    );
    const C = await idsync('/v1/identify', { request_id: 'r5', known_identities: { roku_aid: '8765' } });
    const roku = { customerid: 'ABC123', email: ED, roku_aid: '8765' };
    expect(await idsync('/v1/login', { request_id: 'r6', known_identities: roku, previous_mpid: C })).toBe(A);
    // The signed-in customer browses on: the app names the MPID it was answered.
    return { A, B, C };
  }

  /** A device that browses and logs in offline, then syncs: its provisional MPIDs are translated. */
  async function recordOfflineDevice(deviceName: string, seed: number, customerid: string) {
    const d = await openDevice({
      name: deviceName,
      seed,
      clock,
      config: ScopeConfigSchema.parse(CONVERSION),
      endpoint: { baseUrl: server.url, apiKey: API_KEY },
    });
    devices.push(d);
    expect((await d.engine.identify({})).ok).toBe(true);
    expect((await d.engine.login({ customerid })).ok).toBe(true);
    const anonymous = await d.engine.logout();
    const known = await d.engine.login({ customerid });
    if (!anonymous.ok || !known.ok) throw new Error('local logout or login failed');
    // Brings the logged-out session's events to the customer: its MPIDs are translated too.
    expect((await d.engine.alias(anonymous.value.mpid, known.value.mpid)).ok).toBe(true);
    // Switches customer: the previous MPID is whoever the server found at the last login (a
    // known profile, so this creates one), not the device's own anonymous profile (converted).
    expect((await d.engine.login({ customerid: `${deviceName}-other` })).ok).toBe(true);
    await d.sync.syncOnce();
    expect((await d.engine.requests()).every((r) => r.server?.status === 'applied')).toBe(true);
  }

  const whatIf = (body: unknown, token?: string) =>
    admin<unknown>(server.url, 'POST', '/workspaces/default/what-if', body, token);

  async function replay(body: Record<string, unknown>): Promise<WhatIfResponse> {
    const answer = await whatIf(body);
    expect(answer.status).toBe(200);
    return WhatIfResponseSchema.parse(answer.body);
  }

  it('[WI-5][WI-6] replaying under the same config changes no outcome and writes nothing', async () => {
    const { A } = await recordConversionFlow();
    await recordOfflineDevice('phone', 1, 'dev-1');
    await recordOfflineDevice('tablet', 2, 'dev-1');
    // A device that names a profile outside its view is refused (HT-1); the replay refuses it too.
    const headers = await registerDevice(server.url, API_KEY, 'mallory');
    const steal = [{ identity_type: 'email', old_value: ED, new_value: 'mallory@example.com' }];
    const pushed = await call<{ errors: { code: string }[] }>(
      server.url,
      '/sync/v1/requests/push',
      {
        rows: [
          pushRow({ deviceId: 'mallory', seq: 1, body: { known_identities: { customerid: 'mallory' } } }),
          pushRow({
            deviceId: 'mallory',
            seq: 2,
            kind: 'modify',
            body: { identity_changes: steal },
            modifyMpid: A,
          }),
        ],
      },
      { headers },
    );
    expect(pushed.body.errors.map((e) => e.code)).toEqual(['forbidden']);
    const before = await tables();
    const result = await replay({ config: CONVERSION });
    expect(result.summary).toEqual({
      logged: 20,
      window: { from: expect.any(Number), to: expect.any(Number) },
      replayed: 20,
      compared: 20,
      outcomesChanged: 0,
      skipped: {},
      truncated: false,
      differencesTruncated: false,
    });
    expect(result.differences).toEqual([]);
    expect(await tables()).toEqual(before);
  });

  it('[WI-1][WI-6] under profile isolation the login no longer converts the anonymous profile (§7 SC-30..32)', async () => {
    const { A, B, C } = await recordConversionFlow();
    const before = await tables();
    const result = await replay({ config: ISOLATION });
    const known = result.differences[0]?.new.mpid;
    expect(known).toEqual(expect.any(String));
    expect([A, B, C]).not.toContain(known);
    expect(result.summary).toMatchObject({ replayed: 6, compared: 6, outcomesChanged: 4, truncated: false });
    expect(result.differences.map((d) => ({ requestId: d.requestId, old: d.old, new: d.new }))).toEqual([
      // SC-30: login creates a new known profile; the anonymous one is left alone.
      {
        requestId: 'r2',
        old: { mpid: A, created: false, error: null },
        new: { mpid: known, created: true, error: null },
      },
      // SC-31: logout returns to the existing anonymous profile instead of creating one.
      {
        requestId: 'r3',
        old: { mpid: B, created: true, error: null },
        new: { mpid: A, created: false, error: null },
      },
      // SC-32: logging in again returns the known profile.
      {
        requestId: 'r4',
        old: { mpid: A, created: false, error: null },
        new: { mpid: known, created: false, error: null },
      },
      {
        requestId: 'r6',
        old: { mpid: A, created: false, error: null },
        new: { mpid: known, created: false, error: null },
      },
    ]);
    const first = result.differences[0];
    expect(first?.why.old).toMatch(/log/i);
    expect(first?.why.new).toEqual(expect.any(String));
    expect(first?.why.steps.length).toBeGreaterThan(0);
    expect(await tables()).toEqual(before);
  });

  it('[WI-5] replayed requests name the MPIDs the client would have been answered (isolation → conversion)', async () => {
    expect((await admin(server.url, 'PUT', '/workspaces/default/config', ISOLATION)).status).toBe(200);
    const login = { customerid: 'ABC123', email: ED, ios_idfv: '9876' };
    const A = await idsync('/v1/identify', { request_id: 'i1', known_identities: { ios_idfv: '9876' } });
    const K = await idsync('/v1/login', { request_id: 'i2', known_identities: login, previous_mpid: A });
    expect(
      await idsync('/v1/logout', {
        request_id: 'i3',
        known_identities: { ios_idfv: '9876' },
        previous_mpid: K,
      }),
    ).toBe(A);
    const other = { customerid: 'NEW1' };
    const K2 = await idsync('/v1/login', { request_id: 'i4', known_identities: other, previous_mpid: A });
    const result = await replay({ config: CONVERSION });
    const N = result.differences[1]?.new.mpid;
    expect([A, K, K2]).not.toContain(N);
    expect(result.differences.map((d) => ({ requestId: d.requestId, old: d.old, new: d.new }))).toEqual([
      // SC-2: the login converts the anonymous profile in place.
      {
        requestId: 'i2',
        old: { mpid: K, created: true, error: null },
        new: { mpid: A, created: false, error: null },
      },
      // SC-3: logout (previous: A, the MPID the client now holds) creates a new anonymous profile.
      {
        requestId: 'i3',
        old: { mpid: A, created: false, error: null },
        new: { mpid: N, created: true, error: null },
      },
      // The next login names N, the anonymous profile the client was answered, and converts it.
      {
        requestId: 'i4',
        old: { mpid: K2, created: true, error: null },
        new: { mpid: N, created: false, error: null },
      },
    ]);
  });

  it('[WI-3] a window reports differences from `from` on, and replays nothing after `to`', async () => {
    const { A } = await recordConversionFlow();
    const at = async (requestId: string) =>
      (await admin<{ at: number }>(server.url, 'GET', `/workspaces/default/requests/${requestId}`)).body.at;
    const result = await replay({ config: ISOLATION, from: await at('r4'), to: await at('r5') });
    expect(result.summary).toMatchObject({ logged: 5, replayed: 5, compared: 2, outcomesChanged: 1 });
    expect(result.differences.map((d) => [d.requestId, d.old.mpid])).toEqual([['r4', A]]);
  });

  it('[WI-4][LS-6] IDSync API modify and alias requests are replayed from the logged bodies; the answer says its window', async () => {
    const { A, B } = await recordConversionFlow();
    const modify = await call(server.url, `/v1/${A}/modify`, {
      environment: 'production',
      request_id: 'm1',
      identity_changes: [{ identity_type: 'email', old_value: ED, new_value: 'jekyll@example.com' }],
    });
    expect(modify.status).toBe(200);
    const alias = await call(server.url, '/v1/alias', {
      environment: 'production',
      request_id: 'a1',
      data: { source_mpid: B, destination_mpid: A },
    });
    expect(alias.status).toBe(202);
    const result = await replay({ config: CONVERSION });
    expect(result.summary).toMatchObject({
      logged: 8,
      replayed: 8,
      outcomesChanged: 0,
      skipped: {},
      truncated: false,
    });
    const at = async (requestId: string) =>
      (await admin<{ at: number }>(server.url, 'GET', `/workspaces/default/requests/${requestId}`)).body.at;
    expect(result.summary.window).toEqual({ from: await at('r1'), to: await at('a1') });
    const underIsolation = await replay({ config: ISOLATION });
    expect(underIsolation.summary.skipped).toEqual({});
  });

  it('[LS-8][AD-6] deleting a person clears the logged bodies answered with them; what-if skips those', async () => {
    const { A } = await recordConversionFlow();
    expect((await admin(server.url, 'DELETE', `/workspaces/default/profiles/${A}`)).status).toBe(200);
    const result = await replay({ config: CONVERSION });
    // r1, r2, r4 and r6 were answered with A; r3 and r5 with other profiles.
    expect(result.summary).toMatchObject({ logged: 6, replayed: 2, skipped: { body_deleted: 4 } });
  });

  it('[WI-3] the limit and the difference cap bound the work and say so', async () => {
    await recordConversionFlow();
    const limited = await replay({ config: ISOLATION, limit: 3, maxDifferences: 1 });
    expect(limited.summary).toMatchObject({
      logged: 6,
      replayed: 3,
      outcomesChanged: 2,
      truncated: true,
      differencesTruncated: true,
    });
    expect(limited.differences.map((d) => d.requestId)).toEqual(['r2']);
  });

  it('[WI-2] an invalid config or body is refused with the catalogue error and changes nothing', async () => {
    await recordConversionFlow();
    const before = await tables();
    const bad = await whatIf({ config: { ...CONVERSION, strategy: 'merge_everything' } });
    expect(bad.status).toBe(400);
    expect(ErrorBodySchema.parse(bad.body).errors[0]).toMatchObject({ code: 'VALIDATION_ERROR' });
    const renamed = await whatIf({ config: { ...CONVERSION, scopeId: 'other' } });
    expect(renamed.status).toBe(400);
    const extra = await whatIf({ config: CONVERSION, limit: 0 });
    expect(extra.status).toBe(400);
    expect(await tables()).toEqual(before);
  });

  it('[WI-1] the replay needs an admin token', async () => {
    await recordConversionFlow();
    const anonymous = await fetch(`${server.url}/admin/v1/workspaces/default/what-if`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ config: CONVERSION }),
    });
    expect(anonymous.status).toBe(401);
    expect((await whatIf({ config: CONVERSION }, 'not-a-token')).status).toBe(401);
  });

  it('[WI-1] the OpenAPI document describes the endpoint with its request and response schemas', async () => {
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { requestBody?: unknown; responses?: Record<string, unknown> } }>;
    };
    const operation = openapi.paths['/admin/v1/workspaces/{workspace}/what-if']?.post;
    expect(JSON.stringify(operation?.requestBody)).toContain('maxDifferences');
    expect(JSON.stringify(operation?.responses?.['200'])).toContain('outcomesChanged');
  });
});
