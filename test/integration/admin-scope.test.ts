/**
 * The admin API keeps to the workspace in its path, and answers every malformed path with the
 * catalogue's error body (SPEC HT-7, HT-8). Every workspace-scoped route is asked, from another
 * workspace, about a profile, request, alias, input and device of the first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema, type ErrorBody } from '../../shared/protocol/errors.ts';
import { admin, ADMIN_TOKEN, API_KEY, call, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
/** Things that exist in workspace `default` only. */
const own = { mpid: '', visitor: '', requestId: 'scope-login-1', aliasId: '', deviceId: 'scope-device' };

beforeAll(async () => {
  t = await startTestServer();
  const login = await call<{ mpid: string }>(t.url, '/v1/login', {
    environment: 'production',
    request_id: own.requestId,
    known_identities: { customerid: 'scope-c1' },
  });
  const visitor = await call<{ mpid: string }>(t.url, '/v1/identify', {
    environment: 'production',
    known_identities: { ios_idfv: 'scope-visitor' },
  });
  own.mpid = login.body.mpid;
  own.visitor = visitor.body.mpid;
  await call(t.url, '/v1/alias', {
    request_type: 'alias',
    environment: 'production',
    data: { source_mpid: own.visitor, destination_mpid: own.mpid },
  });
  const detail = await admin<{ aliases: { id: string }[] }>(
    t.url,
    'GET',
    `/workspaces/default/profiles/${own.mpid}`,
  );
  own.aliasId = detail.body.aliases[0]?.id ?? '';
  expect(own.aliasId).not.toBe('');
  await call(t.url, '/sync/v1/devices', {
    device_id: own.deviceId,
    name: 'scope',
    device_application_stamp: 'das-scope',
  });
  const other = await admin(t.url, 'POST', '/workspaces', {
    scopeId: 'other',
    strategy: 'profile_conversion',
    identityPriority: ['customerid', 'device_application_stamp'],
    loginIdentities: ['customerid'],
    uniqueIdentities: ['customerid'],
  });
  expect(other.status).toBe(201);
});

afterAll(async () => {
  await t?.close();
});

/** An admin call that may answer anything, with its parsed body (or the raw text). */
async function adminRaw(method: string, route: string) {
  const response = await fetch(`${t.url}/admin/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the assertion below shows the text
  }
  return { status: response.status, body };
}

function reasonOf(body: unknown): string | undefined {
  const parsed = ErrorBodySchema.safeParse(body);
  return parsed.success ? parsed.data.errors[0]?.reason : `not a catalogue body: ${JSON.stringify(body)}`;
}

describe('admin routes keep to their workspace', () => {
  it('[HT-7] a device, profile, request, alias or input of another workspace is not found through this one', async () => {
    const refused: [string, string, number, string][] = [
      ['GET', `/workspaces/other/devices/${own.deviceId}/view`, 404, 'NOT_FOUND'],
      ['DELETE', `/workspaces/other/devices/${own.deviceId}`, 404, 'NOT_FOUND'],
      ['GET', `/workspaces/other/profiles/${own.mpid}`, 404, 'NOT_FOUND'],
      ['DELETE', `/workspaces/other/profiles/${own.mpid}`, 404, 'NOT_FOUND'],
      ['GET', `/workspaces/other/requests/${own.requestId}`, 404, 'NOT_FOUND'],
      ['POST', `/workspaces/other/aliases/${own.aliasId}/undo`, 400, 'LOOKUP_ERROR'],
      ['DELETE', `/workspaces/other/inputs/${API_KEY}`, 404, 'NOT_FOUND'],
    ];
    const answers = [];
    for (const [method, route] of refused) {
      const r = await adminRaw(method, route);
      answers.push([method, route, r.status, reasonOf(r.body)]);
    }
    expect(answers).toEqual(refused);
  });

  it('[HT-7] lists, search, history and export of another workspace hold nothing of this one', async () => {
    const lists = await Promise.all(
      [
        '/workspaces/other/devices',
        '/workspaces/other/inputs',
        '/workspaces/other/profiles?identity_type=customerid&value=scope-c1',
        '/workspaces/other/history',
        '/workspaces/other/export',
        '/workspaces/other/config/history',
      ].map(async (route) => JSON.stringify((await adminRaw('GET', route)).body)),
    );
    for (const text of lists) {
      for (const secret of [own.mpid, own.visitor, own.deviceId, own.requestId, API_KEY, 'scope-c1'])
        expect(text).not.toContain(secret);
    }
    const view = await adminRaw('GET', `/workspaces/default/devices/${own.deviceId}/view`);
    expect(view.status).toBe(200);
  });
});

describe('admin paths answer with the catalogue', () => {
  const long = (c: string, n: number) => c.repeat(n);

  it('[HT-8] a 400-digit MPID in a path is refused like any invalid MPID, with the catalogue body (admin API and modify)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const invalid = await adminRaw(method, '/workspaces/default/profiles/0');
      const r = await adminRaw(method, `/workspaces/default/profiles/${long('1', 400)}`);
      expect([method, r.status, reasonOf(r.body)]).toEqual([method, 400, reasonOf(invalid.body)]);
    }
    const modify = await call<ErrorBody>(t.url, `/v1/${long('1', 400)}/modify`, {
      environment: 'production',
      identity_changes: [{ identity_type: 'email', old_value: null, new_value: 'a@x.com' }],
    });
    expect([modify.status, reasonOf(modify.body)]).toEqual([400, 'INVALID_MPID']);
  });

  it('[HT-8] an over-long segment anywhere in an admin path is a 400 with the catalogue body', async () => {
    for (const n of [400, 5000]) {
      const x = long('x', n);
      const routes: [string, string][] = [
        ['GET', `/workspaces/${x}/config`],
        ['GET', `/workspaces/default/devices/${x}/view`],
        ['DELETE', `/workspaces/default/devices/${x}`],
        ['GET', `/workspaces/default/requests/${x}`],
        ['POST', `/workspaces/default/aliases/${x}/undo`],
        ['DELETE', `/workspaces/default/inputs/${x}`],
        ['DELETE', `/tokens/${x}`],
      ];
      for (const [method, route] of routes) {
        const r = await adminRaw(method, route);
        expect([n, method, route.slice(0, 40), r.status, reasonOf(r.body)]).toEqual([
          n,
          method,
          route.slice(0, 40),
          400,
          'VALIDATION_ERROR',
        ]);
      }
    }
  });
});
