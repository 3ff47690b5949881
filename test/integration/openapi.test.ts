/**
 * The OpenAPI document against the routes the server really registers (SPEC OA-*): every route
 * Fastify registers (collected with an `onRoute` hook on the test server's own Fastify instance)
 * is documented with its method, every documented operation is a registered route, the document
 * is structurally valid OpenAPI 3.1, and documented request bodies accept what the routes accept.
 */
import type * as Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { SYNC_PROTOCOL_HEADER } from '../../shared/protocol/sync.ts';
import { ADMIN_TOKEN, API_KEY, call, startTestServer, type TestServer } from '../helpers/server.ts';
import { deviceAuthorization, pushRow } from '../helpers/sync-wire.ts';

const registered = vi.hoisted(() => [] as { method: string; url: string }[]);

vi.mock('fastify', async (importOriginal) => {
  const original = await importOriginal<typeof Fastify>();
  const withRouteLog = ((options: Parameters<typeof original.default>[0]) => {
    const app = original.default(options);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) registered.push({ method, url: route.url });
    });
    return app;
  }) as unknown as typeof original.default;
  return { ...original, default: withRouteLog, fastify: withRouteLog };
});

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
}
interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content: { 'application/json': { schema: Record<string, unknown> } } };
  responses?: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: Record<string, Record<string, unknown>> };
}

/**
 * Routes left out of the document on purpose (OA-1): the docs UI's own pages and assets, the web
 * app's static files and redirects, the HEAD twin Fastify adds to every GET, and the CORS
 * plugin's preflight route.
 */
const undocumented = (route: { method: string; url: string }) =>
  route.method === 'HEAD' ||
  route.url === '/docs' ||
  route.url.startsWith('/docs/') ||
  route.url === '/' ||
  route.url === '/app' ||
  route.url === '/app/*' ||
  (route.method === 'OPTIONS' && route.url === '*');

/** Fastify's `/a/:b` as OpenAPI's `/a/{b}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

let t: TestServer;
let document: Document;

beforeAll(async () => {
  t = await startTestServer();
  document = (await (await fetch(`${t.url}/openapi.json`)).json()) as Document;
});
afterAll(async () => t.close());

const operations = () =>
  Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
  );

/** The documented JSON schema of an answer, as zod, to check real answers against. */
const answerSchemaOf = (path: string, method: string, status: number) => {
  const schema =
    document.paths[path]?.[method]?.responses?.[String(status)]?.content?.['application/json']?.schema;
  expect(schema, `${method} ${path} documents its ${status} answer`).toBeDefined();
  const ref = schema?.['$ref'];
  const resolved =
    typeof ref === 'string' ? document.components.schemas?.[ref.split('/').pop() ?? ''] : schema;
  expect(resolved, `${method} ${path}: ${String(ref)} resolves`).toBeDefined();
  return z.fromJSONSchema(resolved as Parameters<typeof z.fromJSONSchema>[0]);
};

const bodySchemaOf = (path: string, method: string) => {
  const schema = document.paths[path]?.[method]?.requestBody?.content['application/json'].schema;
  expect(schema, `${method} ${path} documents its body`).toBeDefined();
  return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
};

describe('OpenAPI document', () => {
  it('[OA-1] every registered route is documented with its method, and every documented operation is registered', () => {
    const routes = registered.filter((route) => !undocumented(route));
    expect(routes.length).toBeGreaterThan(40);
    const served = routes.map((route) => `${route.method} ${openApiPath(route.url)}`).sort();
    const documented = operations()
      .map(({ path, method }) => `${method.toUpperCase()} ${path}`)
      .sort();
    expect(documented).toEqual([...new Set(served)]);
  });

  it('[OA-2] the document is OpenAPI 3.1: unique operationIds, every path parameter declared, summaries, tags, responses with the failures of its credentials and body, refs that resolve', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.title).toBe('Identity Sync');
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      const [hash, components, kind, name] = ref.split('/');
      expect([hash, components, kind], ref).toEqual(['#', 'components', 'schemas']);
      expect(document.components.schemas?.[name ?? ''], ref).toBeDefined();
    }
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, operation } of operations()) {
      const where = `${method} ${path}`;
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), where).toEqual(inPath);
      expect(
        declared.every((p) => p.required === true),
        where,
      ).toBe(true);
      expect(operation.summary, where).toBeTruthy();
      expect(operation.tags?.length, where).toBeGreaterThan(0);
      const statuses = Object.keys(operation.responses ?? {});
      expect(statuses.length, where).toBeGreaterThan(0);
      for (const status of statuses) expect(status, where).toMatch(/^[1-5]\d\d$/);
      const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
      if (schemes.length > 0) expect(statuses, `${where} refuses credentials`).toContain('401');
      if (schemes.includes('key')) expect(statuses, `${where} is rate limited`).toContain('429');
      if (operation.requestBody !== undefined) expect(statuses, `${where} has a body limit`).toContain('413');
    }
  });

  it('[OA-3] the device sync API is documented: /sync/v1 push and pull and /sync/v2/round with x-sync-protocol', () => {
    const protocolHeader = (path: string, method: string) =>
      document.paths[path]?.[method]?.parameters?.find(
        (p) => p.in === 'header' && p.name === SYNC_PROTOCOL_HEADER,
      );
    for (const [path, method] of [
      ['/sync/v1/devices', 'post'],
      ['/sync/v1/config', 'get'],
      ['/sync/v1/requests/push', 'post'],
      ['/sync/v1/requests/pull', 'get'],
      ['/sync/v1/profiles/pull', 'get'],
      ['/sync/v1/events/push', 'post'],
      ['/sync/v1/search', 'post'],
      ['/sync/v1/stream', 'get'],
    ] as const) {
      expect(document.paths[path]?.[method], `${method} ${path}`).toBeDefined();
      expect(protocolHeader(path, method)?.required ?? false, `${method} ${path}`).toBe(false);
    }
    expect(protocolHeader('/sync/v2/round', 'post')?.required).toBe(true);
    expect(document.paths['/sync/v2/round']?.post?.requestBody).toBeDefined();
  });

  it('[OA-3][OA-4] documented request bodies accept a valid example that the route accepts and refuse a malformed one; the sync answers match their documented schemas', async () => {
    const identify = { known_identities: { ios_idfv: 'oa-4-idfv' }, environment: 'production' };
    expect(bodySchemaOf('/v1/identify', 'post').safeParse(identify).success).toBe(true);
    expect(bodySchemaOf('/v1/identify', 'post').safeParse({ known_identities: 7 }).success).toBe(false);
    expect((await call(t.url, '/v1/identify', identify)).status).toBe(200);

    const registration = { device_id: 'oa-4-device', name: 'oa', device_application_stamp: 'das-oa-4' };
    expect(bodySchemaOf('/sync/v1/devices', 'post').safeParse(registration).success).toBe(true);
    expect(bodySchemaOf('/sync/v1/devices', 'post').safeParse({ device_id: '' }).success).toBe(false);
    const registered = await call<{ device_id: string; device_secret: string }>(
      t.url,
      '/sync/v1/devices',
      registration,
    );
    expect(registered.status).toBe(201);

    const pushedRequest = {
      requestId: 'oa-4-round-1',
      deviceId: 'oa-4-device',
      seq: 1,
      kind: 'identify',
      environment: 'production',
      body: { environment: 'production', known_identities: { customerid: 'oa-4-round' } },
      modifyMpid: null,
      createdAt: 1,
      provisionalMpid: null,
      createdProvisional: false,
    };
    const round = { checkpoint: { requests: 0, profiles: 0 }, requests: [pushedRequest], events: [] };
    expect(bodySchemaOf('/sync/v2/round', 'post').safeParse(round).success).toBe(true);
    expect(bodySchemaOf('/sync/v2/round', 'post').safeParse({ checkpoint: {} }).success).toBe(false);
    const answered = await call(t.url, '/sync/v2/round', round, {
      headers: { ...deviceAuthorization(registered.body), [SYNC_PROTOCOL_HEADER]: '3', 'x-mp-key': API_KEY },
    });
    expect(answered.status).toBe(200);
    expect(registered.body).toEqual(answerSchemaOf('/sync/v1/devices', 'post', 201).parse(registered.body));
    expect(answerSchemaOf('/sync/v2/round', 'post', 200).safeParse(answered.body).error).toBeUndefined();
    expect((answered.body as { requestErrors: unknown[]; results: unknown[] }).requestErrors).toEqual([]);
    expect((answered.body as { results: unknown[] }).results).toHaveLength(1);

    const device = { ...deviceAuthorization(registered.body), 'x-mp-key': API_KEY };
    const push = {
      rows: [
        pushRow({ deviceId: 'oa-4-device', seq: 2, body: { known_identities: { customerid: 'oa-4' } } }),
      ],
    };
    expect(bodySchemaOf('/sync/v1/requests/push', 'post').safeParse(push).error).toBeUndefined();
    const pushed = await call(t.url, '/sync/v1/requests/push', push, { headers: device });
    expect(pushed.status).toBe(200);
    expect(
      answerSchemaOf('/sync/v1/requests/push', 'post', 200).safeParse(pushed.body).error,
    ).toBeUndefined();
    for (const path of ['/sync/v1/config', '/sync/v1/requests/pull', '/sync/v1/profiles/pull']) {
      const pulled = await call<{ documents?: unknown[] }>(t.url, path, undefined, {
        method: 'GET',
        headers: device,
      });
      expect(pulled.status, path).toBe(200);
      expect(answerSchemaOf(path, 'get', 200).safeParse(pulled.body).error, path).toBeUndefined();
      if (path !== '/sync/v1/config') expect(pulled.body.documents?.length, path).toBeGreaterThan(0);
    }

    const input = { name: 'oa-4 input' };
    const inputs = '/admin/v1/workspaces/{workspace}/inputs';
    expect(bodySchemaOf(inputs, 'post').safeParse(input).success).toBe(true);
    expect(bodySchemaOf(inputs, 'post').safeParse({ name: 3 }).success).toBe(false);
    const created = await fetch(`${t.url}/admin/v1/workspaces/default/inputs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    expect(created.status).toBe(201);
  });

  it('[OA-4] documented answers describe what the routes answer, errors included', async () => {
    const admin = async (method: string, url: string, body?: unknown) => {
      const answer = await fetch(`${t.url}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: answer.status, body: (await answer.json()) as unknown };
    };
    const identified = await call<{ mpid: string }>(t.url, '/v1/identify', {
      known_identities: { customerid: 'oa-4-answers' },
      environment: 'production',
    });
    expect(identified.status).toBe(200);
    expect(answerSchemaOf('/v1/identify', 'post', 200).safeParse(identified.body).error).toBeUndefined();
    const refused = await call(t.url, '/v1/identify', { known_identities: 'nope' });
    expect(refused.status).toBe(400);
    expect(answerSchemaOf('/v1/identify', 'post', 400).safeParse(refused.body).error).toBeUndefined();

    const workspace = '/admin/v1/workspaces/{workspace}';
    for (const [path, url] of [
      ['/admin/v1/workspaces', '/admin/v1/workspaces'],
      [`${workspace}/config`, '/admin/v1/workspaces/default/config'],
      [`${workspace}/config/history`, '/admin/v1/workspaces/default/config/history'],
      [`${workspace}/inputs`, '/admin/v1/workspaces/default/inputs'],
      [`${workspace}/devices`, '/admin/v1/workspaces/default/devices'],
      [`${workspace}/history`, '/admin/v1/workspaces/default/history'],
      [
        `${workspace}/profiles`,
        '/admin/v1/workspaces/default/profiles?identity_type=customerid&value=oa-4-answers',
      ],
      [`${workspace}/profiles/{mpid}`, `/admin/v1/workspaces/default/profiles/${identified.body.mpid}`],
      [
        `${workspace}/profiles/{mpid}/graph`,
        `/admin/v1/workspaces/default/profiles/${identified.body.mpid}/graph`,
      ],
      [`${workspace}/stats`, '/admin/v1/workspaces/default/stats'],
    ] as const) {
      const answer = await admin('GET', url);
      expect(answer.status, url).toBe(200);
      expect(answerSchemaOf(path, 'get', 200).safeParse(answer.body).error, url).toBeUndefined();
    }
    const missing = await admin('GET', '/admin/v1/workspaces/nowhere/config');
    expect(missing.status).toBe(404);
    expect(answerSchemaOf(`${workspace}/config`, 'get', 404).safeParse(missing.body).error).toBeUndefined();
    const bootstrap = await (await fetch(`${t.url}/app/bootstrap.json`)).json();
    expect(answerSchemaOf('/app/bootstrap.json', 'get', 200).safeParse(bootstrap).error).toBeUndefined();
    const ready = await (await fetch(`${t.url}/readyz`)).json();
    expect(answerSchemaOf('/readyz', 'get', 200).safeParse(ready).error).toBeUndefined();
  });
});
