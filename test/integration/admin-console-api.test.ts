/**
 * The admin API the console reads (SPEC AA-1..AA-8): dashboard stats, device detail and input
 * secret rotation, on SQLite and PostgreSQL. The server runs on a hand-moved clock so every request
 * lands in a known hour bucket; answers are parsed with the wire schemas the console parses with.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '../../shared/protocol/errors.ts';
import { StatsSchema, type Stats } from '../../shared/protocol/admin-stats.ts';
import { DeviceDetailSchema } from '../../shared/protocol/admin-devices.ts';
import { RotatedInputSchema } from '../../shared/protocol/admin-inputs.ts';
import { ManualClock } from '../helpers/clock.ts';
import { SERVER_BACKENDS, testDatabase } from '../helpers/postgres.ts';
import { admin, API_KEY, call, startTestServer, type TestServer } from '../helpers/server.ts';
import { SYNC_CONFIG } from '../helpers/server-with-devices.ts';
import { pushRow, registerDevice } from '../helpers/sync-wire.ts';

const T0 = Date.UTC(2026, 10, 1);
const HOUR = 3_600_000;
const OTHER = {
  scopeId: 'other',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'device_application_stamp'],
  loginIdentities: ['customerid'],
  uniqueIdentities: ['customerid'],
};

describe.each(SERVER_BACKENDS)('admin console API on $name', ({ name, skip }) => {
  let t: TestServer;
  let clock: ManualClock;
  let dropSchema: (() => Promise<void>) | null = null;

  beforeEach(async () => {
    if (skip !== null) return;
    const database = await testDatabase(name);
    dropSchema = database.drop;
    clock = new ManualClock(T0, 0);
    t = await startTestServer({ config: SYNC_CONFIG, ...database.options }, { clock });
    expect((await admin(t.url, 'POST', '/workspaces', OTHER)).status).toBe(201);
  });
  afterEach(async () => {
    if (skip !== null) return;
    await t.close();
    await dropSchema?.();
    dropSchema = null;
  });

  const at = (ms: number) => clock.advance(T0 + ms - clock.peek());
  const idsync = async (route: string, body: Record<string, unknown>) => {
    const answer = await call<{ mpid: string }>(t.url, route, { environment: 'production', ...body });
    expect(answer.status, answer.text).toBe(200);
    return answer.body.mpid;
  };
  const push = (headers: Record<string, string>, rows: unknown[]) =>
    call<{ errors: { code: string }[] }>(t.url, '/sync/v1/requests/push', { rows }, { headers });
  const expectError = (answer: { status: number; body: unknown }, status: number, code: string) => {
    expect(answer.status).toBe(status);
    expect(ErrorBodySchema.parse(answer.body).errors[0]?.reason).toBe(code);
  };

  /**
   * Hour 0: two anonymous visitors (one later signs in on the same profile: converted), one
   * customer known from the first request. Hour 1: a visitor returns (matched), device `d1` signs
   * in a new customer (created) and tries to modify a profile outside its view (failed).
   * Device `d0` registered at 00:05 and never pushed.
   */
  const recordTwoHours = async () => {
    at(5 * 60_000);
    await registerDevice(t.url, API_KEY, 'd0');
    at(10 * 60_000);
    const a = await idsync('/v1/identify', { known_identities: { device_application_stamp: 'visitor-a' } });
    await idsync('/v1/identify', { known_identities: { device_application_stamp: 'visitor-b' } });
    const converted = await idsync('/v1/login', {
      previous_mpid: a,
      known_identities: { device_application_stamp: 'visitor-a', customerid: 'c1' },
    });
    expect(converted).toBe(a);
    await idsync('/v1/login', { known_identities: { customerid: 'c2' } });
    at(HOUR + 20 * 60_000);
    await idsync('/v1/identify', { known_identities: { device_application_stamp: 'visitor-b' } });
    const headers = await registerDevice(t.url, API_KEY, 'd1');
    const pushed = await push(headers, [
      pushRow({
        deviceId: 'd1',
        seq: 1,
        body: { known_identities: { customerid: 'c3', device_application_stamp: 'das-d1' } },
      }),
      pushRow({
        deviceId: 'd1',
        seq: 2,
        kind: 'modify',
        body: { identity_changes: [{ identity_type: 'email', old_value: null, new_value: 'x@y.z' }] },
        modifyMpid: a,
      }),
    ]);
    expect(pushed.status).toBe(200);
    expect(pushed.body.errors.map((e) => e.code)).toEqual(['forbidden']);
    return { a };
  };

  const stats = async (query: string): Promise<Stats> => {
    const answer = await admin(t.url, 'GET', `/workspaces/default/stats?${query}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return StatsSchema.parse(answer.body);
  };

  it.skipIf(skip !== null)(
    '[AA-1][AA-2] resolutions by kind and outcome per hour: created, matched, converted, failed',
    async () => {
      await recordTwoHours();
      at(3 * HOUR);
      const answer = await stats(`from=${T0}&to=${T0 + 2 * HOUR}&bucket=hour`);
      expect(answer).toMatchObject({ from: T0, to: T0 + 2 * HOUR, bucket: 'hour', bucketMs: HOUR });
      expect(answer.resolutions).toEqual([
        { bucketStart: T0, kind: 'identify', outcome: 'created', count: 2 },
        { bucketStart: T0, kind: 'login', outcome: 'created', count: 1 },
        { bucketStart: T0, kind: 'login', outcome: 'converted', count: 1 },
        { bucketStart: T0 + HOUR, kind: 'identify', outcome: 'matched', count: 1 },
        { bucketStart: T0 + HOUR, kind: 'login', outcome: 'created', count: 1 },
        { bucketStart: T0 + HOUR, kind: 'modify', outcome: 'failed', count: 1 },
      ]);
      const day = await stats(`from=${T0}&to=${T0 + 2 * HOUR}&bucket=day`);
      expect(day.resolutions.map((r) => [r.bucketStart, r.kind, r.outcome, r.count])).toEqual([
        [T0, 'identify', 'created', 2],
        [T0, 'identify', 'matched', 1],
        [T0, 'login', 'created', 2],
        [T0, 'login', 'converted', 1],
        [T0, 'modify', 'failed', 1],
      ]);
      const firstHourOnly = await stats(`from=${T0}&to=${T0 + HOUR}`);
      expect(firstHourOnly.resolutions.every((r) => r.bucketStart === T0)).toBe(true);
    },
  );

  it.skipIf(skip !== null)(
    '[AA-3] conversion rate: profiles created anonymous in the window that later gained a login identity',
    async () => {
      await recordTwoHours();
      at(3 * HOUR);
      const answer = await stats(`from=${T0}&to=${T0 + 2 * HOUR}`);
      // visitor-a converted, visitor-b did not; c2 and c3 were known from their first request.
      expect(answer.conversion).toEqual({
        startedAnonymous: 2,
        converted: 1,
        rate: 0.5,
        byBucket: [{ bucketStart: T0, startedAnonymous: 2, converted: 1, rate: 0.5 }],
      });
      const later = await stats(`from=${T0 + HOUR}&to=${T0 + 2 * HOUR}`);
      expect(later.conversion).toEqual({ startedAnonymous: 0, converted: 0, rate: null, byBucket: [] });
    },
  );

  it.skipIf(skip !== null)(
    '[AA-3] a conversion counts only when it happened before the window ends; a later profile is not in the cohort',
    async () => {
      at(10 * 60_000);
      const visitor = await idsync('/v1/identify', {
        known_identities: { device_application_stamp: 'late' },
      });
      at(90 * 60_000);
      await idsync('/v1/login', {
        previous_mpid: visitor,
        known_identities: { device_application_stamp: 'late', customerid: 'late-c' },
      });
      at(3 * HOUR);
      const firstHour = await stats(`from=${T0}&to=${T0 + HOUR}`);
      expect(firstHour.conversion).toMatchObject({ startedAnonymous: 1, converted: 0, rate: 0 });
      const twoHours = await stats(`from=${T0}&to=${T0 + 2 * HOUR}`);
      expect(twoHours.conversion).toMatchObject({ startedAnonymous: 1, converted: 1, rate: 1 });
      const secondHour = await stats(`from=${T0 + HOUR}&to=${T0 + 2 * HOUR}`);
      expect(secondHour.conversion).toMatchObject({ startedAnonymous: 0, converted: 0, rate: null });
    },
  );

  it.skipIf(skip !== null)('[AA-4] sync lag per device, the longest unseen first', async () => {
    await recordTwoHours();
    at(3 * HOUR);
    const answer = await stats('bucket=day');
    expect(answer.to).toBe(T0 + 3 * HOUR);
    expect(answer.devices.total).toBe(2);
    expect(answer.devices.lag).toEqual([
      {
        id: 'd0',
        name: 'd0',
        revoked: false,
        lastSeenAt: T0 + 5 * 60_000,
        lastAcceptedAt: null,
        lagMs: 3 * HOUR - 5 * 60_000,
        nextSeq: 1,
      },
      {
        id: 'd1',
        name: 'd1',
        revoked: false,
        lastSeenAt: T0 + HOUR + 20 * 60_000,
        lastAcceptedAt: T0 + HOUR + 20 * 60_000,
        lagMs: HOUR + 40 * 60_000,
        nextSeq: 3,
      },
    ]);
    const other = await admin(t.url, 'GET', '/workspaces/other/stats');
    expect(StatsSchema.parse(other.body)).toMatchObject({ resolutions: [], devices: { total: 0, lag: [] } });
  });

  it.skipIf(skip !== null)(
    '[AA-1] a window is bounded and well-formed, or refused with the catalogue body',
    async () => {
      const refused = [
        `from=${T0 - 2001 * HOUR}&to=${T0}&bucket=hour`,
        `from=${T0}&to=${T0}`,
        `from=${T0 + 1}&to=${T0}`,
        'bucket=week',
        'from=yesterday',
        'limit=5',
      ];
      for (const query of refused)
        expectError(await admin(t.url, 'GET', `/workspaces/default/stats?${query}`), 400, 'VALIDATION_ERROR');
      await stats(`from=${T0 - 2000 * HOUR}&to=${T0}&bucket=hour`);
      await stats(`from=${T0 - 2000 * 24 * HOUR}&to=${T0}&bucket=day`);
      expectError(await admin(t.url, 'GET', '/workspaces/nowhere/stats'), 404, 'NOT_FOUND');
      expectError(
        await admin(t.url, 'GET', '/workspaces/default/stats', undefined, 'wrong'),
        401,
        'UNAUTHORIZED',
      );
    },
  );

  it.skipIf(skip !== null)(
    '[AA-5][AA-6] device detail: registration, next seq, applied and failed counts, failures with reasons',
    async () => {
      await recordTwoHours();
      const answer = await admin(t.url, 'GET', '/workspaces/default/devices/d1');
      expect(answer.status).toBe(200);
      expect(DeviceDetailSchema.parse(answer.body)).toEqual({
        id: 'd1',
        workspace: 'default',
        name: 'd1',
        inputKey: API_KEY,
        deviceApplicationStamp: 'das-d1',
        registeredAt: T0 + HOUR + 20 * 60_000,
        lastSeenAt: T0 + HOUR + 20 * 60_000,
        revokedAt: null,
        nextSeq: 3,
        requests: { applied: 1, failed: 1 },
        lastFailed: [
          {
            seq: 2,
            requestId: 'd1-2',
            kind: 'modify',
            receivedAt: T0 + HOUR + 20 * 60_000,
            code: 'FORBIDDEN',
            message: expect.stringContaining('may modify only profiles'),
          },
        ],
      });
      at(2 * HOUR);
      expect((await admin(t.url, 'DELETE', '/workspaces/default/devices/d1')).status).toBe(204);
      const revoked = DeviceDetailSchema.parse(
        (await admin(t.url, 'GET', '/workspaces/default/devices/d1?failed_limit=1')).body,
      );
      expect(revoked.revokedAt).toBe(T0 + 2 * HOUR);
      expectError(await admin(t.url, 'GET', '/workspaces/other/devices/d1'), 404, 'NOT_FOUND');
      expectError(await admin(t.url, 'GET', '/workspaces/default/devices/nobody'), 404, 'NOT_FOUND');
      for (const query of ['failed_limit=0', 'failed_limit=101', 'failed_limit=x', 'extra=1'])
        expectError(
          await admin(t.url, 'GET', `/workspaces/default/devices/d1?${query}`),
          400,
          'VALIDATION_ERROR',
        );
      expectError(
        await admin(t.url, 'GET', '/workspaces/default/devices/d1', undefined, 'wrong'),
        401,
        'UNAUTHORIZED',
      );
    },
  );

  it.skipIf(skip !== null)(
    '[AA-7] rotating an input: new secret once, the old one refused at once (Basic and HMAC), key unchanged',
    async () => {
      const created = await admin<{ key: string; secret: string }>(
        t.url,
        'POST',
        '/workspaces/default/inputs',
        {
          name: 'server app',
        },
      );
      expect(created.status).toBe(201);
      const { key, secret: old } = created.body;
      const date = () => new Date(clock.peek()).toUTCString();
      const identify = (auth: 'basic' | 'hmac', secret: string) =>
        call(
          t.url,
          '/v1/identify',
          { environment: 'production', known_identities: { customerid: 'rot' } },
          { auth, key, secret, date: date() },
        );
      expect((await identify('basic', old)).status).toBe(200);
      expect((await identify('hmac', old)).status).toBe(200);

      const rotated = await admin(t.url, 'POST', `/workspaces/default/inputs/${key}/rotate`);
      expect(rotated.status).toBe(200);
      const fresh = RotatedInputSchema.parse(rotated.body);
      expect(fresh.key).toBe(key);
      expect(fresh.secret).not.toBe(old);

      expectError(await identify('basic', old), 401, 'UNAUTHORIZED');
      expectError(await identify('hmac', old), 401, 'UNAUTHORIZED');
      expect((await identify('basic', fresh.secret)).status).toBe(200);
      expect((await identify('hmac', fresh.secret)).status).toBe(200);
      const listed = await admin<{ inputs: { key: string }[] }>(t.url, 'GET', '/workspaces/default/inputs');
      expect(listed.body.inputs.filter((i) => i.key === key)).toHaveLength(1);
      expect(JSON.stringify(listed.body)).not.toContain(fresh.secret);
    },
  );

  it.skipIf(skip !== null)(
    '[AA-8] rotation keeps to its workspace, refuses a revoked input and needs an admin token',
    async () => {
      const created = await admin<{ key: string; secret: string }>(
        t.url,
        'POST',
        '/workspaces/default/inputs',
        {
          name: 'to revoke',
        },
      );
      const { key, secret } = created.body;
      const works = async () =>
        (
          await call(
            t.url,
            '/v1/identify',
            { environment: 'production', known_identities: { customerid: 'scoped' } },
            { auth: 'basic', key, secret },
          )
        ).status;
      expectError(await admin(t.url, 'POST', `/workspaces/other/inputs/${key}/rotate`), 404, 'NOT_FOUND');
      expectError(
        await admin(t.url, 'POST', `/workspaces/default/inputs/${key}/rotate`, undefined, 'wrong'),
        401,
        'UNAUTHORIZED',
      );
      expect(await works()).toBe(200);
      expectError(await admin(t.url, 'POST', '/workspaces/default/inputs/nothing/rotate'), 404, 'NOT_FOUND');
      expectError(
        await admin(t.url, 'POST', `/workspaces/default/inputs/${'k'.repeat(129)}/rotate`),
        400,
        'VALIDATION_ERROR',
      );
      expect((await admin(t.url, 'DELETE', `/workspaces/default/inputs/${key}`)).status).toBe(204);
      expectError(await admin(t.url, 'POST', `/workspaces/default/inputs/${key}/rotate`), 409, 'CONFLICT');
      expect(await works()).toBe(401);
    },
  );

  it.skipIf(skip !== null)(
    '[AA-1][AA-5][AA-7] the OpenAPI document describes the three routes with their wire schemas',
    async () => {
      const document = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { responses: Record<string, { content?: unknown }> }>>;
      };
      const ok = (route: string, method: string) =>
        document.paths[route]?.[method]?.responses['200']?.content;
      expect(ok('/admin/v1/workspaces/{workspace}/stats', 'get')).toBeDefined();
      expect(ok('/admin/v1/workspaces/{workspace}/devices/{id}', 'get')).toBeDefined();
      expect(ok('/admin/v1/workspaces/{workspace}/inputs/{key}/rotate', 'post')).toBeDefined();
    },
  );
});
