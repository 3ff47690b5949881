/**
 * What the resolver's in-memory store holds per profile: populates it as the resolver benchmark
 * does (one creating login per profile), then drops one structure at a time (a full collection
 * after each) and reports each structure's share of the heap. Prints a table and one JSON line.
 *
 *   node scripts/bench.mjs resolver-heap --profiles 100000
 */
import { parseArgs } from 'node:util';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import { MemoryIdentityStore } from '../../shared/memory-store/memory-store.ts';
import { identityProgram } from '../../shared/resolver/identify.ts';
import { runInTransactionSync } from '../../shared/resolver/store-port.ts';
import { seededRandom } from '../../shared/util/random.ts';
import { SYNC_CONFIG } from '../helpers/scope-configs.ts';

const { values: args } = parseArgs({
  options: { profiles: { type: 'string', default: '100000' } },
});
const PROFILES = Number(args.profiles);

const config = ScopeConfigSchema.parse({ ...SYNC_CONFIG, scopeId: 'bench' });

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with --expose-gc (node scripts/bench.mjs resolver-heap)');
  collect();
  collect();
}

function heapMb(): number {
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

gc();
const empty = heapMb();
const store = new MemoryIdentityStore();
const random = seededRandom(99);
for (let k = 0; k < PROFILES; k++) {
  const body = {
    environment: 'production',
    request_id: `seed-${k}`,
    known_identities: {
      customerid: `c${k}`,
      email: `u${k}@example.com`,
      device_application_stamp: `das${k}`,
    },
  };
  const outcome = runInTransactionSync(store, () =>
    identityProgram('login', body, {
      config,
      random,
      now: 1_800_000_000_000 + k,
      actor: { kind: 'system', id: 'bench' },
    }),
  );
  if (!outcome.ok) throw new Error(outcome.error.error.message);
}
const full = heapMb();

/** The store's parts, reached past its privacy: this script only takes them apart. */
const parts = store as unknown as Record<string, unknown>;
const per100k = (mb: number) => (mb * 100_000) / PROFILES;
const shares: Record<string, number> = {};
let last = full;
function drop(label: string, clear: () => void): void {
  clear();
  const now = heapMb();
  shares[label] = per100k(last - now);
  last = now;
}
drop('storedRequests', () => (parts['requests'] = null));
drop('history', () => (parts['history'] = null));
drop('identityIndex', () => (parts['indexes'] = null));
drop('profiles', () => (parts['profiles'] = null));
drop('rest', () => {
  for (const key of Object.keys(parts)) parts[key] = null;
});
const total = per100k(full - empty);
console.log(`resolver memory store, ${PROFILES} profiles: ${total.toFixed(1)} MB per 100k profiles`);
for (const [label, mb] of Object.entries(shares)) {
  console.log(
    `  ${label.padEnd(16)} ${mb.toFixed(1).padStart(7)} MB  ${((mb * 1024 * 1024) / 100_000).toFixed(0).padStart(5)} B/profile`,
  );
}
console.log(JSON.stringify({ bench: 'resolver-heap', profiles: PROFILES, mbPer100k: total, shares }));
