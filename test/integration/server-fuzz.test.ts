/**
 * Hostile input over real HTTP (SPEC ER-3): a seeded generator sends thousands of malformed
 * requests — broken JSON, wrong types, oversize bodies, unknown identity types, prototype keys,
 * invalid MPIDs, SQL meta-characters, bad credentials. Every one must get a 4xx with the error body,
 * the server must stay up, and the database must be byte-for-byte what it was.
 * Reproduce a failure with FUZZ_SEED=<seed printed in the message>.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, type RandomSource } from '../../shared/util/random.ts';
import { API_KEY, startTestServer, type TestServer } from '../helpers/server.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261128);
const COUNT = 2400;

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

interface Hostile {
  readonly label: string;
  readonly path: string;
  readonly body: string | Buffer;
  readonly headers: Record<string, string>;
}

function pick<T>(random: RandomSource, items: readonly T[]): T {
  return items[random.nextUint32() % items.length] as T;
}

function junk(random: RandomSource, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String.fromCharCode(32 + (random.nextUint32() % 95));
  return out;
}

/** A request that is invalid in at least one way; `label` says which. */
function hostile(random: RandomSource): Hostile {
  const json = { 'content-type': 'application/json', 'x-mp-key': API_KEY };
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
    headers: Record<string, string> = json,
  ): Hostile => ({
    label,
    path,
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    headers,
  });
  switch (random.nextUint32() % 16) {
    case 0: {
      const text = JSON.stringify(valid());
      return make('truncated JSON', route(), text.slice(0, 1 + (random.nextUint32() % (text.length - 2))));
    }
    case 1:
      return make('random bytes', route(), junk(random, 1 + (random.nextUint32() % 200)));
    case 2:
      return make('wrong type for environment', route(), {
        ...valid(),
        environment: pick(random, [1, null, true, [], {}, 'prod']),
      });
    case 3:
      return make('wrong type for known_identities', route(), {
        environment: 'production',
        known_identities: pick(random, [1, 'x', [], null, true]),
      });
    case 4:
      return make('non-string identity value', route(), {
        environment: 'production',
        known_identities: { [pick(random, TYPE_KEYS)]: pick(random, [1, true, {}, [], 3.5]) },
      });
    case 5:
      return make('unknown identity type with SQL characters', route(), {
        environment: 'production',
        known_identities: { [sqlish()]: 'x' },
      });
    case 6:
      return make(
        '__proto__ key',
        route(),
        `{"environment":"production","known_identities":{"email":"a@x.com"},"__proto__":{"polluted":${random.nextUint32() % 9}}}`,
      );
    case 7:
      return make(
        'nested __proto__ identity key',
        route(),
        `{"environment":"production","known_identities":{"__proto__":{"email":"a@x.com"}}}`,
      );
    case 8:
      return make(
        'constructor.prototype key',
        route(),
        `{"environment":"production","known_identities":{"constructor":{"prototype":{"x":1}}}}`,
      );
    case 9:
      return make('invalid previous_mpid', route(), {
        ...valid(),
        previous_mpid: pick(random, ['0x1f', '01', '-0', '9223372036854775808', sqlish(), '1.5', ' 7']),
      });
    case 10:
      return make(
        'invalid MPID in the modify path',
        `/v1/${encodeURIComponent(pick(random, ['abc', '00', '1 OR 1=1', sqlish(), '-', '99999999999999999999']))}/modify`,
        {
          environment: 'production',
          identity_changes: [{ identity_type: 'email', old_value: null, new_value: 'x@y.z' }],
        },
      );
    case 11:
      return make('modify of an unknown profile', `/v1/${1 + (random.nextUint32() % 1_000_000)}/modify`, {
        environment: 'production',
        identity_changes: [{ identity_type: 'email', old_value: null, new_value: sqlish() }],
      });
    case 12:
      return make('oversize body', route(), {
        ...valid(),
        context: 'x'.repeat(70_000 + (random.nextUint32() % 10_000)),
      });
    case 13:
      return make('oversize identity value', route(), {
        environment: 'production',
        known_identities: { email: 'e'.repeat(1025 + (random.nextUint32() % 4000)) },
      });
    case 14:
      return make('bad credentials', route(), valid(), {
        'content-type': 'application/json',
        'x-mp-key': `us1-${junk(random, 8)}`,
      });
    default:
      return make('alias with invalid MPIDs', '/v1/alias', {
        environment: 'production',
        data: { source_mpid: sqlish(), destination_mpid: '0' },
      });
  }
}

function fileHash(file: string): string {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent';
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  for (let i = 0; i < 20; i++) {
    await fetch(`${t.url}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mp-key': API_KEY },
      body: JSON.stringify({
        environment: 'production',
        known_identities: { customerid: `seed-${i}`, email: `s${i}@x.com` },
      }),
    });
  }
});
afterAll(async () => t.close());

function snapshot(): { files: string[]; tables: string } {
  const db = new Database(t.databaseFile);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const tables = (
      db.prepare("select name from sqlite_master where type = 'table' order by name").all() as {
        name: string;
      }[]
    )
      .map(
        ({ name }) => `${name}:${JSON.stringify(db.prepare(`select * from "${name}" order by rowid`).all())}`,
      )
      .join('\n');
    return { files: [fileHash(t.databaseFile), fileHash(`${t.databaseFile}-wal`)], tables };
  } finally {
    db.close();
  }
}

describe('hostile requests', () => {
  it(`[ER-3] ${COUNT} seeded malformed requests all get a 4xx error body and change nothing (seed ${SEED})`, async () => {
    const before = snapshot();
    const random = seededRandom(SEED);
    const requests = Array.from({ length: COUNT }, () => hostile(random));
    const labels = new Map<string, number>();
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const index = next++;
        const request = requests[index] as Hostile;
        labels.set(request.label, (labels.get(request.label) ?? 0) + 1);
        const response = await fetch(`${t.url}${request.path}`, {
          method: 'POST',
          headers: request.headers,
          body: typeof request.body === 'string' ? request.body : new Uint8Array(request.body),
        });
        const text = await response.text();
        const context = `seed ${SEED}, request #${index} (${request.label}): ${response.status} ${text.slice(0, 200)}`;
        expect(response.status >= 400 && response.status < 500, context).toBe(true);
        const parsed = JSON.parse(text) as {
          errors?: { code: string; message: string }[];
          status_code?: number;
        };
        expect(parsed.errors?.[0]?.message, context).toEqual(expect.any(String));
        expect(parsed.status_code, context).toBe(response.status);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(labels.size, 'the generator produced every kind of hostile request').toBe(16);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const after = snapshot();
    expect(after.tables).toBe(before.tables);
    expect(after.files).toEqual(before.files);
  });
});
