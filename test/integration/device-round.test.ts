/**
 * The cost and the shape of a device round (SPEC DR-*): how many SQL statements a v2 round runs
 * (counted by the server and exposed at /metrics), and that a round's writes commit together.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import { SYNC_PROTOCOL_HEADER } from '../../shared/protocol/sync.ts';
import { openDevice, type SimulatedDevice } from '../../simulator/devices.ts';
import { admin, API_KEY, call, startTestServer, type TestServer } from '../helpers/server.ts';
import { SYNC_CONFIG } from '../helpers/server-with-devices.ts';
import { registerDevice, requestDocument } from '../helpers/sync-wire.ts';

/**
 * SQL statements one round of a device that recorded an identify, 20 events and a login offline
 * may run on SQLite (DR-1), transaction control included. Measured 34 when this was pinned: 33
 * plus the transaction's `PRAGMA data_version` (HP-7; the first round of a fresh server reads
 * everything, so memory saves none of its reads). Before: 33 (the first program of a fresh server
 * reads the config too; a round alone in its group commit runs no savepoint, DR-7), 35 before that,
 * 65 before one transaction per round and the replay state (DR-2, DR-3).
 */
const STATEMENTS_PER_ROUND = 34;

let server: TestServer;
let opened: SimulatedDevice[] = [];
beforeEach(async () => {
  // No background writes (request log flushes, alias polls) between two readings of the counter.
  server = await startTestServer({ config: SYNC_CONFIG, requestLogFlushMs: 60_000, aliasPollMs: 60_000 });
});
afterEach(async () => {
  for (const device of opened) await device.close();
  opened = [];
  await server.close();
});

/** The server's statement counter, from its /metrics. */
async function statementsRun(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const match = /^idsync_sql_statements_total (\d+)$/m.exec(text);
  if (match === null) throw new Error('/metrics has no idsync_sql_statements_total');
  return Number(match[1]);
}

describe('device round', () => {
  it('[DR-1] a round of an identify, 20 events and a login runs at most the pinned number of SQL statements', async () => {
    let now = 1_800_000_000_000;
    const device = await openDevice({
      name: 'counted',
      seed: 7,
      clock: { now: () => (now += 1000) },
      config: ScopeConfigSchema.parse(SYNC_CONFIG),
      endpoint: { baseUrl: server.url, apiKey: API_KEY },
    });
    opened.push(device);
    await device.sync.connect();
    // A first, empty round: the device's credential is cached, as on a device that syncs often.
    await device.sync.syncOnce();
    await device.engine.identify({});
    for (let e = 0; e < 20; e += 1) await device.engine.track(`event-${e}`, { n: e });
    const login = await device.engine.login({ customerid: 'counted' });
    if (!login.ok) throw new Error('login failed');
    const before = await statementsRun();
    expect(await device.sync.syncOnce()).toEqual([]);
    const statements = (await statementsRun()) - before;
    console.log(`[DR-1] SQL statements in one round: ${statements}`);
    expect((await device.engine.requests()).map((r) => r.server?.status)).toEqual(['applied', 'applied']);
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThanOrEqual(STATEMENTS_PER_ROUND);
  });

  it('[DR-2] a round commits whole: when its second request fails to store, its first one and its events are not kept', async () => {
    const headers = await registerDevice(server.url, 'us1-test-key', 'atomic');
    // Storing the second request fails (as a full disk would), after the first one was replayed.
    const saboteur = new Database(server.databaseFile);
    saboteur.exec(
      `create trigger refuse_second before insert on device_requests when new.request_id = 'atomic-2'
       begin select raise(abort, 'refused by the test'); end`,
    );
    saboteur.close();
    const wire = (seq: number) =>
      requestDocument({
        deviceId: 'atomic',
        seq,
        body: { known_identities: { customerid: `atomic-${seq}`, device_application_stamp: 'das-atomic' } },
      }).data.sync;
    const request = ({ server: _server, ...pushed }: ReturnType<typeof wire>) => pushed;
    const event = { id: 'e1', requestId: 'atomic-1', type: 'event', name: 'opened', data: {}, at: 1 };
    const answer = await call(
      server.url,
      '/sync/v2/round',
      {
        checkpoint: { requests: 0, profiles: 0 },
        requests: [request(wire(1)), request(wire(2))],
        events: [event],
      },
      { headers: { ...headers, [SYNC_PROTOCOL_HEADER]: '3' } },
    );
    expect(answer.status).toBe(500);
    const exported = await admin<{
      deviceRequests: unknown[];
      eventCounts: Record<string, number>;
    }>(server.url, 'GET', '/workspaces/default/export');
    expect(exported.body.deviceRequests).toEqual([]);
    expect(exported.body.eventCounts['atomic'] ?? 0).toBe(0);
  });

  it('[DR-6] a device whose secret was checked is answered from the cache only for that same secret', async () => {
    const headers = await registerDevice(server.url, 'us1-test-key', 'cached');
    const round = (authorization: string) =>
      call(
        server.url,
        '/sync/v2/round',
        { checkpoint: { requests: 0, profiles: 0 }, requests: [], events: [] },
        { headers: { ...headers, authorization, [SYNC_PROTOCOL_HEADER]: '3' } },
      );
    const right = headers['authorization'] as string;
    expect((await round(right)).status).toBe(200);
    expect((await round(right)).status).toBe(200);
    expect((await round(`${right.slice(0, -1)}${right.endsWith('x') ? 'y' : 'x'}`)).status).toBe(401);
    expect((await round(`${right}x`)).status).toBe(401);
    expect((await round(right)).status).toBe(200);
    expect((await admin(server.url, 'DELETE', '/workspaces/default/devices/cached')).status).toBe(204);
    expect((await round(right)).status).toBe(401);
  });

  it('[DR-8] a replayed request whose trace the identity store keeps is stored without a second copy, and answered with it', async () => {
    const headers = {
      ...(await registerDevice(server.url, 'us1-test-key', 'once')),
      [SYNC_PROTOCOL_HEADER]: '3',
    };
    const pushed = (seq: number) =>
      (({ server: _server, ...request }) => request)(
        requestDocument({
          deviceId: 'once',
          seq,
          body: { known_identities: { customerid: 'once', device_application_stamp: 'das-once' } },
        }).data.sync,
      );
    type Result = { requestId: string; server: { status: string; trace: unknown } };
    const round = (requests: unknown[]) =>
      call<{ results: Result[] }>(
        server.url,
        '/sync/v2/round',
        { checkpoint: { requests: 0, profiles: 0 }, requests, events: [] },
        { headers },
      );
    // The first login creates the profile: the identity store keeps its trace, the device log no copy.
    // The second changes nothing: stored without a trace in `requests` (LS-1), the device log keeps it.
    const first = await round([pushed(1), pushed(2)]);
    expect(first.status).toBe(200);
    const answered = first.body.results;
    expect(answered.map((r) => [r.requestId, r.server.status])).toEqual([
      ['once-1', 'applied'],
      ['once-2', 'applied'],
    ]);
    expect(answered.every((r) => r.server.trace !== null)).toBe(true);

    const db = new Database(server.databaseFile, { readonly: true });
    const stored = db
      .prepare(
        `select r.request_id, json_extract(r.result, '$.trace') is null as lean, coalesce(q.trace, 'null') = 'null' as untraced
         from device_requests r left join requests q on q.request_id = r.request_id order by r.seq`,
      )
      .all();
    db.close();
    expect(stored).toEqual([
      { request_id: 'once-1', lean: 1, untraced: 0 },
      { request_id: 'once-2', lean: 0, untraced: 1 },
    ]);

    // Read again: by a round from checkpoint 0, by a v1 pull, and as the answer to a request pushed again.
    expect((await round([])).body.results).toEqual(answered);
    const v1 = await call<{ documents: { data: { sync: { server: unknown } } }[] }>(
      server.url,
      '/sync/v1/requests/pull?seq=0',
      undefined,
      { method: 'GET', headers },
    );
    expect(v1.body.documents.map((d) => d.data.sync.server)).toEqual(answered.map((r) => r.server));
    expect((await round([pushed(1)])).body.results).toEqual(answered);
  });
});
