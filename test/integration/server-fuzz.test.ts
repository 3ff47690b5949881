/**
 * Hostile input over real HTTP (SPEC ER-3, HV-1..HV-6), on SQLite and on PostgreSQL: a seeded
 * generator sends thousands of malformed requests — broken JSON, wrong types, oversize bodies,
 * unknown identity types, prototype keys, invalid MPIDs, SQL meta-characters, bad credentials, lone
 * surrogates, NUL and control characters, invalid UTF-8, numbers outside every numeric field's
 * range, and device registrations, pushes, pulls and searches carrying them. Each one must get the
 * error it is expected to get (status and precise code; per-document `invalid` for pushes), the
 * server must stay up, and the database must be byte-for-byte what it was. Text people really
 * write (right-to-left, zero-width, combining marks, emoji) must be accepted and round-trip exactly.
 * Reproduce a failure with FUZZ_SEED=<seed printed in the message>.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textProblem } from '../../shared/identity/text.ts';
import type { ErrorCode } from '../../shared/protocol/errors.ts';
import { seededRandom, type RandomSource } from '../../shared/util/random.ts';
import { createTestSchema, pgSkipReason } from '../helpers/postgres.ts';
import { admin, API_KEY, call, startTestServer, type TestServer } from '../helpers/server.ts';
import { requestDocument } from '../helpers/sync-wire.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261128);
const COUNT = 2400;
/** 2,400 requests take about 15 s on an idle 2-core machine; leave room for a loaded one. */
const FUZZ_TIMEOUT_MS = 180_000;
const ACCEPTED_COUNT = 40;

const SQL_BITS = [
  "'",
  '"',
  ';',
  '--',
  '/*',
  '*/',
  "' OR '1'='1",
  '%',
  '_',
  '\\',
  '\u0000',
  'DROP TABLE profiles',
  '$1',
  '`',
];
const TYPE_KEYS = ['customerid', 'email', 'ios_idfv', 'device_application_stamp'];
const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', '\ud83d'];
const CONTROLS = ['\u0000', '\u0001', '\u0007', '\u0008', '\u000b', '\u000c', '\u001b', '\u001f', '\u007f'];
/** Text people really write; every combination must be accepted and kept byte for byte. */
const UNUSUAL_BUT_VALID = [
  '\u202e',
  '\u202c',
  '\u200f',
  '\u200b',
  '\u200d',
  '\ufeff',
  '\u0301',
  'שלום',
  'عربى',
  '👩‍👩‍👧‍👦',
  '🇫🇷',
  '\ufe0f',
  '𝔘𝔫𝔦',
  '\t',
];
/** Numbers no numeric field of either API accepts. */
const BAD_NUMBERS = [1.5, 1e300, 9.3e18, -1, 2 ** 53, -9.3e18];
const DEVICE_ID = 'fuzz-device';

type Expected =
  | { readonly status: number; readonly reason: ErrorCode }
  /** A push answered 200 whose every document comes back as its own `invalid` error. */
  | { readonly status: 200; readonly invalidIds: readonly string[] };

interface Hostile {
  readonly label: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body: string | Buffer | null;
  readonly headers: Record<string, string>;
  readonly expected: Expected;
}

interface World {
  readonly seededMpids: readonly string[];
  readonly deviceHeaders: Record<string, string>;
}

function pick<T>(random: RandomSource, items: readonly T[]): T {
  return items[random.nextUint32() % items.length] as T;
}

function junk(random: RandomSource, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String.fromCharCode(32 + (random.nextUint32() % 95));
  return out;
}

/** A value that breaks the stored-text rule (HV-1, HV-2) somewhere inside ordinary text. */
function illFormed(random: RandomSource): string {
  const bad = pick(random, [...LONE_SURROGATES, ...CONTROLS]);
  const where = random.nextUint32() % 3;
  const text = junk(random, 1 + (random.nextUint32() % 8));
  return where === 0 ? `${bad}${text}` : where === 1 ? `${text}${bad}` : `${text}${bad}${text}`;
}

function unusual(random: RandomSource): string {
  let out = junk(random, 1 + (random.nextUint32() % 4));
  for (let i = 0, n = 1 + (random.nextUint32() % 4); i < n; i++) out += pick(random, UNUSUAL_BUT_VALID);
  return out;
}

/** Stands for JSON nested `depth` levels deep, spliced in as text (the client could not serialise it). */
const DEEP = '@deep@';

function nested(depth: number): string {
  return `${DEEP}${depth}`;
}

/** The body text, with each `nested(depth)` marker replaced by JSON that deep. */
function withDeepJson(body: unknown): string {
  return JSON.stringify(body).replace(
    new RegExp(`"${DEEP}(\\d+)"`, 'g'),
    (_, depth: string) => `${'{"v":'.repeat(Number(depth))}"leaf"${'}'.repeat(Number(depth))}`,
  );
}

function fault(status: number, reason: ErrorCode): Expected {
  return { status, reason };
}

/** A request that is invalid in at least one way; `label` says which, `expected` what it must get. */
function hostile(random: RandomSource, world: World): Hostile {
  const json = { 'content-type': 'application/json', 'x-mp-key': API_KEY };
  const device = { ...json, ...world.deviceHeaders };
  const sqlish = () => `${pick(random, SQL_BITS)}${junk(random, 3)}${pick(random, SQL_BITS)}`;
  const valid = () => ({
    environment: 'production',
    known_identities: { [pick(random, TYPE_KEYS)]: `v${random.nextUint32() % 50}` },
  });
  const route = () => pick(random, ['/v1/identify', '/v1/login', '/v1/logout', '/v1/search']);
  const make = (
    label: string,
    path: string,
    body: unknown,
    expected: Expected,
    headers: Record<string, string> = json,
  ): Hostile => ({
    label,
    method: 'POST',
    path,
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : withDeepJson(body),
    headers,
    expected,
  });
  const invalid = fault(400, 'VALIDATION_ERROR');
  const badValue = fault(400, 'INVALID_IDENTITY_VALUE');
  switch (random.nextUint32() % 26) {
    case 0: {
      const text = JSON.stringify(valid());
      return make(
        'truncated JSON',
        route(),
        text.slice(0, 1 + (random.nextUint32() % (text.length - 2))),
        invalid,
      );
    }
    case 1:
      return make('random bytes', route(), `#${junk(random, random.nextUint32() % 200)}`, invalid);
    case 2:
      return make(
        'wrong type for environment',
        route(),
        { ...valid(), environment: pick(random, [1, null, true, [], {}, 'prod']) },
        invalid,
      );
    case 3:
      return make(
        'wrong type for known_identities',
        route(),
        { environment: 'production', known_identities: pick(random, [1, 'x', [], null, true]) },
        invalid,
      );
    case 4:
      return make(
        'non-string identity value',
        route(),
        {
          environment: 'production',
          known_identities: { [pick(random, TYPE_KEYS)]: pick(random, [1, true, {}, [], 3.5]) },
        },
        badValue,
      );
    case 5:
      return make(
        'unknown identity type with SQL characters',
        route(),
        { environment: 'production', known_identities: { [sqlish()]: 'x' } },
        fault(400, 'UNKNOWN_IDENTITY_TYPE'),
      );
    case 6:
      return make(
        '__proto__ key',
        route(),
        `{"environment":"production","known_identities":{"email":"a@x.com"},"__proto__":{"polluted":${random.nextUint32() % 9}}}`,
        invalid,
      );
    case 7:
      return make(
        'nested __proto__ identity key',
        route(),
        `{"environment":"production","known_identities":{"__proto__":{"email":"a@x.com"}}}`,
        invalid,
      );
    case 8:
      return make(
        'constructor.prototype key',
        route(),
        `{"environment":"production","known_identities":{"constructor":{"prototype":{"x":1}}}}`,
        invalid,
      );
    case 9:
      return make(
        'invalid previous_mpid',
        route(),
        {
          ...valid(),
          previous_mpid: pick(random, [
            '0x1f',
            '01',
            '-0',
            '9223372036854775808',
            sqlish(),
            '1.5',
            ' 7',
            ...BAD_NUMBERS.filter((n) => n !== -1),
          ]),
        },
        fault(400, 'INVALID_MPID'),
      );
    case 10:
      return make(
        'invalid MPID in the modify path',
        `/v1/${encodeURIComponent(pick(random, ['abc', '00', '1 OR 1=1', sqlish(), '-', '99999999999999999999']))}/modify`,
        {
          environment: 'production',
          identity_changes: [{ identity_type: 'email', old_value: null, new_value: 'x@y.z' }],
        },
        fault(400, 'INVALID_MPID'),
      );
    case 11: {
      const value = sqlish();
      return make(
        'modify of an unknown profile',
        `/v1/${1 + (random.nextUint32() % 1_000_000)}/modify`,
        {
          environment: 'production',
          identity_changes: [{ identity_type: 'email', old_value: null, new_value: value }],
        },
        textProblem(value) === null ? fault(400, 'LOOKUP_ERROR') : badValue,
      );
    }
    case 12:
      return make(
        'oversize body',
        route(),
        { ...valid(), context: 'x'.repeat(70_000 + (random.nextUint32() % 10_000)) },
        fault(413, 'PAYLOAD_TOO_LARGE'),
      );
    case 13:
      return make(
        'oversize identity value',
        route(),
        {
          environment: 'production',
          known_identities: { email: 'e'.repeat(1025 + (random.nextUint32() % 4000)) },
        },
        badValue,
      );
    case 14:
      return make('bad credentials', route(), valid(), fault(401, 'UNAUTHORIZED'), {
        'content-type': 'application/json',
        'x-mp-key': `us1-${junk(random, 8)}`,
      });
    case 15:
      return make(
        'alias with invalid MPIDs',
        '/v1/alias',
        { environment: 'production', data: { source_mpid: sqlish(), destination_mpid: '0' } },
        fault(400, 'INVALID_MPID'),
      );
    case 16:
      return make(
        'identity value with a lone surrogate or a control character',
        route(),
        {
          environment: 'production',
          known_identities: { ...valid().known_identities, [pick(random, TYPE_KEYS)]: illFormed(random) },
        },
        badValue,
      );
    case 17:
      return make(
        'modify of a real profile to an ill-formed value',
        `/v1/${pick(random, world.seededMpids)}/modify`,
        {
          environment: 'production',
          identity_changes: [
            {
              identity_type: pick(random, ['email', 'customerid']),
              old_value: random.nextUint32() % 2 === 0 ? null : illFormed(random),
              new_value: illFormed(random),
            },
          ],
        },
        badValue,
      );
    case 18:
      return make(
        'out-of-range request_timestamp_ms',
        route(),
        { ...valid(), request_timestamp_ms: pick(random, BAD_NUMBERS) },
        invalid,
      );
    case 19:
      return make(
        'out-of-range alias time',
        '/v1/alias',
        {
          environment: 'production',
          data: {
            source_mpid: world.seededMpids[0],
            destination_mpid: world.seededMpids[1],
            [pick(random, ['start_unixtime_ms', 'end_unixtime_ms'])]: pick(random, BAD_NUMBERS),
          },
        },
        invalid,
      );
    case 20: {
      const bytes = pick(random, [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
      return make(
        'invalid UTF-8 in an identity value',
        route(),
        Buffer.concat([
          Buffer.from('{"environment":"production","known_identities":{"customerid":"x'),
          Buffer.from(bytes),
          Buffer.from('"}}'),
        ]),
        invalid,
      );
    }
    case 21: {
      const docs = Array.from({ length: 1 + (random.nextUint32() % 4) }, (_, i) => {
        const id = `bad-event-${i}`;
        const base = { id, requestId: 'r-1', type: 'event', name: 'viewed', data: { page: 1 }, at: 1000 };
        switch (random.nextUint32() % 5) {
          case 0:
            return { ...base, at: pick(random, BAD_NUMBERS) };
          case 1:
            return { ...base, name: illFormed(random) };
          case 2:
            return { ...base, data: { page: illFormed(random) } };
          case 3:
            return { ...base, data: { [illFormed(random)]: 1 } };
          default:
            return { ...base, data: nested(40 + (random.nextUint32() % 5000)) };
        }
      });
      return make(
        'device event push with ill-formed text, deep data or out-of-range times',
        '/sync/v1/events/push',
        { rows: docs.map((newDocumentState) => ({ newDocumentState })) },
        { status: 200, invalidIds: docs.map((d) => d.id) },
        device,
      );
    }
    case 22: {
      const seq = pick(random, [...BAD_NUMBERS, 0]);
      const deep = random.nextUint32() % 3 === 0;
      const requestId = `bad-seq-${random.nextUint32() % 1000}`;
      const doc = requestDocument({
        deviceId: DEVICE_ID,
        seq: deep ? 1 : seq,
        requestId,
        body: { known_identities: { customerid: requestId }, ...(deep ? { extra: nested(5000) } : {}) },
      });
      return make(
        'device request push with an out-of-range sequence or a deep body',
        '/sync/v1/requests/push',
        { rows: [{ newDocumentState: doc }] },
        { status: 200, invalidIds: [doc.id] },
        device,
      );
    }
    case 23:
      return make(
        'device registration with an ill-formed name or stamp',
        '/sync/v1/devices',
        {
          device_id: `fuzz-${random.nextUint32() % 1000}`,
          name: random.nextUint32() % 2 === 0 ? illFormed(random) : 'pad',
          device_application_stamp: random.nextUint32() % 2 === 0 ? illFormed(random) : '\u0000',
        },
        invalid,
      );
    case 24:
      return make(
        'device search with an ill-formed value',
        '/sync/v1/search',
        { environment: 'production', known_identities: { customerid: illFormed(random) } },
        badValue,
        device,
      );
    default: {
      const query = pick(random, [
        `seq=${pick(random, BAD_NUMBERS)}`,
        'seq=1e300',
        'limit=0',
        'limit=1e9',
        'seq=abc',
        'limit=-1',
      ]);
      return {
        label: 'device pull with an out-of-range checkpoint',
        method: 'GET',
        path: `/sync/v1/${pick(random, ['requests', 'profiles'])}/pull?${query}`,
        body: null,
        headers: { 'x-mp-key': API_KEY, ...world.deviceHeaders },
        expected: invalid,
      };
    }
  }
}

const KINDS = 26;

function fileHash(file: string): string {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent';
}

/** Every table's rows, in a stable order, and (SQLite) the hashes of the database files. */
type Snapshot = () => Promise<{ files: string[]; tables: string }>;

function sqliteSnapshot(t: TestServer): Snapshot {
  return async () => {
    const db = new Database(t.databaseFile);
    try {
      // A reader of the server (its checkpointer thread, a request) can keep the checkpoint from
      // emptying the WAL: ask again until it could, so both snapshots hash an emptied WAL.
      for (let attempt = 0; ; attempt++) {
        const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
        if (result?.busy === 0) break;
        if (attempt === 100) throw new Error('the WAL could not be checkpointed for the snapshot');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const tables = (
        db.prepare("select name from sqlite_master where type = 'table' order by name").all() as {
          name: string;
        }[]
      )
        .map(
          ({ name }) =>
            `${name}:${JSON.stringify(db.prepare(`select * from "${name}" order by rowid`).all())}`,
        )
        .join('\n');
      return {
        files: [fileHash(t.databaseFile), fileHash(`${t.databaseFile}-wal`)],
        tables,
      };
    } finally {
      db.close();
    }
  };
}

function postgresSnapshot(url: string): Snapshot {
  return async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows: tables } = await client.query<{ name: string }>(
        'select table_name as name from information_schema.tables where table_schema = current_schema() order by 1',
      );
      const dumps: string[] = [];
      for (const { name } of tables) {
        const { rows } = await client.query<{ row: string }>(
          `select row_to_json(t)::text as row from "${name}" t order by 1`,
        );
        dumps.push(`${name}:${rows.map((r) => r.row).join(',')}`);
      }
      return { files: [], tables: dumps.join('\n') };
    } finally {
      await client.end();
    }
  };
}

async function send(t: TestServer, request: Hostile): Promise<{ status: number; text: string }> {
  const response = await fetch(`${t.url}${request.path}`, {
    method: request.method,
    headers: request.headers,
    ...(request.body === null
      ? {}
      : { body: typeof request.body === 'string' ? request.body : new Uint8Array(request.body) }),
  });
  return { status: response.status, text: await response.text() };
}

/** Checks one answer against what the request must get; returns what differed, or null. */
function mismatch(request: Hostile, status: number, text: string): string | null {
  const expected = request.expected;
  if (status !== expected.status) return `status ${status}, expected ${expected.status}`;
  const body = JSON.parse(text) as {
    errors?: { id?: string; code: string; reason?: string; message: string }[];
    conflicts?: unknown[];
    status_code?: number;
  };
  if ('invalidIds' in expected) {
    const got = (body.errors ?? []).map((e) => `${e.id}:${e.code}`).join(' ');
    const want = expected.invalidIds.map((id) => `${id}:invalid`).join(' ');
    if (got !== want || (body.conflicts ?? []).length !== 0) return `push errors ${got}, expected ${want}`;
    return null;
  }
  const first = body.errors?.[0];
  if (first?.reason !== expected.reason) return `reason ${first?.reason}, expected ${expected.reason}`;
  if (typeof first.message !== 'string' || body.status_code !== status) return 'not the error body';
  return null;
}

function suite(
  name: string,
  start: () => Promise<{
    server: TestServer;
    snapshot: (t: TestServer) => Snapshot;
    close: () => Promise<void>;
  }>,
) {
  describe(name, () => {
    let t: TestServer;
    let snapshot: Snapshot;
    let close: () => Promise<void>;
    const world: { seededMpids: string[]; deviceHeaders: Record<string, string> } = {
      seededMpids: [],
      deviceHeaders: {},
    };
    beforeAll(async () => {
      const started = await start();
      t = started.server;
      snapshot = started.snapshot(t);
      close = started.close;
      for (let i = 0; i < 20; i++) {
        const login = await call<{ mpid: string }>(t.url, '/v1/login', {
          environment: 'production',
          known_identities: { customerid: `seed-${i}`, email: `s${i}@x.com` },
        });
        world.seededMpids.push(login.body.mpid);
      }
      const registered = await call<{ device_id: string; device_secret: string }>(t.url, '/sync/v1/devices', {
        device_id: DEVICE_ID,
        name: 'fuzz',
        device_application_stamp: 'das-fuzz',
      });
      world.deviceHeaders = {
        authorization: `Device ${registered.body.device_id}:${registered.body.device_secret}`,
      };
    });
    afterAll(async () => close());

    it(
      `[ER-3][HV-1][HV-2][HV-4][HV-5] ${COUNT} seeded hostile requests each get their exact error and change nothing (seed ${SEED})`,
      async () => {
        // The request log is written in batches (LS-6): both snapshots see everything answered so far.
        await t.server.flushRequestLog();
        const before = await snapshot();
        const random = seededRandom(SEED);
        const requests = Array.from({ length: COUNT }, () => hostile(random, world));
        const labels = new Map<string, number>();
        const failures: string[] = [];
        let next = 0;
        const worker = async () => {
          while (next < requests.length) {
            const index = next++;
            const request = requests[index] as Hostile;
            labels.set(request.label, (labels.get(request.label) ?? 0) + 1);
            const { status, text } = await send(t, request);
            const problem = mismatch(request, status, text);
            if (problem !== null)
              failures.push(
                `seed ${SEED}, request #${index} (${request.label}): ${problem}: ${text.slice(0, 200)}`,
              );
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
        expect(failures.slice(0, 10)).toEqual([]);
        expect(labels.size, 'the generator produced every kind of hostile request').toBe(KINDS);
        expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
        await t.server.flushRequestLog();
        const after = await snapshot();
        expect(after.tables).toBe(before.tables);
        expect(after.files).toEqual(before.files);
      },
      FUZZ_TIMEOUT_MS,
    );

    it(`[HV-3] ${ACCEPTED_COUNT} seeded right-to-left, zero-width and emoji values are accepted and round-trip byte-exactly (seed ${SEED})`, async () => {
      const random = seededRandom(SEED + 1);
      const hex = (text: string) => Buffer.from(text, 'utf16le').toString('hex');
      for (let i = 0; i < ACCEPTED_COUNT; i++) {
        const value = `${i}-${unusual(random)}`;
        const context = `seed ${SEED + 1}, value #${i} ${JSON.stringify(value)}`;
        const body = { environment: 'production', known_identities: { customerid: value } };
        const first = await call<{ mpid: string }>(t.url, '/v1/login', body);
        const again = await call<{ mpid: string }>(t.url, '/v1/login', body);
        const found = await call<{ mpid: string }>(t.url, '/v1/search', body);
        expect([first.status, again.status, found.status], context).toEqual([200, 200, 200]);
        expect([again.body.mpid, found.body.mpid], context).toEqual([first.body.mpid, first.body.mpid]);
        const detail = await admin<{ profile: { identities: Record<string, string[]> } }>(
          t.url,
          'GET',
          `/workspaces/default/profiles/${first.body.mpid}`,
        );
        expect((detail.body.profile.identities['customerid'] ?? []).map(hex), context).toEqual([hex(value)]);
      }
    });
  });
}

suite('hostile requests on SQLite', async () => {
  const server = await startTestServer();
  return { server, snapshot: sqliteSnapshot, close: () => server.close() };
});

describe.skipIf(pgSkipReason !== null)(
  `PostgreSQL ${pgSkipReason === null ? '' : `(skipped: ${pgSkipReason})`}`,
  () => {
    suite('hostile requests on PostgreSQL', async () => {
      const schema = await createTestSchema();
      const server = await startTestServer({ database: schema.url });
      return {
        server,
        snapshot: () => postgresSnapshot(schema.url),
        async close() {
          await server.close();
          await schema.drop();
        },
      };
    });
  },
);
