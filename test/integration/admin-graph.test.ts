/**
 * The identity graph around a profile (SPEC GV-1..GV-3) on SQLite and PostgreSQL: a visitor
 * aliased into a signed-in customer whose device synced, read as nodes and edges parsed with the
 * wire schema the console parses with; bounded, workspace-scoped, admin only.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProfileGraphSchema, type ProfileGraph } from '../../shared/protocol/admin-graph.ts';
import { ErrorBodySchema } from '../../shared/protocol/errors.ts';
import { SERVER_BACKENDS, testDatabase } from '../helpers/postgres.ts';
import { admin, API_KEY, call, startTestServer, type TestServer } from '../helpers/server.ts';
import { SYNC_CONFIG } from '../helpers/server-with-devices.ts';
import { loginRow, registerDevice } from '../helpers/sync-wire.ts';

const OTHER = {
  scopeId: 'other',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'device_application_stamp'],
  loginIdentities: ['customerid'],
  uniqueIdentities: ['customerid'],
};

describe.each(SERVER_BACKENDS)('admin identity graph on $name', ({ name, skip }) => {
  let t: TestServer;
  let dropSchema: (() => Promise<void>) | null = null;

  beforeEach(async () => {
    if (skip !== null) return;
    const database = await testDatabase(name);
    dropSchema = database.drop;
    t = await startTestServer({ config: SYNC_CONFIG, ...database.options });
    expect((await admin(t.url, 'POST', '/workspaces', OTHER)).status).toBe(201);
  });
  afterEach(async () => {
    if (skip !== null) return;
    await t.close();
    await dropSchema?.();
    dropSchema = null;
  });

  const idsync = async (route: string, body: Record<string, unknown>) => {
    const answer = await call<{ mpid: string }>(t.url, route, { environment: 'production', ...body });
    expect(answer.status, answer.text).toBe(200);
    return answer.body.mpid;
  };

  /** A visitor aliased (request `alias-g`) into a customer who signed in on device `d1`. */
  const visitorAliasedIntoCustomer = async () => {
    const visitor = await idsync('/v1/identify', {
      known_identities: { device_application_stamp: 'g-visitor' },
    });
    const customer = await idsync('/v1/login', { known_identities: { customerid: 'g-c1' } });
    const aliased = await call(t.url, '/v1/alias', {
      environment: 'production',
      request_id: 'alias-g',
      data: { source_mpid: visitor, destination_mpid: customer },
    });
    expect(aliased.status, aliased.text).toBe(202);
    const headers = await registerDevice(t.url, API_KEY, 'd1');
    const pushed = await call<{ errors: unknown[] }>(
      t.url,
      '/sync/v1/requests/push',
      { rows: [loginRow('d1', 1, 'd1-login', 'g-c1')] },
      { headers },
    );
    expect(pushed.body.errors).toEqual([]);
    return { visitor, customer };
  };

  const graph = async (mpid: string, query = '', workspace = 'default'): Promise<ProfileGraph> => {
    const answer = await admin(t.url, 'GET', `/workspaces/${workspace}/profiles/${mpid}/graph${query}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return ProfileGraphSchema.strict().parse(answer.body);
  };
  const expectError = (answer: { status: number; body: unknown }, status: number, code: string) => {
    expect(answer.status).toBe(status);
    expect(ErrorBodySchema.parse(answer.body).errors[0]?.reason).toBe(code);
  };

  it.skipIf(skip !== null)(
    '[GV-1][GV-2] profiles, identity values, devices and the alias with the request that joined them',
    async () => {
      const { visitor, customer } = await visitorAliasedIntoCustomer();
      const answer = await graph(customer);
      expect(answer.root).toBe(`profile:${customer}`);
      expect(answer.truncated).toBe(false);
      const byId = new Map(answer.nodes.map((n) => [n.id, n]));
      expect(byId.get(`profile:${customer}`)).toMatchObject({ kind: 'profile', depth: 0, deleted: false });
      expect(byId.get(`profile:${visitor}`)).toMatchObject({ kind: 'profile', depth: 1 });
      expect(byId.get('identity:production:customerid:g-c1')).toMatchObject({ kind: 'identity' });
      expect(byId.get('identity:production:device_application_stamp:g-visitor')).toMatchObject({
        kind: 'identity',
      });
      expect(byId.get('device:d1')).toMatchObject({ kind: 'device', name: 'd1', revoked: false });
      const edges = answer.edges.map((e) => `${e.kind} ${e.source} ${e.target}`).sort();
      expect(edges).toEqual(
        [
          `aliased_into profile:${visitor} profile:${customer}`,
          `holds_identity profile:${customer} identity:production:customerid:g-c1`,
          `holds_identity profile:${customer} identity:production:device_application_stamp:das-d1`,
          `holds_identity profile:${visitor} identity:production:device_application_stamp:g-visitor`,
          `seen_on_device profile:${customer} device:d1`,
        ].sort(),
      );
      const alias = answer.edges.find((e) => e.kind === 'aliased_into');
      expect(alias).toMatchObject({ requestId: 'alias-g', joins: true });
      for (const edge of answer.edges) {
        expect(byId.has(edge.source)).toBe(true);
        expect(byId.has(edge.target)).toBe(true);
      }
    },
  );

  it.skipIf(skip !== null)('[GV-2] an undone alias no longer joins the two profiles', async () => {
    const { customer } = await visitorAliasedIntoCustomer();
    const aliasId = (await graph(customer)).edges.find((e) => e.kind === 'aliased_into')!;
    expect(aliasId.kind).toBe('aliased_into');
    if (aliasId.kind !== 'aliased_into') return;
    expect((await admin(t.url, 'POST', `/workspaces/default/aliases/${aliasId.aliasId}/undo`)).status).toBe(
      200,
    );
    const after = (await graph(customer)).edges.find((e) => e.kind === 'aliased_into');
    expect(after).toMatchObject({ status: 'undone', joins: false, requestId: 'alias-g' });
  });

  it.skipIf(skip !== null)('[GV-3] max_nodes bounds the answer and says it was truncated', async () => {
    const { customer } = await visitorAliasedIntoCustomer();
    const small = await graph(customer, '?max_nodes=2');
    expect(small.nodes).toHaveLength(2);
    expect(small.truncated).toBe(true);
    expect(small.nodes[0]?.id).toBe(`profile:${customer}`);
    const ids = new Set(small.nodes.map((n) => n.id));
    for (const edge of small.edges) expect(ids.has(edge.source) && ids.has(edge.target)).toBe(true);
    const deep = await graph(customer, '?depth=3&max_nodes=1000');
    expect(deep.truncated).toBe(false);
  });

  it.skipIf(skip !== null)('[GV-3] bad depth or max_nodes is refused with the catalogue error', async () => {
    const { customer } = await visitorAliasedIntoCustomer();
    const route = `/workspaces/default/profiles/${customer}/graph`;
    expectError(await admin(t.url, 'GET', `${route}?depth=4`), 400, 'VALIDATION_ERROR');
    expectError(await admin(t.url, 'GET', `${route}?depth=0`), 400, 'VALIDATION_ERROR');
    expectError(await admin(t.url, 'GET', `${route}?max_nodes=1001`), 400, 'VALIDATION_ERROR');
    expectError(await admin(t.url, 'GET', `/workspaces/default/profiles/0/graph`), 400, 'VALIDATION_ERROR');
  });

  it.skipIf(skip !== null)(
    '[GV-3] another workspace’s profile is not found; the admin token is required',
    async () => {
      const { customer } = await visitorAliasedIntoCustomer();
      expectError(
        await admin(t.url, 'GET', `/workspaces/other/profiles/${customer}/graph`),
        404,
        'NOT_FOUND',
      );
      const anonymous = await fetch(`${t.url}/admin/v1/workspaces/default/profiles/${customer}/graph`);
      expect(anonymous.status).toBe(401);
    },
  );
});
