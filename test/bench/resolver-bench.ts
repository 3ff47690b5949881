/**
 * Resolver benchmark: identify and login throughput on the in-memory store at 10k, 100k and 1M
 * profiles, next to a floor measured in the same run — a hand-written loop doing the same
 * identifier lookups (and the same inserts of new identifiers) in plain Maps, with no
 * eligibility, no trace, no history, holding the same population. The heap figure is the
 * resolver's store alone (measured before the floor is built). Prints a table and one JSON line.
 *
 *   npm run bench                   all sizes
 *   npm run bench -- --sizes 10000  chosen sizes
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { ScopeConfigSchema, type ScopeConfig } from '../../shared/identity/scope-config.ts';
import { MemoryIdentityStore } from '../../shared/memory-store/memory-store.ts';
import type { ResolveOptions } from '../../shared/resolver/context.ts';
import { identityProgram, type IdentityKind } from '../../shared/resolver/identify.ts';
import { runInTransactionSync } from '../../shared/resolver/store-port.ts';
import { seededRandom } from '../../shared/util/random.ts';
import { SYNC_CONFIG } from '../helpers/scope-configs.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    ops: { type: 'string', default: '100000' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run bench -- [--sizes 10000,100000,1000000] [--ops 100000]');
  process.exit(0);
}
const sizes = args.sizes.split(',').map(Number);
const OPS = Number(args.ops);

const config: ScopeConfig = ScopeConfigSchema.parse({ ...SYNC_CONFIG, scopeId: 'bench' });
const PRIORITY = config.identityPriority;

type Identities = Record<string, string>;
interface Request {
  readonly kind: IdentityKind;
  readonly identities: Identities;
}

/** Returning users on their device (90%) and new devices (10%). */
function identifyWorkload(population: number, count: number, seed: number): Request[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const k = random.nextUint32() % population;
    return random.nextUint32() % 10 === 0
      ? { kind: 'identify', identities: { device_application_stamp: `new-das-${seed}-${i}` } }
      : { kind: 'identify', identities: { customerid: `c${k}`, device_application_stamp: `das${k}` } };
  });
}

/** Known users logging in on a new device: the device ID is written back to their profile. */
function loginWorkload(population: number, count: number, seed: number): Request[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const k = random.nextUint32() % population;
    return {
      kind: 'login',
      identities: {
        customerid: `c${k}`,
        email: `u${k}@example.com`,
        device_application_stamp: `login-das-${seed}-${i}`,
      },
    };
  });
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

class Resolving {
  readonly store: MemoryIdentityStore;
  constructor(keepTraces = true) {
    this.store = new MemoryIdentityStore({ keepTraces });
  }
  private readonly random = seededRandom(99);
  private now = 1_800_000_000_000;

  run(request: Request, requestId: string): void {
    const options: ResolveOptions = {
      config,
      random: this.random,
      now: this.now++,
      actor: { kind: 'system', id: 'bench' },
    };
    const body = { environment: 'production', request_id: requestId, known_identities: request.identities };
    const outcome = runInTransactionSync(this.store, () => identityProgram(request.kind, body, options));
    if (!outcome.ok) throw new Error(outcome.error.error.message);
  }
}

/** The floor: the same lookups by priority in one Map, inserting identifiers the request adds. */
class Floor {
  private readonly index = new Map<string, number>();
  private next = 1;

  run(request: Request): number {
    let found = 0;
    for (const type of PRIORITY) {
      const value = request.identities[type];
      if (value === undefined) continue;
      const hit = this.index.get(`bench\u0001production\u0001${type}\u0001${value}`);
      if (hit !== undefined) {
        found = hit;
        break;
      }
    }
    const mpid = found === 0 ? this.next++ : found;
    for (const type of PRIORITY) {
      const value = request.identities[type];
      if (value === undefined) continue;
      const key = `bench\u0001production\u0001${type}\u0001${value}`;
      if (!this.index.has(key)) this.index.set(key, mpid);
    }
    return mpid;
  }
}

interface Throughput {
  readonly opsPerSec: number;
  /** This process's CPU (user + system, process.cpuUsage) per operation: what load on the machine inflates least. */
  readonly cpuUsPerOp: number;
}

function throughput(requests: readonly Request[], run: (r: Request, i: number) => void): Throughput {
  const start = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < requests.length; i++) run(requests[i] as Request, i);
  const used = process.cpuUsage(cpu);
  return {
    opsPerSec: requests.length / ((performance.now() - start) / 1000),
    cpuUsPerOp: (used.user + used.system) / requests.length,
  };
}

function latencies(
  requests: readonly Request[],
  run: (r: Request, i: number) => void,
): { p50: number; p99: number } {
  const samples = new Float64Array(requests.length);
  for (let i = 0; i < requests.length; i++) {
    const start = performance.now();
    run(requests[i] as Request, i);
    samples[i] = performance.now() - start;
  }
  samples.sort();
  const at = (q: number) =>
    (samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0) * 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

function progress(label: string, done: number, total: number): void {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  if (done === total) process.stderr.write('\n');
}

interface Row {
  profiles: number;
  identifyOpsPerSec: number;
  identifyFloorOpsPerSec: number;
  identifyRatio: number;
  identifyCpuUsPerOp: number;
  identifyFloorCpuUsPerOp: number;
  /** Floor CPU per op / resolver CPU per op: the ratio with the machine's load taken out. */
  identifyCpuRatio: number;
  identifyP50Us: number;
  identifyP99Us: number;
  loginOpsPerSec: number;
  loginFloorOpsPerSec: number;
  loginRatio: number;
  loginCpuUsPerOp: number;
  loginFloorCpuUsPerOp: number;
  loginCpuRatio: number;
  loginP50Us: number;
  loginP99Us: number;
  heapMbPer100k: number;
  /** The same population in a store that keeps no traces (LS-9, as the what-if replay runs). */
  heapMbPer100kWithoutTraces: number;
}

function measure(population: number): Row {
  const seed = (k: number): Request => ({
    kind: 'login',
    identities: { customerid: `c${k}`, email: `u${k}@example.com`, device_application_stamp: `das${k}` },
  });
  // The resolver's heap is measured before the floor exists, so it holds nothing of the floor's map.
  const populated = (keepTraces: boolean) => {
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const store = new Resolving(keepTraces);
    const chunk = Math.max(1, Math.floor(population / 50));
    for (let k = 0; k < population; k++) {
      store.run(seed(k), `seed-${k}`);
      if (k % chunk === 0 || k === population - 1) progress(`populating ${population}`, k + 1, population);
    }
    gc();
    const mb = ((process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024) * (100_000 / population);
    return { store, mb };
  };
  const heapMbPer100kWithoutTraces = populated(false).mb;
  const { store: resolving, mb: heapMbPer100k } = populated(true);
  // The floor holds the same population: neither side has a smaller working set to keep in cache.
  const floor = new Floor();
  for (let k = 0; k < population; k++) floor.run(seed(k));

  const identify = identifyWorkload(population, OPS, 1);
  const login = loginWorkload(population, OPS, 2);
  // Warm both paths, then alternate floor and resolver so neither profits from a quieter moment.
  const warm = identifyWorkload(population, 5000, 3);
  throughput(warm, (r, i) => resolving.run(r, `warm-${i}`));
  throughput(warm, (r) => floor.run(r));
  const identifyFloor = throughput(identify, (r) => floor.run(r));
  const identifyOps = throughput(identify, (r, i) => resolving.run(r, `id-${i}`));
  const loginFloor = throughput(login, (r) => floor.run(r));
  const loginOps = throughput(login, (r, i) => resolving.run(r, `li-${i}`));
  const identifyLatency = latencies(identifyWorkload(population, 20_000, 4), (r, i) =>
    resolving.run(r, `idl-${i}`),
  );
  const loginLatency = latencies(loginWorkload(population, 20_000, 5), (r, i) =>
    resolving.run(r, `lil-${i}`),
  );
  return {
    profiles: population,
    identifyOpsPerSec: Math.round(identifyOps.opsPerSec),
    identifyFloorOpsPerSec: Math.round(identifyFloor.opsPerSec),
    identifyRatio: identifyOps.opsPerSec / identifyFloor.opsPerSec,
    identifyCpuUsPerOp: identifyOps.cpuUsPerOp,
    identifyFloorCpuUsPerOp: identifyFloor.cpuUsPerOp,
    identifyCpuRatio: identifyFloor.cpuUsPerOp / identifyOps.cpuUsPerOp,
    identifyP50Us: identifyLatency.p50,
    identifyP99Us: identifyLatency.p99,
    loginOpsPerSec: Math.round(loginOps.opsPerSec),
    loginFloorOpsPerSec: Math.round(loginFloor.opsPerSec),
    loginRatio: loginOps.opsPerSec / loginFloor.opsPerSec,
    loginCpuUsPerOp: loginOps.cpuUsPerOp,
    loginFloorCpuUsPerOp: loginFloor.cpuUsPerOp,
    loginCpuRatio: loginFloor.cpuUsPerOp / loginOps.cpuUsPerOp,
    loginP50Us: loginLatency.p50,
    loginP99Us: loginLatency.p99,
    heapMbPer100k,
    heapMbPer100kWithoutTraces,
  };
}

const rows: Row[] = [];
for (const size of sizes) rows.push(measure(size));

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
console.log(
  '\nresolver on the in-memory store (ops/s; floor = plain-Map lookups + inserts of the same requests)',
);
console.log(
  'profiles   | identify ops/s  floor ops/s  ratio  p50 µs  p99 µs | login ops/s  floor ops/s  ratio  p50 µs  p99 µs | heap MB/100k (no traces)',
);
const cpuLines: string[] = [];
for (const r of rows) {
  console.log(
    `${fmt(r.profiles).padStart(10)} | ${fmt(r.identifyOpsPerSec).padStart(14)} ${fmt(r.identifyFloorOpsPerSec).padStart(12)} ${fmt(r.identifyRatio, 2).padStart(6)} ${fmt(r.identifyP50Us, 1).padStart(7)} ${fmt(r.identifyP99Us, 1).padStart(7)} |` +
      ` ${fmt(r.loginOpsPerSec).padStart(11)} ${fmt(r.loginFloorOpsPerSec).padStart(12)} ${fmt(r.loginRatio, 2).padStart(6)} ${fmt(r.loginP50Us, 1).padStart(7)} ${fmt(r.loginP99Us, 1).padStart(7)} | ${fmt(r.heapMbPer100k, 1).padStart(12)} (${fmt(r.heapMbPer100kWithoutTraces, 1)})`,
  );
  cpuLines.push(
    `${fmt(r.profiles).padStart(10)} | identify ${fmt(r.identifyCpuUsPerOp, 1)} µs (floor ${fmt(r.identifyFloorCpuUsPerOp, 1)}) ratio ${fmt(r.identifyCpuRatio, 2)} | login ${fmt(r.loginCpuUsPerOp, 1)} µs (floor ${fmt(r.loginFloorCpuUsPerOp, 1)}) ratio ${fmt(r.loginCpuRatio, 2)}`,
  );
}
console.log('CPU per operation (process.cpuUsage), ratio = floor / resolver:');
for (const line of cpuLines) console.log(line);
const first = rows[0];
const last = rows[rows.length - 1];
const flatness =
  first === undefined || last === undefined
    ? null
    : {
        identify: last.identifyOpsPerSec / first.identifyOpsPerSec,
        login: last.loginOpsPerSec / first.loginOpsPerSec,
      };
if (flatness !== null) {
  console.log(
    `flatness ${fmt(first?.profiles ?? 0)} → ${fmt(last?.profiles ?? 0)}: identify ×${fmt(flatness.identify, 2)}, login ×${fmt(flatness.login, 2)} (target ≥ 0.50); identify ratio target ≥ 0.4 (issue 10), heap ≤ 150 MB per 100k`,
  );
}
console.log(JSON.stringify({ bench: 'resolver', store: 'memory', ops: OPS, rows, flatness }));
