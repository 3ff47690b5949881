/**
 * SQLite identify at the store, without HTTP (SPEC HP-6): this process's CPU and SQL statements per
 * returning-user identify run through `SqlIdentityStore.runProgram` on a file, with 16 callers at a
 * time (as the server bench's 16 connections share the group commit), exact last-seen. The users
 * are logged in, each identified once (so the measured ones are answered as on a warm server),
 * then identified again in a fixed shuffled order. Steadier than the HTTP bench on a shared machine:
 * no client, no sockets, one process. Prints one JSON line.
 *
 *   node scripts/bench.mjs identify-store [--profiles 3000] [--identifies 30000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../../server/db/connect.ts';
import { SqlIdentityStore } from '../../server/db/sql-identity-store.ts';
import { identityProgram } from '../../shared/resolver/identify.ts';
import { seededRandom } from '../../shared/util/random.ts';
import { SYNC_CONFIG } from '../helpers/scope-configs.ts';
import { createTestWorkspace } from '../helpers/workspaces.ts';

const { values: args } = parseArgs({
  options: {
    profiles: { type: 'string', default: '3000' },
    identifies: { type: 'string', default: '30000' },
  },
});
const PROFILES = Number(args.profiles);
const IDENTIFIES = Number(args.identifies);
const CALLERS = 16;
const ACTOR = { kind: 'app' as const, id: 'bench' };

const dir = mkdtempSync(path.join(tmpdir(), 'identify-store-'));
const handle = await openDatabase({ target: path.join(dir, 'idsync.db') });
if (handle.dialect !== 'sqlite') throw new Error('SQLite only');
const sqlite = handle.sqlite;
await createTestWorkspace(handle, { ...SYNC_CONFIG, scopeId: 'ws1' });
const store = new SqlIdentityStore(handle);

let seed = 0;
let now = 1_000;
function resolve(kind: 'identify' | 'login', k: number) {
  const known: Record<string, string> = { customerid: `c${k}`, device_application_stamp: `das${k}` };
  if (kind === 'login') known['email'] = `u${k}@example.com`;
  return store.runProgram('ws1', (config) =>
    identityProgram(
      kind,
      { environment: 'production', known_identities: known },
      { config, random: seededRandom(++seed), actor: ACTOR, now: ++now },
    ),
  );
}

/** `total` calls by `CALLERS` callers at a time; identifies visit users in a fixed shuffled order. */
async function drive(kind: 'identify' | 'login', total: number): Promise<void> {
  let n = 0;
  const caller = async () => {
    while (n < total) {
      const i = n++;
      await resolve(kind, kind === 'login' ? i : (i * 7919) % PROFILES);
    }
  };
  await Promise.all(Array.from({ length: CALLERS }, caller));
}

await drive('login', PROFILES);
await drive('identify', PROFILES);
const statementsBefore = sqlite.statements;
const cpuBefore = process.cpuUsage();
const loadBefore = loadavg()[0] ?? 0;
await drive('identify', IDENTIFIES);
const cpu = process.cpuUsage(cpuBefore);
console.log(
  JSON.stringify({
    bench: 'identify-store',
    profiles: PROFILES,
    identifies: IDENTIFIES,
    callers: CALLERS,
    cpuUsPerIdentify: Number(((cpu.user + cpu.system) / IDENTIFIES).toFixed(1)),
    statementsPerIdentify: Number(((sqlite.statements - statementsBefore) / IDENTIFIES).toFixed(2)),
    load: [Number(loadBefore.toFixed(2)), Number((loadavg()[0] ?? 0).toFixed(2))],
  }),
);
await handle.close();
rmSync(dir, { recursive: true, force: true });
