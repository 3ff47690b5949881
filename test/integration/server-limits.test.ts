/**
 * Rate limits and replay protection (SPEC HL-*), each as the attack that used to work. The server's
 * clock stands still, so no bucket refills during a test: every count below is exact.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../shared/protocol/errors.ts';
import { ManualClock } from '../helpers/clock.ts';
import { admin, API_KEY, API_SECRET, call, startTestServer, type TestServer } from '../helpers/server.ts';

const started: TestServer[] = [];

afterEach(async () => {
  for (const server of started.splice(0)) await server.close();
});

/** A server whose clock does not move (HMAC dates are signed with it). */
async function limitedServer(limits: {
  rateLimitPerSecond?: number;
  authFailureLimit?: number;
  registrationLimit?: number;
}): Promise<{ url: string; date: string }> {
  const clock = new ManualClock(Date.now(), 0);
  const server = await startTestServer(limits, { clock });
  started.push(server);
  return { url: server.url, date: new Date(clock.peek()).toUTCString() };
}

const identify = (value: string) => ({
  environment: 'production',
  known_identities: { ios_idfv: value },
});

const reason = (response: { body: unknown }) => (response.body as ErrorBody).errors[0]?.reason;

/** A POST from another loopback address, so the server sees a second client address. */
function postFrom(
  localAddress: string,
  url: string,
  route: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; retryAfter: string | undefined; body: unknown }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const sent = httpRequest(
      `${url}${route}`,
      { method: 'POST', localAddress, headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: response.headers['retry-after'],
            body: JSON.parse(text) as unknown,
          }),
        );
      },
    );
    sent.on('error', reject);
    sent.end(payload);
  });
}

describe('rate limits (HL)', () => {
  it('[HL-1] requests that fail authentication never spend the key owner’s budget', async () => {
    const { url, date } = await limitedServer({ rateLimitPerSecond: 3, authFailureLimit: 0 });
    for (let i = 0; i < 10; i++) {
      const forged = await call(url, '/v1/identify', identify(`forged-${i}`), {
        headers: { date, 'x-mp-signature': 'ab'.repeat(32) },
      });
      expect(forged.status).toBe(401);
    }
    const owner = await call(url, '/v1/identify', identify('owner'), { auth: 'basic' });
    expect(owner.status).toBe(200);
  });

  it('[HL-2] the budget belongs to the authenticated input, whatever other key headers say', async () => {
    const { url } = await limitedServer({ rateLimitPerSecond: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await call(url, '/v1/identify', identify(`basic-${i}`), {
        auth: 'basic',
        headers: { 'x-mp-key': `bogus-${i}` },
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('[HL-2] one budget per input across all IDSync routes, the SDK alias path included; 429 carries Retry-After and the error body', async () => {
    const { url } = await limitedServer({ rateLimitPerSecond: 4 });
    const other = await admin<{ key: string }>(url, 'POST', '/workspaces/default/inputs', {
      name: 'another site',
      allowKeyOnly: true,
    });
    expect(other.status).toBe(201);
    expect((await call(url, '/v1/identify', identify('r1'))).status).toBe(200);
    expect((await call(url, '/v1/login', identify('r2'))).status).toBe(200);
    expect((await call(url, '/v1/logout', identify('r3'))).status).toBe(200);
    const nobody = { environment: 'production', known_identities: { customerid: 'nobody' } };
    expect((await call(url, '/v1/search', nobody)).status).toBe(404);
    const alias = await call(url, `/v1/identity/${API_KEY}/Alias`, {}, { auth: 'none' });
    expect(alias.status).toBe(429);
    expect(Number(alias.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(reason(alias)).toBe('RATE_LIMITED');
    expect((alias.body as ErrorBody).status_code).toBe(429);
    // Another input has a budget of its own.
    expect((await call(url, '/v1/identify', identify('r1'), { key: other.body.key })).status).toBe(200);
  });

  it('[HL-3] each device has its own budget on the sync API', async () => {
    const { url } = await limitedServer({ rateLimitPerSecond: 3 });
    const register = (id: string) =>
      call<{ device_id: string; device_secret: string }>(url, '/sync/v1/devices', {
        device_id: id,
        name: id,
        device_application_stamp: `das-${id}`,
      });
    // Registrations spend the input key's budget (3): the two devices take two of them.
    const a = (await register('device-a')).body;
    const b = (await register('device-b')).body;
    const config = (credential: { device_id: string; device_secret: string }) =>
      call(url, '/sync/v1/config', undefined, {
        method: 'GET',
        headers: { authorization: `Device ${credential.device_id}:${credential.device_secret}` },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await config(a)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await config(a);
    expect(reason(limited)).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await config(b)).status).toBe(200);
  });

  it('[HL-4] device registrations are limited per input key', async () => {
    const { url } = await limitedServer({ registrationLimit: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await call(url, '/sync/v1/devices', {
        device_id: `flood-${i}`,
        device_application_stamp: `das-flood-${i}`,
      });
      statuses.push(answer.status);
      if (answer.status === 429) {
        expect(reason(answer)).toBe('RATE_LIMITED');
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
    }
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
  });

  it('[HL-5] failed authentications are limited per client address, without locking the owner out elsewhere', async () => {
    const { url, date } = await limitedServer({ authFailureLimit: 3 });
    const forged = { 'x-mp-key': API_KEY, date, 'x-mp-signature': 'ab'.repeat(32) };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await postFrom('127.0.0.2', url, '/v1/identify', identify(`bf-${i}`), forged)).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // Even right credentials wait at that address until the failure budget refills.
    const basic = `Basic ${Buffer.from(`${API_KEY}:${API_SECRET}`).toString('base64')}`;
    const blocked = await postFrom('127.0.0.2', url, '/v1/identify', identify('bf'), {
      authorization: basic,
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(reason(blocked)).toBe('RATE_LIMITED');
    // The owner, at another address, is not affected.
    expect((await call(url, '/v1/identify', identify('owner'), { auth: 'basic' })).status).toBe(200);
  });
});

describe('HMAC replay (HL)', () => {
  it('[HL-6] a signed request seen before within the window is refused with 401; a re-signed one passes', async () => {
    const { url, date } = await limitedServer({});
    const first = await call(url, '/v1/identify', identify('replayed'), { auth: 'hmac', date });
    expect(first.status).toBe(200);
    const replay = await call(url, '/v1/identify', identify('replayed'), { auth: 'hmac', date });
    expect(replay.status).toBe(401);
    expect((replay.body as ErrorBody).errors[0]?.message).toContain('replay');
    const later = new Date(Date.parse(date) + 1000).toUTCString();
    expect(
      (await call(url, '/v1/identify', identify('replayed'), { auth: 'hmac', date: later })).status,
    ).toBe(200);
  });
});
