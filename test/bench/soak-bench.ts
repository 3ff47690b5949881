/**
 * Soak benchmark (issue 8): the `npm start` server as its own process on loopback, under mixed
 * traffic for a fixed time (60 s by default) — IDSync identify/login/logout/modify/search callers
 * with a bounded concurrency, simulated devices (the real device engine) recording identity calls
 * and events and syncing, and server-sent event streams held open throughout. Reports calls,
 * errors and p50/p95/p99 latency per kind, throughput next to a no-op floor (GET /healthz, same
 * client and concurrency, same run), server CPU, and server RSS sampled every second: at the end
 * of the warm-up, at the end, and its least-squares slope after the warm-up. RSS alone cannot
 * tell a leak from garbage V8 has not collected yet (in a minute it often runs no full collection
 * at all), so the server's live heap is also taken from a heap snapshot (which collects first)
 * just before and just after the soak. Prints a table and one JSON line; exits 1 when any call
 * failed, or the RSS slope or the live-heap growth is over its limit.
 *
 *   npm run bench:soak                       SQLite (and PostgreSQL when IDSYNC_TEST_PG_URL is set)
 *   npm run bench:soak -- --seconds 20 --pg
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { progressBar } from '../../shared/util/progress.ts';
import { postgresSchema, startBenchServer } from './bench-server.ts';
import {
  CONFIG_INPUT,
  holdStream,
  idsyncCallers,
  KEY,
  noopFloor,
  openFleet,
  populate,
  type StreamCounts,
} from './soak-load.ts';
import {
  heapSnapshotFlags,
  liveHeapMb,
  Recorder,
  sampleProcesses,
  slope,
  type KindSummary,
  type Sample,
} from './soak-stats.ts';

const USAGE = `usage: npm run bench:soak -- [options]
  --seconds <s>         length of the soak                                   [60]
  --warmup <s>          seconds before RSS is expected to be flat            [15]
  --concurrency <n>     IDSync callers, one request in flight each           [8]
  --devices <n>         simulated devices (the device engine, RxDB memory);
                        at most 4 (RxDB's open-source collection limit)      [4]
  --streams <n>         server-sent event streams held open (by devices)     [2]
  --profiles <n>        people the IDSync callers draw from                  [2000]
  --events <n>          events a device records per cycle                    [5]
  --pause <ms>          pause between a device's cycles                      [200]
  --max-rss-slope <MB>  largest accepted server RSS slope after the warm-up,
                        in MB per minute                                     [64]
  --max-heap-growth <MB>  largest accepted growth of the server's live heap
                        (after a full GC) from before to after the soak, MB/min [2]
  --pg                  also run on PostgreSQL (URL: --postgres or IDSYNC_TEST_PG_URL)
  --postgres <url>      PostgreSQL server; the soak uses a fresh schema of its own
  --only <db>           sqlite or postgres: run on that database only
  -h, --help            this text`;

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '8' },
    devices: { type: 'string', default: '4' },
    streams: { type: 'string', default: '2' },
    profiles: { type: 'string', default: '2000' },
    events: { type: 'string', default: '5' },
    pause: { type: 'string', default: '200' },
    'max-rss-slope': { type: 'string', default: '64' },
    'max-heap-growth': { type: 'string', default: '2' },
    pg: { type: 'boolean', default: false },
    postgres: { type: 'string', default: process.env['IDSYNC_TEST_PG_URL'] ?? '' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const CONCURRENCY = Number(args.concurrency);
const DEVICES = Number(args.devices);
const STREAMS = Math.min(Number(args.streams), DEVICES);
const PROFILES = Number(args.profiles);
const MAX_RSS_SLOPE = Number(args['max-rss-slope']);
const MAX_HEAP_GROWTH = Number(args['max-heap-growth']);
const FLOOR_SECONDS = 5;
if (
  ![SECONDS, WARMUP, CONCURRENCY, DEVICES, PROFILES, MAX_RSS_SLOPE, MAX_HEAP_GROWTH].every(Number.isFinite) ||
  WARMUP >= SECONDS - 2 ||
  DEVICES > 4 ||
  PROFILES < 1
) {
  console.error(
    `bad options (the warm-up must end at least 2 s before the soak does; at most 4 devices)\n${USAGE}`,
  );
  process.exit(2);
}
if (args.only !== undefined && args.only !== 'sqlite' && args.only !== 'postgres') {
  console.error(`--only takes sqlite or postgres\n${USAGE}`);
  process.exit(2);
}

interface Row {
  readonly database: string;
  readonly seconds: number;
  readonly kinds: KindSummary[];
  readonly calls: number;
  readonly errors: number;
  readonly errorRate: number;
  readonly idsyncPerSec: number;
  readonly floorPerSec: number;
  readonly ratio: number;
  readonly resyncs: number;
  readonly rssStartMb: number;
  readonly rssWarmMb: number;
  readonly rssEndMb: number;
  readonly rssMaxMb: number;
  readonly rssSlopeMbPerMin: number;
  /** Live heap after a full GC, just before the soak and just after it (the load stopped). */
  readonly heapStartMb: number;
  readonly heapEndMb: number;
  readonly heapGrowthMbPerMin: number;
  readonly serverCpuPercent: number;
  readonly clientCpuPercent: number;
  readonly clientRssEndMb: number;
  /** How late this process's event loop ran (the devices' RxDB work delays the callers' timings). */
  readonly clientLoopDelayP99Ms: number;
  readonly clientLoopDelayMaxMs: number;
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const IDSYNC_KINDS = new Set(['identify', 'login', 'logout', 'modify', 'search', 'search-miss']);

async function soak(label: string, database: string): Promise<Row> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'idsync-soak-'));
  const server = await startBenchServer({
    dataDir,
    database,
    config: CONFIG_INPUT,
    apiKey: KEY,
    nodeArgs: heapSnapshotFlags(dataDir),
  });
  const pid = server.process.pid as number;
  try {
    process.stderr.write(`${label}: populating ${PROFILES} profiles, opening ${DEVICES} devices...\n`);
    const mpids = await populate(server.url, PROFILES);
    const recorder = new Recorder();
    const fleet = await openFleet({
      url: server.url,
      devices: DEVICES,
      eventsPerCycle: Number(args.events),
      pauseMs: Number(args.pause),
      recorder,
    });
    const floorPerSec = await noopFloor(server.url, CONCURRENCY, FLOOR_SECONDS);
    // Before the soak, not during it: a snapshot stalls the server for seconds and leaves RSS raised.
    const heapStart = await liveHeapMb(pid, dataDir);

    const stop = new AbortController();
    const counts: StreamCounts = { resyncs: 0 };
    const samples: Sample[] = [sampleProcesses(pid, 0)];
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const started = performance.now();
    const bar = progressBar(process.stderr, `soak ${label}`, SECONDS);
    const ticker = setInterval(() => {
      const sample = sampleProcesses(pid, (performance.now() - started) / 1000);
      samples.push(sample);
      bar.update(
        Math.min(SECONDS, Math.round(sample.t)),
        `${recorder.calls} calls, ${recorder.errors} errors, server RSS ${Math.round(sample.serverRssMb)} MB`,
      );
    }, 1000);
    const timer = setTimeout(() => stop.abort(), SECONDS * 1000);
    const streams = fleet.devices
      .slice(0, STREAMS)
      .map((device) => holdStream(server.url, device, recorder, counts, stop.signal));
    await Promise.all([
      idsyncCallers(server.url, CONCURRENCY, mpids, recorder, stop.signal),
      fleet.run(stop.signal),
      ...streams,
    ]);
    clearTimeout(timer);
    clearInterval(ticker);
    loopDelay.disable();
    const seconds = (performance.now() - started) / 1000;
    samples.push(sampleProcesses(pid, seconds));
    bar.finish(`${recorder.calls} calls, ${recorder.errors} errors`);
    const heapEnd = await liveHeapMb(pid, dataDir);
    await fleet.settle();
    await fleet.close();

    const kinds = recorder.summary(seconds);
    const first = samples[0] as Sample;
    const last = samples.at(-1) as Sample;
    const settled = samples.filter((s) => s.t >= WARMUP);
    const warm = settled[0] as Sample;
    const idsyncPerSec = kinds.filter((k) => IDSYNC_KINDS.has(k.kind)).reduce((n, k) => n + k.perSec, 0);
    for (const failure of recorder.failures.slice(0, 20))
      console.log(`  FAILED ${failure.kind}: ${failure.detail}`);
    if (recorder.errors > 20) console.log(`  ... and ${recorder.errors - 20} more failures`);
    return {
      database: label,
      seconds: round(seconds, 1),
      kinds,
      calls: recorder.calls,
      errors: recorder.errors,
      errorRate: recorder.errors / Math.max(1, recorder.calls + recorder.errors),
      idsyncPerSec,
      floorPerSec,
      ratio: idsyncPerSec / floorPerSec,
      resyncs: counts.resyncs,
      rssStartMb: first.serverRssMb,
      rssWarmMb: warm.serverRssMb,
      rssEndMb: last.serverRssMb,
      rssMaxMb: Math.max(...samples.map((s) => s.serverRssMb)),
      rssSlopeMbPerMin: slope(settled.map((s) => ({ x: s.t / 60, y: s.serverRssMb }))),
      heapStartMb: heapStart,
      heapEndMb: heapEnd,
      heapGrowthMbPerMin: ((heapEnd - heapStart) / seconds) * 60,
      serverCpuPercent: ((last.serverCpuSec - first.serverCpuSec) / seconds) * 100,
      clientCpuPercent: ((last.clientCpuSec - first.clientCpuSec) / seconds) * 100,
      clientRssEndMb: last.clientRssMb,
      clientLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      clientLoopDelayMaxMs: loopDelay.max / 1e6,
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const f = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function print(r: Row): void {
  console.log(
    `\nsoak on ${r.database}: ${r.seconds} s (warm-up ${WARMUP} s), ${CONCURRENCY} IDSync callers, ${DEVICES} devices, ${STREAMS} streams, ${f(PROFILES)} profiles`,
  );
  console.log('kind                                   calls    per s   p50 ms   p95 ms   p99 ms  errors');
  for (const k of r.kinds)
    console.log(
      `${k.kind.padEnd(34)} ${f(k.count).padStart(9)} ${f(k.perSec, 1).padStart(8)} ${f(k.p50Ms, 1).padStart(8)} ${f(k.p95Ms, 1).padStart(8)} ${f(k.p99Ms, 1).padStart(8)} ${f(k.errors).padStart(7)}`,
    );
  console.log(
    `IDSync mix ${f(r.idsyncPerSec)} req/s; no-op floor (GET /healthz, ${CONCURRENCY} callers, alone) ${f(r.floorPerSec)} req/s; ratio ${f(r.ratio, 2)}`,
  );
  console.log(`streams: ${STREAMS} open throughout, ${f(r.resyncs)} RESYNC messages received`);
  console.log(
    `server RSS: ${f(r.rssStartMb, 1)} MB at start, ${f(r.rssWarmMb, 1)} MB after warm-up, ${f(r.rssEndMb, 1)} MB at end (max ${f(r.rssMaxMb, 1)}); slope after warm-up ${f(r.rssSlopeMbPerMin, 2)} MB/min (limit ${MAX_RSS_SLOPE})`,
  );
  console.log(
    `server live heap after a full GC: ${f(r.heapStartMb, 1)} MB before the soak, ${f(r.heapEndMb, 1)} MB after it; growth ${f(r.heapGrowthMbPerMin, 2)} MB/min (limit ${MAX_HEAP_GROWTH})`,
  );
  console.log(
    `CPU: server ${f(r.serverCpuPercent)} % of one core, client (callers + devices) ${f(r.clientCpuPercent)} %; client RSS ${f(r.clientRssEndMb)} MB at end; client event-loop delay p99 ${f(r.clientLoopDelayP99Ms, 1)} ms, max ${f(r.clientLoopDelayMaxMs, 1)} ms`,
  );
  console.log(`errors: ${r.errors} of ${f(r.calls + r.errors)} calls (rate ${r.errorRate})`);
}

const runs: { label: string; database: () => Promise<{ url: string; drop: () => Promise<void> } | null> }[] =
  [];
if (args.only !== 'postgres')
  runs.push({
    label: 'sqlite',
    database: () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'idsync-soak-db-'));
      return Promise.resolve({
        url: path.join(dir, 'soak.sqlite'),
        drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
      });
    },
  });
const wantsPostgres = args.only === 'postgres' || args.pg || process.env['IDSYNC_TEST_PG_URL'] !== undefined;
if (wantsPostgres && args.only !== 'sqlite') {
  if (args.postgres === '')
    process.stderr.write('PostgreSQL skipped: give --postgres <url> or set IDSYNC_TEST_PG_URL\n');
  else runs.push({ label: 'postgres', database: () => postgresSchema(args.postgres) });
}

const rows: Row[] = [];
for (const run of runs) {
  const database = await run.database();
  if (database === null) continue;
  try {
    const row = await soak(run.label, database.url);
    print(row);
    rows.push(row);
  } finally {
    await database.drop();
  }
}
const round2 = (row: Row) =>
  Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      typeof value === 'number'
        ? round(value, key === 'errorRate' ? 6 : 2)
        : key === 'kinds'
          ? (value as KindSummary[]).map((k) => ({
              ...k,
              perSec: round(k.perSec, 1),
              p50Ms: round(k.p50Ms),
              p95Ms: round(k.p95Ms),
              p99Ms: round(k.p99Ms),
            }))
          : value,
    ]),
  );
console.log(
  JSON.stringify({
    bench: 'soak',
    seconds: SECONDS,
    warmupSec: WARMUP,
    concurrency: CONCURRENCY,
    devices: DEVICES,
    streams: STREAMS,
    profiles: PROFILES,
    maxRssSlopeMbPerMin: MAX_RSS_SLOPE,
    maxHeapGrowthMbPerMin: MAX_HEAP_GROWTH,
    rows: rows.map(round2),
  }),
);
const problems = (r: Row): string[] => [
  ...(r.errors > 0 ? [`${r.errors} calls failed`] : []),
  ...(r.rssSlopeMbPerMin > MAX_RSS_SLOPE
    ? [`server RSS grew ${round(r.rssSlopeMbPerMin)} MB/min after the warm-up`]
    : []),
  ...(r.heapGrowthMbPerMin > MAX_HEAP_GROWTH
    ? [`the server's live heap grew ${round(r.heapGrowthMbPerMin)} MB/min during the soak`]
    : []),
];
const failed = rows.filter((r) => problems(r).length > 0);
for (const r of failed) console.log(`FAIL ${r.database}: ${problems(r).join('; ')}`);
process.exit(failed.length > 0 || rows.length === 0 ? 1 : 0);
