/**
 * Sync protocol v2 (SPEC S2-*): each push error code provoked over real HTTP, the protocol
 * version check, and `--body-limit` on the sync routes.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SYNC_PROTOCOL_HEADER } from '../../shared/protocol/sync.ts';
import { admin, call, startTestServer, type TestServer } from '../helpers/server.ts';
import { SYNC_CONFIG } from '../helpers/server-with-devices.ts';
import { loginRow, pushRow, registerDevice } from '../helpers/sync-wire.ts';

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
