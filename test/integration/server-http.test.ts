/**
 * The server over real HTTP: every IDSync endpoint, status code and authentication mode, the
 * protocol-level behaviours (idempotency, read_only, gzip, limits, CORS, rate limiting), the
 * operational endpoints and the admin API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScopeConfigInput } from '../../shared/identity/scope-config.ts';
import type { ErrorBody } from '../../shared/protocol/errors.ts';
import type { IdentityResponse, ModifyResponse } from '../../shared/protocol/idsync.ts';
import type {
  AliasRecord,
  HistoryEntry,
  ProfileRecord,
  StoredRequest,
} from '../../shared/resolver/records.ts';
import { admin, API_KEY, API_SECRET, call, startTestServer, type TestServer } from '../helpers/server.ts';

const CONVERSION: ScopeConfigInput = {
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'ios_idfv', 'device_application_stamp'],
  loginIdentities: ['customerid', 'email'],
  uniqueIdentities: ['customerid', 'email'],
};

const body = (identities: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  environment: 'production',
  known_identities: identities,
  ...extra,
});

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ config: CONVERSION });
});
afterAll(async () => t.close());

function errorReason(response: { body: unknown }): string | undefined {
  return (response.body as ErrorBody).errors[0]?.reason;
}

describe('authentication (spec §4.2)', () => {
  it('[AU-1] key-only requests are accepted for inputs that allow them', async () => {
    const r = await call<IdentityResponse>(t.url, '/v1/identify', body({ ios_idfv: 'auth-1' }));
    expect(r.status).toBe(200);
    expect(r.body.mpid).toMatch(/^-?\d+$/);
  });

  it('[AU-1] missing, unknown and malformed credentials are 401 with a reason and WWW-Authenticate', async () => {
    for (const [options, fragment] of [
      [{ auth: 'none' as const }, 'send x-mp-key'],
      [{ key: 'us1-nope' }, 'unknown API key'],
      [{ auth: 'none' as const, headers: { authorization: 'Basic bm9jb2xvbg==' } }, 'base64(key:secret)'],
    ] as const) {
      const r = await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-2' }), options);
      expect(r.status).toBe(401);
      expect(errorReason(r)).toBe('UNAUTHORIZED');
      expect((r.body as ErrorBody).errors[0]?.message).toContain(fragment);
      expect(r.headers.get('www-authenticate')).toContain('Basic');
    }
  });

  it('[AU-2] HTTP Basic with the right secret is accepted, a wrong secret is 401', async () => {
    expect((await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-3' }), { auth: 'basic' })).status).toBe(
      200,
    );
    const wrong = await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-3' }), {
      auth: 'basic',
      secret: 'wrong',
    });
    expect(wrong.status).toBe(401);
    expect((wrong.body as ErrorBody).errors[0]?.message).toBe('wrong API secret');
  });

  it('[AU-3] HMAC signatures are verified over method, Date, path with query, and body; both date formats work', async () => {
    const rfc = await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-4' }), { auth: 'hmac' });
    expect(rfc.status).toBe(200);
    const compact = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    expect(
      (await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-4' }), { auth: 'hmac', date: compact }))
        .status,
    ).toBe(200);
    expect(
      (await call(t.url, '/v1/identify?read_only=true', body({ ios_idfv: 'auth-4' }), { auth: 'hmac' }))
        .status,
    ).toBe(200);
  });

  it('[AU-3] a bad signature, a stale or missing Date are 401', async () => {
    const bad = await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-5' }), {
      auth: 'hmac',
      headers: { 'x-mp-signature': 'ab'.repeat(32) },
    });
    expect((bad.body as ErrorBody).errors[0]?.message).toBe('the signature does not match');
    const stale = await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-5' }), {
      auth: 'hmac',
      date: new Date(Date.now() - 10 * 60_000).toUTCString(),
    });
    expect((stale.body as ErrorBody).errors[0]?.message).toContain('more than 5 minutes');
    const wrongSecret = await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-5' }), {
      auth: 'hmac',
      secret: 'nope',
    });
    const noDate = await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-5' }), {
      auth: 'none',
      headers: { 'x-mp-key': API_KEY, 'x-mp-signature': 'abc' },
    });
    for (const r of [bad, stale, wrongSecret, noDate]) expect(r.status).toBe(401);
  });

  it('[AU-4] an input that does not allow key-only use needs a signature or Basic; a revoked key is 401', async () => {
    const created = await admin<{ key: string; secret: string }>(
      t.url,
      'POST',
      '/workspaces/default/inputs',
      {
        name: 'backend',
        allowKeyOnly: false,
      },
    );
    expect(created.status).toBe(201);
    const { key, secret } = created.body;
    const keyOnly = await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-6' }), { key });
    expect(keyOnly.status).toBe(401);
    expect((keyOnly.body as ErrorBody).errors[0]?.message).toContain('requires a signature');
    expect(
      (await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-6' }), { key, secret, auth: 'basic' }))
        .status,
    ).toBe(200);
    expect(
      (await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-6' }), { key, secret, auth: 'hmac' })).status,
    ).toBe(200);
    expect((await admin(t.url, 'DELETE', `/workspaces/default/inputs/${key}`)).status).toBe(204);
    const revoked = await call(t.url, '/v1/identify', body({ ios_idfv: 'auth-6' }), {
      key,
      secret,
      auth: 'basic',
    });
    expect(revoked.status).toBe(401);
    expect((revoked.body as ErrorBody).errors[0]?.message).toContain('revoked');
  });
});

describe('IDSync endpoints', () => {
  it('[IL-7] identify answers 200 with the documented body and x-mp-max-age', async () => {
    const r = await call<IdentityResponse>(t.url, '/v1/identify', body({ ios_idfv: 'ep-1' }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      context: null,
      mpid: expect.any(String),
      matched_identities: {},
      is_ephemeral: true,
      is_logged_in: false,
    });
    expect(r.headers.get('x-mp-max-age')).toBe('86400');
  });

  it('[SC-1][SC-2][SC-3][SC-4] login converts, logout starts a new anonymous profile, login returns', async () => {
    const anonymous = await call<IdentityResponse>(t.url, '/v1/identify', body({ ios_idfv: 'ep-2' }));
    const login = await call<IdentityResponse>(
      t.url,
      '/v1/login',
      body(
        { customerid: 'ep-c2', email: 'EP2@example.com', ios_idfv: 'ep-2' },
        { previous_mpid: anonymous.body.mpid },
      ),
    );
    expect(login.body).toMatchObject({ mpid: anonymous.body.mpid, is_logged_in: true, is_ephemeral: false });
    const logout = await call<IdentityResponse>(
      t.url,
      '/v1/logout',
      body({ ios_idfv: 'ep-2' }, { previous_mpid: login.body.mpid }),
    );
    expect(logout.status).toBe(200);
    expect(logout.body.mpid).not.toBe(login.body.mpid);
    const again = await call<IdentityResponse>(
      t.url,
      '/v1/login',
      body({ customerid: 'ep-c2', ios_idfv: 'ep-2' }),
    );
    expect(again.body.mpid).toBe(anonymous.body.mpid);
  });

  it('[SR-1][SR-2] search finds an eligible profile (200) or answers 404 NOT_FOUND_ERROR', async () => {
    const known = await call<IdentityResponse>(t.url, '/v1/login', body({ customerid: 'ep-c3' }));
    const found = await call<IdentityResponse>(t.url, '/v1/search?cb=1', body({ customerid: 'ep-c3' }));
    expect(found.status).toBe(200);
    expect(found.body.mpid).toBe(known.body.mpid);
    const missing = await call(t.url, '/v1/search', body({ customerid: 'ep-nobody' }));
    expect(missing.status).toBe(404);
    expect((missing.body as ErrorBody).errors[0]?.code).toBe('NOT_FOUND_ERROR');
  });

  it('[MD-1][MD-11] modify answers 200 with change results; bad and unknown MPIDs are 400', async () => {
    const known = await call<IdentityResponse>(t.url, '/v1/login', body({ customerid: 'ep-c4' }));
    const changes = {
      environment: 'production',
      identity_changes: [{ identity_type: 'email', old_value: null, new_value: 'ep4@example.com' }],
    };
    const r = await call<ModifyResponse>(t.url, `/v1/${known.body.mpid}/modify`, changes);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      mpid: known.body.mpid,
      is_logged_in: true,
      change_results: [{ identity_type: 'email', modified_mpid: known.body.mpid }],
    });
    const invalid = await call(t.url, '/v1/not-an-mpid/modify', changes);
    expect([invalid.status, errorReason(invalid)]).toEqual([400, 'INVALID_MPID']);
    const unknown = await call(t.url, '/v1/99999/modify', changes);
    expect([unknown.status, (unknown.body as ErrorBody).errors[0]?.code]).toEqual([400, 'LOOKUP_ERROR']);
  });

  it('[AL-4][AL-7] alias is accepted with 202 (both paths) and applied in the background', async () => {
    const source = await call<IdentityResponse>(t.url, '/v1/identify', body({ ios_idfv: 'ep-5' }));
    const destination = await call<IdentityResponse>(t.url, '/v1/login', body({ customerid: 'ep-c5' }));
    const alias = {
      request_type: 'alias',
      environment: 'production',
      data: { source_mpid: source.body.mpid, destination_mpid: destination.body.mpid },
    };
    const accepted = await call(t.url, '/v1/alias', alias, { auth: 'basic' });
    expect([accepted.status, accepted.text]).toEqual([202, '']);
    const other = await call<IdentityResponse>(t.url, '/v1/identify', body({ ios_idfv: 'ep-5b' }));
    const sdkPath = await call(
      t.url,
      `/v1/identity/${API_KEY}/Alias`,
      { ...alias, data: { source_mpid: other.body.mpid, destination_mpid: destination.body.mpid } },
      { auth: 'none' },
    );
    expect(sdkPath.status).toBe(202);
    await expect
      .poll(async () => {
        const detail = await admin<{ aliases: AliasRecord[] }>(
          t.url,
          'GET',
          `/workspaces/default/profiles/${destination.body.mpid}`,
        );
        return detail.body.aliases.map((a) => a.status);
      })
      .toEqual(['applied', 'applied']);
    const same = await call(t.url, '/v1/alias', {
      ...alias,
      data: { source_mpid: source.body.mpid, destination_mpid: source.body.mpid },
    });
    expect([same.status, (same.body as ErrorBody).errors[0]?.code]).toEqual([400, 'ALIAS_ERROR']);
  });

  it('[AL-1] alias is 403 under profile isolation', async () => {
    const workspace = { ...CONVERSION, scopeId: 'isolated', strategy: 'profile_isolation' };
    expect((await admin(t.url, 'POST', '/workspaces', workspace)).status).toBe(201);
    const input = await admin<{ key: string }>(t.url, 'POST', '/workspaces/isolated/inputs', {
      name: 'web',
      allowKeyOnly: true,
    });
    const a = await call<IdentityResponse>(t.url, '/v1/identify', body({ ios_idfv: 'iso' }), {
      key: input.body.key,
    });
    const b = await call<IdentityResponse>(t.url, '/v1/login', body({ customerid: 'iso-c' }), {
      key: input.body.key,
    });
    const r = await call(
      t.url,
      '/v1/alias',
      { environment: 'production', data: { source_mpid: a.body.mpid, destination_mpid: b.body.mpid } },
      { key: input.body.key },
    );
    expect([r.status, errorReason(r)]).toEqual([403, 'ALIAS_NOT_AVAILABLE']);
  });

  it('[IP-2][IP-3] a replayed request_id answers the stored body; another body with that id is 409', async () => {
    const first = await call(t.url, '/v1/identify', body({ ios_idfv: 'ep-6' }, { request_id: 'http-req-1' }));
    const again = await call(t.url, '/v1/identify', body({ ios_idfv: 'ep-6' }, { request_id: 'http-req-1' }));
    expect(again.text).toBe(first.text);
    const conflict = await call(
      t.url,
      '/v1/identify',
      body({ ios_idfv: 'ep-7' }, { request_id: 'http-req-1' }),
    );
    expect([conflict.status, errorReason(conflict)]).toEqual([409, 'REQUEST_ID_CONFLICT']);
    expect((conflict.body as ErrorBody).request_id).toBe('http-req-1');
  });

  it('[IL-8] read_only resolves and persists nothing; return_matches adds how each identity was used', async () => {
    const dry = await call<IdentityResponse>(
      t.url,
      '/v1/identify?read_only=true',
      body({ ios_idfv: 'ep-8' }),
    );
    expect(dry.status).toBe(200);
    const stored = await admin<{ profiles: ProfileRecord[] }>(
      t.url,
      'GET',
      '/workspaces/default/profiles?identity_type=ios_idfv&value=ep-8',
    );
    expect(stored.body.profiles).toEqual([]);
    const matches = await call<{ lookup: unknown[] }>(
      t.url,
      '/v1/identify?return_matches=true',
      body({ ios_idfv: 'ep-8', push_token: 'p' }),
    );
    expect(matches.body.lookup).toEqual([
      { identity_type: 'ios_idfv', value: 'ep-8', use: 'lookup' },
      { identity_type: 'push_token', value: 'p', use: 'not_in_priority' },
    ]);
    const badFlag = await call(t.url, '/v1/identify?read_only=maybe', body({ ios_idfv: 'ep-8' }));
    expect(badFlag.status).toBe(400);
  });

  it('[ER-2] bodies: broken JSON 400, prototype poisoning 400, wrong media type 415, too large 413, gzip accepted', async () => {
    const broken = await call(t.url, '/v1/identify', '{"environment":');
    expect([broken.status, errorReason(broken)]).toEqual([400, 'VALIDATION_ERROR']);
    const poisoned = await call(
      t.url,
      '/v1/identify',
      '{"environment":"production","known_identities":{"ios_idfv":"x"},"__proto__":{"admin":true}}',
    );
    expect(poisoned.status).toBe(400);
    const form = await call(t.url, '/v1/identify', 'a=b', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect([form.status, errorReason(form)]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const huge = await call(t.url, '/v1/identify', body({ ios_idfv: 'x' }, { context: 'c'.repeat(70_000) }));
    expect([huge.status, errorReason(huge)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const gzipped = await call<IdentityResponse>(t.url, '/v1/identify', body({ ios_idfv: 'ep-9' }), {
      gzip: true,
      auth: 'hmac',
    });
    expect(gzipped.status).toBe(200);
    const deflate = await call(t.url, '/v1/identify', body({ ios_idfv: 'ep-9' }), {
      headers: { 'content-encoding': 'br' },
    });
    expect(deflate.status).toBe(415);
  });

  it('[ER-2] unknown routes are 404 with the error body', async () => {
    const r = await call(t.url, '/v1/merge', body({ ios_idfv: 'x' }));
    expect([r.status, errorReason(r)]).toEqual([404, 'NOT_FOUND']);
  });

  it('[AU-5] CORS: the IDSync API answers preflights for browser SDKs; the admin API never does', async () => {
    const preflight = await fetch(`${t.url}/v1/identify`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-mp-key',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-mp-key');
    const adminPreflight = await fetch(`${t.url}/admin/v1/workspaces`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'GET' },
    });
    expect(adminPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('operations', () => {
  it('[OP-1] health, readiness, metrics, the OpenAPI document and the docs UI', async () => {
    expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${t.url}/readyz`)).json()).toEqual({ status: 'ready', database: 'sqlite' });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(
      /idsync_resolutions_total\{kind="identify",strategy="profile_conversion",branch="new_anonymous",situation="N0",created="true"\} \d+/,
    );
    expect(metrics).toMatch(
      /idsync_http_request_duration_seconds_bucket\{le="0.005",route="\/v1\/identify"\}/,
    );
    expect(metrics).toMatch(/idsync_errors_total\{code="UNAUTHORIZED"\} \d+/);
    const openapi = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/v1/identify',
        '/v1/{mpid}/modify',
        '/admin/v1/workspaces/{workspace}/profiles/{mpid}',
      ]),
    );
    const docs = await fetch(`${t.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('[OP-2] rate limiting answers 429 with Retry-After once a key exceeds its per-second budget', async () => {
    const limited = await startTestServer({ rateLimitPerSecond: 3 });
    try {
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof call>> | undefined;
      for (let i = 0; i < 5; i++) {
        last = await call(limited.url, '/v1/identify', body({ ios_idfv: `rl-${i}` }));
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses.at(-1)).toBe(429);
      expect(Number(last?.headers.get('retry-after'))).toBeGreaterThanOrEqual(0);
      expect(errorReason(last as { body: unknown })).toBe('RATE_LIMITED');
    } finally {
      await limited.close();
    }
  });
});

describe('admin API', () => {
  it('[AD-1] requires a valid admin token', async () => {
    expect((await admin(t.url, 'GET', '/workspaces', undefined, 'wrong-token')).status).toBe(401);
    expect((await fetch(`${t.url}/admin/v1/workspaces`)).status).toBe(401);
    expect((await admin(t.url, 'GET', '/workspaces')).status).toBe(200);
  });

  it('[AD-2] creates workspaces with validated configs', async () => {
    const invalid = await admin<ErrorBody>(t.url, 'POST', '/workspaces', {
      ...CONVERSION,
      scopeId: 'bad',
      immutableIdentities: ['email'],
      uniqueIdentities: ['customerid'],
    });
    expect([invalid.status, invalid.body.errors[0]?.reason]).toEqual([400, 'INVALID_CONFIG']);
    const duplicate = await admin<ErrorBody>(t.url, 'POST', '/workspaces', CONVERSION);
    expect([duplicate.status, duplicate.body.errors[0]?.reason]).toEqual([409, 'CONFLICT']);
    const list = await admin<{ workspaces: { id: string }[] }>(t.url, 'GET', '/workspaces');
    expect(list.body.workspaces.map((w) => w.id)).toContain('default');
  });

  it('[AD-3] config updates are validated, versioned, recorded, and refused when data would break uniqueness', async () => {
    const workspace = {
      ...CONVERSION,
      scopeId: 'cfg',
      loginIdentities: ['customerid'],
      uniqueIdentities: ['customerid'],
    };
    await admin(t.url, 'POST', '/workspaces', workspace);
    const input = await admin<{ key: string }>(t.url, 'POST', '/workspaces/cfg/inputs', {
      name: 'web',
      allowKeyOnly: true,
    });
    await call(t.url, '/v1/login', body({ customerid: 'u1', email: 'shared@example.com' }), {
      key: input.body.key,
    });
    await call(t.url, '/v1/login', body({ customerid: 'u2', email: 'shared@example.com' }), {
      key: input.body.key,
    });
    const conflicting = await admin<ErrorBody>(t.url, 'PUT', '/workspaces/cfg/config', {
      ...workspace,
      uniqueIdentities: ['customerid', 'email'],
    });
    expect([conflicting.status, conflicting.body.errors[0]?.reason]).toEqual([409, 'CONFLICT']);
    expect(conflicting.body.errors[0]?.message).toContain('email=shared@example.com (2 profiles)');
    const renamed = await admin(t.url, 'PUT', '/workspaces/cfg/config', { ...workspace, scopeId: 'other' });
    expect(renamed.status).toBe(400);
    const updated = await admin<{ version: number }>(t.url, 'PUT', '/workspaces/cfg/config', {
      ...workspace,
      identityCacheMaxAgeSec: 60,
    });
    expect(updated.body.version).toBe(2);
    const current = await admin<{ version: number; config: { identityCacheMaxAgeSec: number } }>(
      t.url,
      'GET',
      '/workspaces/cfg/config',
    );
    expect([current.body.version, current.body.config.identityCacheMaxAgeSec]).toEqual([2, 60]);
    const identify = await call(t.url, '/v1/identify', body({ ios_idfv: 'cfg-1' }), { key: input.body.key });
    expect(identify.headers.get('x-mp-max-age')).toBe('60');
    const history = await admin<{ history: { version: number; actor: { kind: string } }[] }>(
      t.url,
      'GET',
      '/workspaces/cfg/config/history',
    );
    expect(history.body.history.map((h) => [h.version, h.actor.kind])).toEqual([
      [2, 'admin'],
      [1, 'admin'],
    ]);
  });

  it('[AD-4] profile search, detail with history and explain traces, request lookup and the history feed', async () => {
    const login = await call<IdentityResponse>(
      t.url,
      '/v1/login',
      body({ customerid: 'ad-c1', ios_idfv: 'ad-1' }, { request_id: 'ad-req-1' }),
    );
    const mpid = login.body.mpid;
    const search = await admin<{ profiles: ProfileRecord[] }>(
      t.url,
      'GET',
      '/workspaces/default/profiles?identity_type=customerid&value=ad-c1',
    );
    expect(search.body.profiles.map((p) => p.mpid)).toEqual([mpid]);
    const badSearch = await admin(t.url, 'GET', '/workspaces/default/profiles?identity_type=fax&value=1');
    expect(badSearch.status).toBe(400);
    const detail = await admin<{
      profile: ProfileRecord;
      history: HistoryEntry[];
      requests: StoredRequest[];
    }>(t.url, 'GET', `/workspaces/default/profiles/${mpid}`);
    expect(detail.body.profile.identities).toEqual({ customerid: ['ad-c1'], ios_idfv: ['ad-1'] });
    expect(detail.body.history.map((h) => h.kind)).toEqual([
      'identity_added',
      'identity_added',
      'profile_created',
    ]);
    expect(detail.body.requests[0]).toMatchObject({
      requestId: 'ad-req-1',
      trace: { branch: 'new_known', result: { mpid } },
    });
    const stored = await admin<StoredRequest>(t.url, 'GET', '/workspaces/default/requests/ad-req-1');
    expect(stored.body.trace?.situation).toBe('K3');
    expect((await admin(t.url, 'GET', '/workspaces/default/profiles/12345')).status).toBe(404);
    const page1 = await admin<{ entries: HistoryEntry[]; nextBeforeSeq: number | null }>(
      t.url,
      'GET',
      '/workspaces/default/history?limit=2',
    );
    expect(page1.body.entries).toHaveLength(2);
    expect(page1.body.nextBeforeSeq).not.toBeNull();
    const page2 = await admin<{ entries: HistoryEntry[] }>(
      t.url,
      'GET',
      `/workspaces/default/history?limit=2&before_seq=${page1.body.nextBeforeSeq}`,
    );
    expect((page2.body.entries[0]?.seq ?? 0) < (page1.body.entries[1]?.seq ?? 0)).toBe(true);
    const created = await admin<{ entries: HistoryEntry[] }>(
      t.url,
      'GET',
      `/workspaces/default/history?kind=profile_created&mpid=${mpid}`,
    );
    expect(created.body.entries.map((e) => e.mpid)).toEqual([mpid]);
  });

  it('[AD-5][AL-8] undoes an applied alias', async () => {
    const source = await call<IdentityResponse>(t.url, '/v1/identify', body({ ios_idfv: 'undo-1' }));
    const destination = await call<IdentityResponse>(t.url, '/v1/login', body({ customerid: 'undo-c' }));
    await call(t.url, '/v1/alias', {
      environment: 'production',
      request_id: 'undo-alias',
      data: { source_mpid: source.body.mpid, destination_mpid: destination.body.mpid },
    });
    await expect
      .poll(
        async () =>
          (
            await admin<{ aliases: AliasRecord[] }>(
              t.url,
              'GET',
              `/workspaces/default/profiles/${destination.body.mpid}`,
            )
          ).body.aliases[0]?.status,
      )
      .toBe('applied');
    const undone = await admin<{ alias: AliasRecord }>(
      t.url,
      'POST',
      '/workspaces/default/aliases/undo-alias/undo',
    );
    expect(undone.body.alias.status).toBe('undone');
    const again = await admin<ErrorBody>(t.url, 'POST', '/workspaces/default/aliases/undo-alias/undo');
    expect([again.status, again.body.errors[0]?.reason]).toEqual([400, 'ALIAS_ERROR']);
  });

  it('[AD-6] deletes a profile for a data-subject request: identities and traces gone, MPID never reused', async () => {
    const login = await call<IdentityResponse>(
      t.url,
      '/v1/login',
      body({ customerid: 'dsr-c', email: 'dsr@example.com' }, { request_id: 'dsr-req' }),
    );
    const mpid = login.body.mpid;
    const deleted = await admin(t.url, 'DELETE', `/workspaces/default/profiles/${mpid}`);
    expect(deleted).toEqual({ status: 200, body: { deleted: mpid } });
    expect((await admin(t.url, 'DELETE', `/workspaces/default/profiles/${mpid}`)).status).toBe(404);
    const search = await call(t.url, '/v1/search', body({ customerid: 'dsr-c' }));
    expect(search.status).toBe(404);
    const bySearch = await admin<{ profiles: ProfileRecord[] }>(
      t.url,
      'GET',
      '/workspaces/default/profiles?identity_type=email&value=dsr@example.com',
    );
    expect(bySearch.body.profiles).toEqual([]);
    expect((await admin(t.url, 'GET', '/workspaces/default/requests/dsr-req')).status).toBe(404);
    const history = await admin<{ entries: HistoryEntry[] }>(
      t.url,
      'GET',
      `/workspaces/default/history?mpid=${mpid}`,
    );
    expect(history.body.entries.map((e) => e.value)).toEqual([null, null, null, null]);
    expect(history.body.entries[0]?.kind).toBe('profile_deleted');
    const relogin = await call<IdentityResponse>(t.url, '/v1/login', body({ customerid: 'dsr-c' }));
    expect(relogin.body.mpid).not.toBe(mpid);
    const modify = await call(t.url, `/v1/${mpid}/modify`, {
      environment: 'production',
      identity_changes: [],
    });
    expect(modify.status).toBe(400);
  });

  it('[AD-7] admin tokens can be created, listed and revoked', async () => {
    const created = await admin<{ id: string; token: string }>(t.url, 'POST', '/tokens', { name: 'ops' });
    expect(created.status).toBe(201);
    expect((await admin(t.url, 'GET', '/workspaces', undefined, created.body.token)).status).toBe(200);
    const list = await admin<{ tokens: { id: string; name: string }[] }>(t.url, 'GET', '/tokens');
    expect(list.body.tokens.map((x) => x.name)).toContain('ops');
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);
    expect((await admin(t.url, 'DELETE', `/tokens/${created.body.id}`)).status).toBe(204);
    expect((await admin(t.url, 'GET', '/workspaces', undefined, created.body.token)).status).toBe(401);
  });

  it('[AD-7] input secrets are never stored in clear and never listed', async () => {
    const inputs = await admin<{ inputs: { key: string }[] }>(t.url, 'GET', '/workspaces/default/inputs');
    expect(inputs.body.inputs.map((i) => i.key)).toContain(API_KEY);
    expect(JSON.stringify(inputs.body)).not.toContain(API_SECRET);
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(t.databaseFile, { readonly: true });
    try {
      const dump =
        JSON.stringify(db.prepare('select * from inputs').all()) +
        JSON.stringify(db.prepare('select * from admin_tokens').all());
      expect(dump).not.toContain(API_SECRET);
      expect(dump).not.toContain('test-admin-token');
    } finally {
      db.close();
    }
  });
});
