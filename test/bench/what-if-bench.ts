/**
 * What-if replay benchmark (SPEC WI-*; issue 9: 100,000 recorded requests under 10 s): records a
 * SQLite workspace's log through the SQL store (users who browse, log in, log out and log in
 * again, each step naming the MPID it was answered) and its request log as the server writes it,
 * then times reading the log and replaying it (wall clock and this process's CPU)
 * under the same config (it must change nothing) and under profile isolation. Prints a table and
 * one JSON line for machines.
 *
 *   npm run bench:what-if                        100,000 requests
 *   npm run bench:what-if -- --requests 20000
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ServerKey } from '../../server/auth/secrets.ts';
import { openDatabase } from '../../server/db/connect.ts';
import { WorkspaceStore } from '../../server/db/workspace-store.ts';
import { SqlIdentityStore } from '../../server/db/sql-identity-store.ts';
import { apiLogRow, RequestLog } from '../../server/db/request-log.ts';
import { readWhatIfLog } from '../../server/db/what-if-log.ts';
import { replayWhatIf } from '../../server/what-if.ts';
import { ScopeConfigSchema, type ScopeConfig } from '../../shared/identity/scope-config.ts';
import { WhatIfRequestSchema } from '../../shared/protocol/what-if.ts';
import { identityProgram, type IdentityKind, type IdentityOutcome } from '../../shared/resolver/identify.ts';
import { seededRandom } from '../../shared/util/random.ts';
import { SYNC_CONFIG } from '../helpers/scope-configs.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run bench:what-if -- [--requests 100000]');
  process.exit(0);
}
const REQUESTS = Number(args.requests);
const STEPS_PER_USER = 4;
const CONCURRENT_USERS = 200;

const config: ScopeConfig = ScopeConfigSchema.parse({ ...SYNC_CONFIG, scopeId: 'bench' });

const BENCH_ACTOR = { kind: 'admin', id: 'bench' } as const;
const dir = mkdtempSync(path.join(tmpdir(), 'what-if-bench-'));
const handle = await openDatabase({ target: path.join(dir, 'bench.sqlite') });
try {
  const at = Date.now();
  const created = await new WorkspaceStore(handle, ServerKey.random(), () => at).create(config, BENCH_ACTOR);
  if (!created.ok) throw new Error(created.error.message);
  const store = new SqlIdentityStore(handle);
  /** The server's request log (LS-6), the record what-if replays, written as the server writes it. */
  const requestLog = new RequestLog(
    handle,
    { flushMs: 1_000, flushRows: 5_000, retainRows: REQUESTS },
    (error) => {
      throw error;
    },
  );
  const random = seededRandom(9);
  let clock = at;

  /** One user's session: browse, log in, log out, log in again, each naming the last answer. */
  async function session(user: number): Promise<void> {
    const das = `das-${user}`;
    const steps: [IdentityKind, Record<string, string>][] = [
      ['identify', { device_application_stamp: das }],
      [
        'login',
        { customerid: `c${user % Math.max(1, Math.floor(REQUESTS / 10))}`, device_application_stamp: das },
      ],
      ['logout', { device_application_stamp: das }],
      [
        'login',
        { customerid: `c${user % Math.max(1, Math.floor(REQUESTS / 10))}`, device_application_stamp: das },
      ],
    ];
    let previous: string | null = null;
    for (const [kind, identities] of steps) {
      const body: Record<string, unknown> = {
        environment: 'production',
        known_identities: identities,
        ...(previous === null ? {} : { previous_mpid: previous }),
      };
      const outcome: IdentityOutcome | null = await store.runProgram('bench', (c) =>
        identityProgram(kind, body, { config: c, random, now: ++clock, actor: { kind: 'app', id: 'bench' } }),
      );
      if (outcome === null || !outcome.ok) throw new Error(`recording failed at user ${user}`);
      const { requestId, trace } = outcome.value;
      requestLog.append(apiLogRow({ workspaceId: 'bench', at: clock, requestId, kind, body, trace }));
      previous = outcome.value.response.mpid;
    }
  }

  const users = Math.ceil(REQUESTS / STEPS_PER_USER);
  const recordStart = performance.now();
  for (let first = 0; first < users; first += CONCURRENT_USERS) {
    const batch = Array.from({ length: Math.min(CONCURRENT_USERS, users - first) }, (_, i) =>
      session(first + i),
    );
    await Promise.all(batch);
  }
  await requestLog.close();
  const recordMs = performance.now() - recordStart;

  const measure = async (strategy: ScopeConfig['strategy']) => {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const log = await readWhatIfLog(handle.db, 'bench', undefined);
    const readMs = performance.now() - start;
    const readCpu = process.cpuUsage(cpuStart);
    const result = replayWhatIf(log, {
      workspace: 'bench',
      config: { ...config, strategy },
      request: WhatIfRequestSchema.parse({ config: null, limit: 1_000_000 }),
      random: seededRandom(1),
    });
    const totalMs = performance.now() - start;
    const totalCpu = process.cpuUsage(cpuStart);
    const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
    return {
      strategy,
      readMs,
      totalMs,
      readCpuMs: cpuMs(readCpu),
      totalCpuMs: cpuMs(totalCpu),
      summary: result.summary,
    };
  };
  const same = await measure('profile_conversion');
  if (same.summary.replayed !== users * STEPS_PER_USER)
    throw new Error(`replayed ${same.summary.replayed} of ${users * STEPS_PER_USER} recorded requests`);
  if (same.summary.outcomesChanged !== 0)
    throw new Error('the same config changed outcomes: replay is not faithful');
  const other = await measure('profile_isolation');

  const rows = [same, other].map((m) => ({
    strategy: m.strategy,
    replayed: m.summary.replayed,
    changed: m.summary.outcomesChanged,
    read_ms: Math.round(m.readMs),
    total_ms: Math.round(m.totalMs),
    read_cpu_ms: Math.round(m.readCpuMs),
    total_cpu_ms: Math.round(m.totalCpuMs),
    per_second: Math.round(m.summary.replayed / (m.totalMs / 1000)),
  }));
  console.log(`recorded ${users * STEPS_PER_USER} requests in ${Math.round(recordMs)} ms`);
  console.table(rows);
  console.log(JSON.stringify({ bench: 'what-if', store: 'sqlite', requests: users * STEPS_PER_USER, rows }));
} finally {
  await handle.close();
  rmSync(dir, { recursive: true, force: true });
}
