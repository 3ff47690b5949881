/**
 * Device benchmark (SPEC SY-11). Three measurements, each next to a floor taken in the same run:
 *
 * 1. Device identify latency on RxDB's memory storage (the engine resolving offline, writing the
 *    request log and the graph), next to a raw single-document RxDB insert.
 * 2. Server reconciliation: N devices, each having recorded offline an identify, E events and a
 *    login (real device engines), push their request logs and events over the sync API and pull
 *    their results and profiles, 16 devices at a time, against the server running as its own
 *    process on SQLite. Requests/s and events/s reconciled, and time until every device has its
 *    answers, next to raw inserts of the same rows into a SQLite file in the same batches.
 *    The same again over sync protocol v2: one `POST /sync/v2/round` per device (S2-9). Both report
 *    the server's CPU per device round (user + system of the server process, from /proc).
 *    The v2 rounds also report (SPEC DR-1) the server's CPU (its `process.cpuUsage`, read from
 *    /metrics) and the SQL statements it ran (`idsync_sql_statements_total`) per round, next to
 *    the same devices' empty rounds (nothing pushed, nothing changed since their checkpoint) as
 *    the floor, measured right after.
 * 3. End to end: another N devices converge through their own RxDB replication (`syncOnce`,
 *    reconcile included), four open at a time (RxDB's open-source collection limit).
 *
 *   npm run bench:devices -- [--devices 1000] [--events 20] [--concurrency 16] [--rounds-only] [--warm-up 1500] [--wal-pages]
 *
 * `--rounds-only` runs the v2 rounds and their floor alone (no device latency, v1 or end to end).
 * `--warm-up n` (default 1500; 0 for a cold server) has n other devices do their rounds first,
 * uncounted (SPEC DR-5): after 200 V8 was still compiling (about 1 ms of its platform threads per
 * round), after 1,500 it mostly was not.
 * `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"` profiles the server (summarise the profile
 * with `node scripts/cpuprofile-summary.mjs DIR/*.cpuprofile`); `BENCH_SERVER_STDOUT=FILE` keeps
 * what the server prints (e.g. with `BENCH_NODE_ARGS="--trace-opt --trace-gc"`).
 * The rounds also print each server thread's CPU per round (main thread, V8's platform threads,
 * SQLite's checkpointer). `--wal-pages` counts the WAL pages the rounds wrote per table and index
 * (a reader holds the log for the count, so that run's CPU figures are not comparable).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { startBenchServer } from './bench-server.ts';
import { startWalCount } from './wal-pages.ts';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import type { GraphDoc } from '../../shared/device/collections.ts';
import { progressBar } from '../../shared/util/progress.ts';
import { openDevice, type SimulatedDevice } from '../../simulator/devices.ts';
import {
  PushedRequestSchema,
  SYNC_PROTOCOL_HEADER,
  SYNC_PROTOCOL_VERSION,
} from '../../shared/protocol/sync.ts';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    events: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '16' },
    'rounds-only': { type: 'boolean', default: false },
    'warm-up': { type: 'string', default: '1500' },
    'wal-pages': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(
    'usage: npm run bench:devices -- [--devices n] [--events n] [--concurrency n] [--rounds-only] [--warm-up n]',
  );
  process.exit(0);
}
const DEVICES = Number(args.devices);
const EVENTS = Number(args.events);
const CONCURRENCY = Number(args.concurrency);
const WARM_UP = Number(args['warm-up']);
const KEY = 'us1-bench-devices';
const CONFIG_INPUT = {
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'device_application_stamp'],
  loginIdentities: ['customerid'],
  uniqueIdentities: ['customerid'],
} as const;
const CONFIG = ScopeConfigSchema.parse(CONFIG_INPUT);
const clock = { now: () => Date.now() };

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

/** 1. Identify latency on the device, and a raw insert as the floor. */
async function deviceLatency(url: string) {
  const device = await openDevice({
    name: 'latency',
    seed: 1,
    clock,
    config: CONFIG,
    endpoint: { baseUrl: url, apiKey: KEY },
  });
  const identify: number[] = [];
  const insert: number[] = [];
  for (let i = 0; i < 1500; i += 1) {
    const started = performance.now();
    const answer = await device.engine.identify({ email: `latency-${i}@example.com` });
    identify.push(performance.now() - started);
    if (!answer.ok) throw new Error(answer.error.message);
    const t = performance.now();
    await device.db.events.insert({
      id: `floor-${i}`,
      requestId: answer.value.requestId,
      type: 'event',
      name: 'floor',
      data: {},
      at: i,
    });
    insert.push(performance.now() - t);
  }
  await device.close();
  const measured = identify.slice(500).sort((a, b) => a - b);
  const floor = insert.slice(500).sort((a, b) => a - b);
  return {
    identifyP50: percentile(measured, 50),
    identifyP99: percentile(measured, 99),
    insertP50: percentile(floor, 50),
    insertP99: percentile(floor, 99),
  };
}

interface Prepared {
  /** Opens the device again from its database (the app restarting). */
  readonly reopen: () => Promise<SimulatedDevice>;
  readonly credential: { device_id: string; device_secret: string };
  readonly requests: GraphDoc[];
  readonly events: unknown[];
}

/** Devices record offline (real engines), then close; their data stays in the memory storage. */
async function prepare(url: string, prefix: string, label: string, count = DEVICES): Promise<Prepared[]> {
  // Seeded devices draw their request ids from the seed, so each set gets its own seeds.
  const seedBase = prefix.charCodeAt(0) * 10_000_000;
  const storage = getRxStorageMemory();
  const prepared: Prepared[] = [];
  const bar = progressBar(process.stderr, label, count);
  for (let d = 0; d < count; d += 1) {
    const device = await openDevice({
      name: `${prefix}${d}`,
      seed: seedBase + d,
      clock,
      config: CONFIG,
      storage,
      endpoint: { baseUrl: url, apiKey: KEY },
    });
    await device.sync.connect();
    await device.engine.identify({});
    for (let e = 0; e < EVENTS; e += 1) await device.engine.track(`event-${e}`, { n: e });
    await device.engine.login({ customerid: `${prefix}-customer-${d}` });
    const requests = (
      await device.db.graph
        .find({ selector: { kind: 'request' }, sort: [{ kind: 'asc' }, { seq: 'asc' }] })
        .exec()
    ).map((doc) => doc.toJSON() as GraphDoc);
    const events = (await device.db.events.find().exec()).map((doc) => doc.toJSON());
    const credential = (
      await device.db.getLocal<{ device_id: string; device_secret: string }>('credential')
    )?.toJSON().data;
    if (credential === undefined) throw new Error('the device did not register');
    await device.close();
    const reopen = () =>
      openDevice({
        name: device.name,
        seed: seedBase + 5_000_000 + d,
        clock,
        config: CONFIG,
        storage,
        databaseName: device.databaseName,
        endpoint: { baseUrl: url, apiKey: KEY },
      });
    prepared.push({ reopen, credential, requests, events });
    bar.update(d + 1);
  }
  bar.finish();
  return prepared;
}

/** One sync API call with a body serialised beforehand; the answer is parsed only when asked. */
async function send(
  url: string,
  route: string,
  credential: Prepared['credential'],
  body?: string,
  parse = false,
): Promise<unknown> {
  const response = await fetch(`${url}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      'x-mp-key': KEY,
      [SYNC_PROTOCOL_HEADER]: String(SYNC_PROTOCOL_VERSION),
      authorization: `Device ${credential.device_id}:${credential.device_secret}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body }),
  });
  if (response.status !== 200)
    throw new Error(`${route} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  if (parse) return await response.json();
  await response.arrayBuffer();
  return null;
}

/** CPU seconds a process has used so far (Linux /proc), to see which side a run is bound by. */
function cpuSeconds(pid: number, thread?: number): { user: number; system: number } {
  const file = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
  const fields = readFileSync(file, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** CPU ms (user + system) of each of the process's threads so far, by thread id. */
function threadCpu(pid: number): Map<string, number> {
  const threads = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    threads.set(tid, (Number(fields[11]) + Number(fields[12])) * 10);
  }
  return threads;
}

/**
 * Each server thread's CPU per round between two readings, busiest first, the main thread marked;
 * the others are V8's platform threads (JIT compilation, GC), SQLite's checkpointer and libuv's.
 */
function threadSplit(pid: number, before: Map<string, number>, after: Map<string, number>): string {
  return [...after]
    .map(([tid, ms]) => ({ main: tid === String(pid), ms: (ms - (before.get(tid) ?? 0)) / DEVICES }))
    .filter((t) => t.ms > 0)
    .sort((a, b) => b.ms - a.ms)
    .map((t) => `${round(t.ms, 3)}${t.main ? ' (main)' : ''}`)
    .join(', ');
}

function cpuSince(pid: number, before: { user: number; system: number }): string {
  const now = cpuSeconds(pid);
  return `${round(now.user - before.user)} s user + ${round(now.system - before.system)} s system`;
}

/** 2. The server reconciles every device's log and events; each device then pulls its answers. */
async function reconcileOverProtocol(url: string, devices: readonly Prepared[]) {
  const bodies = devices.map((device) => ({
    requests: JSON.stringify({ rows: device.requests.map((doc) => ({ newDocumentState: doc })) }),
    events: JSON.stringify({ rows: device.events.map((doc) => ({ newDocumentState: doc })) }),
  }));
  let next = 0;
  let applied = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < devices.length) {
      const index = next++;
      const device = devices[index] as Prepared;
      const body = bodies[index] as { requests: string; events: string };
      const pushed = (await send(url, '/sync/v1/requests/push', device.credential, body.requests, true)) as {
        conflicts: { data: { sync: { server: { status: string } | null } } }[];
        errors: unknown[];
      };
      if (pushed.errors.length > 0) throw new Error(`push errors: ${JSON.stringify(pushed.errors)}`);
      applied += pushed.conflicts.filter((c) => c.data.sync.server?.status === 'applied').length;
      await send(url, '/sync/v1/events/push', device.credential, body.events);
      await send(url, '/sync/v1/requests/pull?seq=0&limit=100', device.credential);
      await send(url, '/sync/v1/profiles/pull?seq=0&limit=100', device.credential);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const requests = devices.reduce((n, d) => n + d.requests.length, 0);
  const events = devices.reduce((n, d) => n + d.events.length, 0);
  if (applied !== requests) throw new Error(`only ${applied} of ${requests} requests were applied`);
  return { seconds, requestsPerSec: requests / seconds, eventsPerSec: events / seconds, requests, events };
}

/** 2b. The same reconciliation over v2: one round call per device. */
async function reconcileOverRound(url: string, devices: readonly Prepared[]) {
  const bodies = devices.map((device) =>
    JSON.stringify({
      checkpoint: { requests: 0, profiles: 0 },
      requests: device.requests.map((doc) => PushedRequestSchema.parse((doc.data as { sync: unknown }).sync)),
      events: device.events,
    }),
  );
  let next = 0;
  let applied = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < devices.length) {
      const index = next++;
      const device = devices[index] as Prepared;
      const answer = (await send(
        url,
        '/sync/v2/round',
        device.credential,
        bodies[index],
        true,
      )) as RoundAnswer;
      if (answer.requestErrors.length + answer.eventErrors.length > 0)
        throw new Error(`round errors: ${JSON.stringify(answer)}`);
      if (answer.profiles.length === 0) throw new Error('the round pulled no profile');
      if (answer.more) throw new Error('the round left changes to pull');
      applied += answer.results.filter((r) => r.server.status === 'applied').length;
      checkpoints[index] = answer.checkpoint;
    }
  };
  const checkpoints: unknown[] = devices.map(() => null);
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const requests = devices.reduce((n, d) => n + d.requests.length, 0);
  if (applied !== requests) throw new Error(`only ${applied} of ${requests} requests were applied`);
  return { seconds, requestsPerSec: requests / seconds, checkpoints };
}

interface RoundAnswer {
  results: { server: { status: string } }[];
  requestErrors: unknown[];
  eventErrors: unknown[];
  profiles: unknown[];
  checkpoint: unknown;
  more: boolean;
}

/** 2c. The floor of a round: each device syncs again with nothing to push and nothing changed. */
async function emptyRounds(url: string, devices: readonly Prepared[], checkpoints: readonly unknown[]) {
  let next = 0;
  const worker = async () => {
    while (next < devices.length) {
      const index = next++;
      const body = JSON.stringify({ checkpoint: checkpoints[index], requests: [], events: [] });
      const answer = (await send(
        url,
        '/sync/v2/round',
        (devices[index] as Prepared).credential,
        body,
        true,
      )) as RoundAnswer;
      if (answer.results.length + answer.profiles.length > 0)
        throw new Error('an empty round pulled changes');
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** The server's CPU (µs, its own process.cpuUsage) and SQL statements so far, from its /metrics. */
async function serverCounters(
  url: string,
  pid: number,
): Promise<{ cpuUs: number; statements: number; mainThreadMs: number }> {
  // The request log is written every 200 ms off the request path: let the last write land first.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const main = cpuSeconds(pid, pid);
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    cpuUs: (value('process_cpu_user_seconds_total') + value('process_cpu_system_seconds_total')) * 1e6,
    statements: value('idsync_sql_statements_total'),
    mainThreadMs: (main.user + main.system) * 1000,
  };
}

/** Per round: server CPU in ms and SQL statements, between two counter readings. */
function perRound(
  before: Awaited<ReturnType<typeof serverCounters>>,
  after: Awaited<ReturnType<typeof serverCounters>>,
  rounds: number,
) {
  return {
    cpuMs: round((after.cpuUs - before.cpuUs) / 1000 / rounds, 3),
    /** The event loop's thread alone (the rest: SQLite's checkpointer thread, GC helper threads). */
    mainThreadCpuMs: round((after.mainThreadMs - before.mainThreadMs) / rounds, 3),
    statements: round((after.statements - before.statements) / rounds, 1),
  };
}

/**
 * v2 rounds for fresh devices, then their empty rounds as the floor, counted on the server. Other
 * devices' rounds (`--warm-up`, not counted) come first, so the counts are of a server whose round
 * code is compiled, as on a server that syncs devices all day (SPEC DR-5).
 */
async function measureRounds(url: string, pid: number) {
  if (WARM_UP > 0) {
    const warmUp = await prepare(url, 'w', 'devices warming the server up', WARM_UP);
    const warmed = await reconcileOverRound(url, warmUp);
    await emptyRounds(url, warmUp, warmed.checkpoints);
  }
  const roundDevices = await prepare(url, 'r', 'devices recording offline (v2)');
  const wal = args['wal-pages'] ? startWalCount(path.join(dataDir, 'identity-sync.sqlite')) : null;
  const before = await serverCounters(url, pid);
  const threadsBefore = threadCpu(pid);
  const from = process.hrtime.bigint() / 1000n;
  const v2 = await reconcileOverRound(url, roundDevices);
  // V8 profiles time samples on the same monotonic clock: the window of the rounds in a profile.
  if ((process.env['BENCH_NODE_ARGS'] ?? '').includes('--cpu-prof'))
    console.log(
      `rounds ran from ${from} to ${process.hrtime.bigint() / 1000n} (--from/--to for cpuprofile-summary)`,
    );
  const afterRounds = await serverCounters(url, pid);
  console.log(
    `server threads, CPU ms per round, busiest first: ${threadSplit(pid, threadsBefore, threadCpu(pid))}`,
  );
  if (wal !== null) {
    const counted = wal.finish();
    console.log(
      `WAL of the rounds: ${counted.commits} commits, ${round(counted.frames / DEVICES)} pages per round; per round by B-tree: ${counted.byTree.map((t) => `${t.name} ${round(t.frames / DEVICES)}`).join(', ')}`,
    );
  }
  await emptyRounds(url, roundDevices, v2.checkpoints);
  const afterFloor = await serverCounters(url, pid);
  return {
    v2,
    round: perRound(before, afterRounds, DEVICES),
    floor: perRound(afterRounds, afterFloor, DEVICES),
  };
}

/** Server CPU milliseconds (user + system) since `before`, per device. */
function cpuMsPerDevice(pid: number, before: { user: number; system: number }, devices: number): number {
  const now = cpuSeconds(pid);
  return round(((now.user - before.user + now.system - before.system) * 1000) / devices, 3);
}

/** The floor: the same rows inserted raw into SQLite (WAL), one transaction per device and kind. */
function rawInsertFloor(dir: string, devices: readonly Prepared[]) {
  const db = new Database(path.join(dir, 'floor.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'create table requests (device_id text, seq integer, request_id text, doc text, primary key (device_id, seq))',
  );
  db.exec(
    'create table events (device_id text, id text, request_id text, name text, data text, at integer, primary key (device_id, id))',
  );
  const insertRequest = db.prepare('insert into requests values (?, ?, ?, ?)');
  const insertEvent = db.prepare('insert into events values (?, ?, ?, ?, ?, ?)');
  const requestBatch = db.transaction((device: Prepared) => {
    for (const doc of device.requests)
      insertRequest.run(device.credential.device_id, doc.seq, doc.key, JSON.stringify(doc));
  });
  const eventBatch = db.transaction((device: Prepared) => {
    for (const e of device.events as {
      id: string;
      requestId: string;
      name: string;
      data: unknown;
      at: number;
    }[]) {
      insertEvent.run(device.credential.device_id, e.id, e.requestId, e.name, JSON.stringify(e.data), e.at);
    }
  });
  const started = performance.now();
  for (const device of devices) {
    requestBatch(device);
    eventBatch(device);
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  const requests = devices.reduce((n, d) => n + d.requests.length, 0);
  const events = devices.reduce((n, d) => n + d.events.length, 0);
  return { seconds, requestsPerSec: requests / seconds, eventsPerSec: events / seconds };
}

/** 3. Devices converge through their own replication and reconciliation, four at a time. */
async function endToEnd(devices: readonly Prepared[]) {
  let next = 0;
  const bar = progressBar(process.stderr, 'devices syncing', devices.length);
  let done = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < devices.length) {
      const prepared = devices[next++] as Prepared;
      const device = await prepared.reopen();
      await device.sync.syncOnce();
      const requests = await device.engine.requests();
      if (!requests.every((r) => r.server?.status === 'applied'))
        throw new Error(
          `${device.name} did not converge: ${JSON.stringify(requests.map((r) => r.server?.error ?? r.server?.status ?? 'pending'))}`,
        );
      await device.close();
      done += 1;
      bar.update(done);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  bar.finish();
  return { seconds: (performance.now() - started) / 1000 };
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'idsync-bench-devices-'));
const server = await startBenchServer({ dataDir, config: CONFIG_INPUT, apiKey: KEY });
try {
  const roundsOnly = args['rounds-only'];
  const latency = roundsOnly ? null : await deviceLatency(server.url);
  if (latency !== null)
    console.log(
      `device identify (RxDB memory): p50 ${round(latency.identifyP50)} ms, p99 ${round(latency.identifyP99)} ms; floor (raw insert) p50 ${round(latency.insertP50)} ms, p99 ${round(latency.insertP99)} ms; ratio p50 ${round(latency.insertP50 / latency.identifyP50)}`,
    );
  let v1: { protocol: Awaited<ReturnType<typeof reconcileOverProtocol>>; cpuMs: number } | null = null;
  let floor: ReturnType<typeof rawInsertFloor> | null = null;
  if (!roundsOnly) {
    const first = await prepare(server.url, 'p', 'devices recording offline');
    const serverCpu = cpuSeconds(server.process.pid as number);
    const benchCpu = cpuSeconds(process.pid);
    const protocol = await reconcileOverProtocol(server.url, first);
    v1 = { protocol, cpuMs: cpuMsPerDevice(server.process.pid as number, serverCpu, DEVICES) };
    console.log(
      `cpu during reconciliation: server ${cpuSince(server.process.pid as number, serverCpu)}, devices/client ${cpuSince(process.pid, benchCpu)}`,
    );
    floor = rawInsertFloor(dataDir, first);
    console.log(
      `server reconciliation of ${DEVICES} devices (${protocol.requests} requests, ${protocol.events} events, ${CONCURRENCY} at a time): ${Math.round(protocol.requestsPerSec)} requests/s, ${Math.round(protocol.eventsPerSec)} events/s, converged in ${round(protocol.seconds)} s`,
    );
    console.log(
      `floor (raw SQLite inserts of the same rows): ${Math.round(floor.requestsPerSec)} requests/s, ${Math.round(floor.eventsPerSec)} events/s; ratio ${round(protocol.requestsPerSec / floor.requestsPerSec, 3)} / ${round(protocol.eventsPerSec / floor.eventsPerSec, 3)}`,
    );
  }
  const rounds = await measureRounds(server.url, server.process.pid as number);
  console.log(
    `server CPU per device round: ${v1 === null ? '' : `v1 (4 HTTP calls) ${v1.cpuMs} ms, `}v2 (1 HTTP call) ${rounds.round.cpuMs} ms (main thread ${rounds.round.mainThreadCpuMs} ms) and ${rounds.round.statements} SQL statements; floor (empty v2 round) ${rounds.floor.cpuMs} ms (main thread ${rounds.floor.mainThreadCpuMs} ms) and ${rounds.floor.statements} statements; ratio floor/round ${round(rounds.floor.cpuMs / rounds.round.cpuMs, 3)}; v2 ${Math.round(rounds.v2.requestsPerSec)} requests/s, converged in ${round(rounds.v2.seconds)} s`,
  );
  let e2e: { seconds: number } | null = null;
  if (!roundsOnly) {
    const second = await prepare(server.url, 'q', 'devices recording offline');
    e2e = await endToEnd(second);
    console.log(
      `end to end: ${DEVICES} devices converged through RxDB replication in ${round(e2e.seconds)} s (${Math.round((DEVICES * (EVENTS + 2)) / e2e.seconds)} requests+events/s)`,
    );
  }
  const maybe = (n: number | undefined, digits = 3) => (n === undefined ? null : round(n, digits));
  console.log(
    JSON.stringify({
      bench: 'devices',
      devices: DEVICES,
      warmUpDevices: WARM_UP,
      eventsPerDevice: EVENTS,
      identifyP50Ms: maybe(latency?.identifyP50),
      identifyP99Ms: maybe(latency?.identifyP99),
      insertFloorP50Ms: maybe(latency?.insertP50),
      requestsPerSec: maybe(v1?.protocol.requestsPerSec, 0),
      v1ServerCpuMsPerRound: v1?.cpuMs ?? null,
      v1HttpCallsPerRound: 4,
      v2ServerCpuMsPerRound: rounds.round.cpuMs,
      v2MainThreadCpuMsPerRound: rounds.round.mainThreadCpuMs,
      v2SqlStatementsPerRound: rounds.round.statements,
      emptyRoundServerCpuMs: rounds.floor.cpuMs,
      emptyRoundSqlStatements: rounds.floor.statements,
      floorToRoundCpuRatio: round(rounds.floor.cpuMs / rounds.round.cpuMs, 3),
      v2HttpCallsPerRound: 1,
      v2RequestsPerSec: Math.round(rounds.v2.requestsPerSec),
      eventsPerSec: maybe(v1?.protocol.eventsPerSec, 0),
      convergenceSec: maybe(v1?.protocol.seconds, 2),
      floorRequestsPerSec: maybe(floor?.requestsPerSec, 0),
      floorEventsPerSec: maybe(floor?.eventsPerSec, 0),
      endToEndSec: maybe(e2e?.seconds, 2),
    }),
  );
} finally {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
