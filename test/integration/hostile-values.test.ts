/**
 * Hostile values (SPEC HV-*), on SQLite and on PostgreSQL: text that is not well-formed UTF-16 or
 * holds control characters, numbers outside what a column can hold, and the device pushes that
 * carry them. Both databases must accept and refuse exactly the same values, never answer 500,
 * and a device's log must move on past a request the server refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import { openDevice } from '../../simulator/devices.ts';
import { createTestSchema, pgSkipReason } from '../helpers/postgres.ts';
import { SYNC_CONFIG } from '../helpers/server-with-devices.ts';
import { admin, API_KEY, call, startTestServer, type TestServer } from '../helpers/server.ts';
import { deviceAuthorization, loginRow } from '../helpers/sync-wire.ts';

interface ErrorAnswer {
  errors: { code: string; reason: string; message: string }[];
}

interface PushedRequest {
  data: {
    sync: {
      requestId: string;
      server: { status: string; mpid: string | null; error: { code: string } | null } | null;
    };
  };
}
interface PushAnswer {
  conflicts: PushedRequest[];
  errors: { id: string; code: string; message: string }[];
}

const LONE_SURROGATES = ['dup\ud800', '\udc00tail', 'a\udbffb', 'x\ud83d'];
const CONTROLS = ['nul\u0000', '\u0000', 'bell\u0007', 'esc\u001b[31m', 'del\u007f'];
/** Text people really write: right-to-left, zero-width, combining marks, emoji sequences. */
const UNUSUAL_BUT_VALID = [
  '\u202eevil\u202c',
  'zero\u200bwidth\u200d',
  'שלום-عربى',
  'e\u0301te\u0301',
  '👩‍👩‍👧‍👦',
  '🇫🇷\ufe0f',
  'tab\tinside',
];

function eventDoc(id: string, requestId: string, at: unknown, name = 'viewed') {
  return { newDocumentState: { id, requestId, type: 'event', name, data: { page: 1 }, at } };
}

function suite(name: string, start: () => Promise<{ server: TestServer; close: () => Promise<void> }>) {
  describe(name, () => {
    let t: TestServer;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const started = await start();
      t = started.server;
      close = started.close;
    });
    afterAll(async () => close());

    const login = (value: string, route = '/v1/login') =>
      call<ErrorAnswer & { mpid: string }>(t.url, route, {
        environment: 'production',
        known_identities: { customerid: value },
      });

    async function register(id: string, extra: Record<string, unknown> = {}) {
      return call<{ device_id: string; device_secret: string } & ErrorAnswer>(t.url, '/sync/v1/devices', {
        device_id: id,
        name: id,
        device_application_stamp: `das-${id}`,
        ...extra,
      });
    }

    it('[HV-1] an identity value with a lone surrogate is refused, every time, on every route', async () => {
      for (const value of LONE_SURROGATES) {
        for (const route of ['/v1/login', '/v1/login', '/v1/identify', '/v1/search']) {
          const answer = await login(value, route);
          expect([route, answer.status, answer.body.errors[0]?.reason]).toEqual([
            route,
            400,
            'INVALID_IDENTITY_VALUE',
          ]);
        }
      }
      const owner = await login('hv1-owner');
      const modify = await call<ErrorAnswer>(t.url, `/v1/${owner.body.mpid}/modify`, {
        environment: 'production',
        identity_changes: [{ identity_type: 'email', old_value: null, new_value: 'a\ud800@x.com' }],
      });
      expect([modify.status, modify.body.errors[0]?.reason]).toEqual([400, 'INVALID_IDENTITY_VALUE']);
    });

    it('[HV-2] NUL and other control characters in identity values are refused', async () => {
      for (const value of CONTROLS) {
        const answer = await login(value);
        expect([JSON.stringify(value), answer.status, answer.body.errors[0]?.reason]).toEqual([
          JSON.stringify(value),
          400,
          'INVALID_IDENTITY_VALUE',
        ]);
      }
      const search = await call<ErrorAnswer>(t.url, '/v1/search', {
        environment: 'production',
        known_identities: { email: 'x\u0000@y.z' },
      });
      expect([search.status, search.body.errors[0]?.reason]).toEqual([400, 'INVALID_IDENTITY_VALUE']);
    });

    it('[HV-3] right-to-left, zero-width, combining and emoji values are accepted and round-trip byte-exactly', async () => {
      for (const value of UNUSUAL_BUT_VALID) {
        const first = await login(value);
        const again = await login(value);
        const found = await login(value, '/v1/search');
        expect([first.status, again.status, found.status]).toEqual([200, 200, 200]);
        expect(again.body.mpid).toBe(first.body.mpid);
        expect(found.body.mpid).toBe(first.body.mpid);
        const detail = await admin<{ profile: { identities: Record<string, string[]> } }>(
          t.url,
          'GET',
          `/workspaces/default/profiles/${first.body.mpid}`,
        );
        const stored = detail.body.profile.identities['customerid'] ?? [];
        expect(stored.map((v) => Buffer.from(v, 'utf16le').toString('hex'))).toEqual([
          Buffer.from(value, 'utf16le').toString('hex'),
        ]);
      }
    });

    it('[HV-4] event times outside the safe millisecond range are per-document errors; the good events are stored', async () => {
      const credential = (await register('hv4')).body;
      const headers = deviceAuthorization(credential);
      const rows = [
        eventDoc('good-1', 'r1', 1_800_000_000_000),
        eventDoc('frac', 'r1', 1.5),
        eventDoc('huge', 'r1', 1e300),
        eventDoc('over-int64', 'r1', 9.3e18),
        eventDoc('negative', 'r1', -1),
        eventDoc('nul-name', 'r1', 5, 'view\u0000ed'),
        eventDoc('surrogate-name', 'r1', 5, 'view\udc00'),
        eventDoc('good-2', 'r1', 0),
      ];
      const answer = await call<PushAnswer>(t.url, '/sync/v1/events/push', { rows }, { headers });
      expect(answer.status).toBe(200);
      expect(answer.body.errors.map((e) => [e.id, e.code])).toEqual([
        ['frac', 'invalid'],
        ['huge', 'invalid'],
        ['over-int64', 'invalid'],
        ['negative', 'invalid'],
        ['nul-name', 'invalid'],
        ['surrogate-name', 'invalid'],
      ]);
      const exported = await admin<{ eventCounts: Record<string, number> }>(
        t.url,
        'GET',
        '/workspaces/default/export',
      );
      expect(exported.body.eventCounts['hv4']).toBe(2);
    });

    it('[HV-5] a device registration whose name or stamp holds NUL or a lone surrogate is refused', async () => {
      for (const extra of [
        { name: 'pad\u0000' },
        { device_application_stamp: 'das\u0000' },
        { name: 'pad\ud800' },
        { device_application_stamp: '\udfffdas' },
      ]) {
        const answer = await register('hv5', extra);
        expect([JSON.stringify(extra), answer.status, answer.body.errors[0]?.reason]).toEqual([
          JSON.stringify(extra),
          400,
          'VALIDATION_ERROR',
        ]);
      }
      expect((await register('hv5')).status).toBe(201);
    });

    it('[HV-2] admin input and token names and searched values are stored text too', async () => {
      const answers = [
        await admin<ErrorAnswer>(t.url, 'POST', '/workspaces/default/inputs', { name: 'web\u0000' }),
        await admin<ErrorAnswer>(t.url, 'POST', '/tokens', { name: 'ops\ud800' }),
        await admin<ErrorAnswer>(
          t.url,
          'GET',
          `/workspaces/default/profiles?identity_type=customerid&value=${encodeURIComponent('a\u0000')}`,
        ),
      ];
      expect(answers.map((a) => [a.status, a.body?.errors?.[0]?.reason])).toEqual([
        [400, 'VALIDATION_ERROR'],
        [400, 'VALIDATION_ERROR'],
        [400, 'VALIDATION_ERROR'],
      ]);
    });

    it('[HV-6] a push of [good, NUL, good] applies both good requests, records the bad one as failed, and the log moves on', async () => {
      const credential = (await register('hv6')).body;
      const headers = deviceAuthorization(credential);
      const rows = [
        loginRow('hv6', 1, 'hv6-one', 'hv6-a'),
        loginRow('hv6', 2, 'hv6-bad', 'hv6\u0000b'),
        loginRow('hv6', 3, 'hv6-three', 'hv6-c'),
      ];
      const verdicts = (answer: PushAnswer) =>
        answer.conflicts.map((c) => [
          c.data.sync.requestId,
          c.data.sync.server?.status,
          c.data.sync.server?.error?.code ?? null,
        ]);
      const first = await call<PushAnswer>(t.url, '/sync/v1/requests/push', { rows }, { headers });
      expect(first.status).toBe(200);
      expect(first.body.errors).toEqual([]);
      expect(verdicts(first.body)).toEqual([
        ['hv6-one', 'applied', null],
        ['hv6-bad', 'failed', 'INVALID_IDENTITY_VALUE'],
        ['hv6-three', 'applied', null],
      ]);
      for (const row of rows) {
        const again = await call<PushAnswer>(t.url, '/sync/v1/requests/push', { rows: [row] }, { headers });
        expect(again.status).toBe(200);
        expect(again.body.errors).toEqual([]);
        expect(again.body.conflicts).toEqual(
          first.body.conflicts.filter(
            (c) => c.data.sync.requestId === row.newDocumentState.data.sync.requestId,
          ),
        );
      }
      const replayAll = await call<PushAnswer>(t.url, '/sync/v1/requests/push', { rows }, { headers });
      expect(replayAll.body).toEqual(first.body);
      const next = await call<PushAnswer>(
        t.url,
        '/sync/v1/requests/push',
        { rows: [loginRow('hv6', 4, 'hv6-four', 'hv6-d')] },
        { headers },
      );
      expect(verdicts(next.body)).toEqual([['hv6-four', 'applied', null]]);
      const pulled = await call<{ documents: PushedRequest[] }>(
        t.url,
        '/sync/v1/requests/pull?seq=0',
        undefined,
        { method: 'GET', headers },
      );
      expect(pulled.body.documents.map((d) => d.data.sync.requestId)).toEqual([
        'hv6-one',
        'hv6-bad',
        'hv6-three',
        'hv6-four',
      ]);
    });

    it('[HV-7] a device refuses a hostile identity value itself, before anything is logged', async () => {
      const device = await openDevice({
        name: 'hv7',
        seed: 7,
        clock: { now: () => 1_800_000_000_000 },
        config: ScopeConfigSchema.parse(SYNC_CONFIG),
        endpoint: { baseUrl: t.url, apiKey: API_KEY },
      });
      try {
        for (const value of ['nul\u0000', 'lone\ud800']) {
          const answer = await device.engine.login({ customerid: value });
          expect(answer.ok ? null : answer.error.code).toBe('INVALID_IDENTITY_VALUE');
        }
        expect(await device.engine.requests()).toEqual([]);
      } finally {
        await device.close();
      }
    });
  });
}

suite('SQLite', async () => {
  const server = await startTestServer({ config: SYNC_CONFIG });
  return { server, close: () => server.close() };
});

describe.skipIf(pgSkipReason !== null)(
  `PostgreSQL ${pgSkipReason === null ? '' : `(skipped: ${pgSkipReason})`}`,
  () => {
    suite('on PostgreSQL', async () => {
      const schema = await createTestSchema();
      const server = await startTestServer({ config: SYNC_CONFIG, database: schema.url });
      return {
        server,
        async close() {
          await server.close();
          await schema.drop();
        },
      };
    });
  },
);
