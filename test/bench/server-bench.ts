/**
 * Server benchmark: identify and login over real HTTP, driven by autocannon from this process
 * against the server running as its own process (the `npm start` bundle), next to a no-op route
 * (GET /healthz) on the same server in the same run. Prints throughput, the server process's CPU
 * per request (`process.cpuUsage` as the server's /metrics reports it), p50/p99 latency at full
 * load, p99 at half of the peak rate next to the no-op route's own p99 at that same rate, the ratio
 * to the no-op route, the SQLite file's growth per identify, and one JSON line. Every file it
 * writes is under one temporary folder, removed at the end.
 *
 *   npm run bench:server                              SQLite (and PostgreSQL when IDSYNC_TEST_PG_URL is set)
 *   npm run bench:server -- --duration 5 --profiles 5000
 *   npm run bench:server -- --databases postgres      PostgreSQL only
 *   npm run bench:server -- --read-only-identify      identify with ?read_only=true: the cost of an identify that writes nothing
 *   npm run bench:server -- --last-seen-resolution 60000   the server's last-seen window (default 0: exact)
 *   npm run bench:server -- --pg-pool-size 10     the server's PostgreSQL connections (default: the server's own)
 *   npm run bench:server -- --analyze                PostgreSQL: gather the tables' statistics after populating
 *
 * On PostgreSQL it also reports, per identify and per login, the server's CPU and the PostgreSQL
 * backends' CPU, and the round trips to the database, counted in a short pass of their own by a
 * second server connected through a counting proxy (`pg-costs.ts`): the measured server talks to
 * PostgreSQL directly, so the proxy costs neither its throughput nor its latency.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import {
  BENCH_API_KEY,
  BENCH_CONFIG,
  populateProfiles,
  postgresSchema,
  startBenchServer,
} from './bench-server.ts';
import { defaultPgPoolSize } from '../../server/db/connect.ts';
import { pgCosts, perRequest, type PgCosts } from './pg-costs.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '16' },
    profiles: { type: 'string', default: '10000' },
    postgres: { type: 'string', default: process.env['IDSYNC_TEST_PG_URL'] ?? '' },
    databases: { type: 'string', default: 'sqlite,postgres' },
    'read-only-identify': { type: 'boolean', default: false },
    'last-seen-resolution': { type: 'string', default: '0' },
    'pg-pool-size': { type: 'string' },
    analyze: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(
    'usage: npm run bench:server -- [--duration s] [--connections n] [--profiles n] [--postgres url] [--databases sqlite,postgres] [--read-only-identify] [--last-seen-resolution ms] [--pg-pool-size n] [--analyze]',
  );
  process.exit(0);
}
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const PROFILES = Number(args.profiles);
const LAST_SEEN_RESOLUTION_MS = Number(args['last-seen-resolution']);
const PG_POOL_SIZE = args['pg-pool-size'] === undefined ? null : Number(args['pg-pool-size']);
const SERVER_ARGS = [
  '--last-seen-resolution',
  String(LAST_SEEN_RESOLUTION_MS),
  ...(PG_POOL_SIZE === null ? [] : ['--pg-pool-size', String(PG_POOL_SIZE)]),
];
/** Seconds of each pass that only counts PostgreSQL round trips. */
const COUNTED_SECONDS = Math.min(DURATION, 3);

interface Measure {
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly total: number;
  /** CPU time of the server process per request, in µs (user + system). */
  readonly serverCpuUsPerRequest: number;
}

/** The server process's CPU time so far, in µs, from the process metrics its /metrics reports. */
async function serverCpuUs(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return (value('process_cpu_user_seconds_total') + value('process_cpu_system_seconds_total')) * 1e6;
}

/** Logins so far, over every run: each login comes from a device not seen before. */
let loginDevices = 0;

function bodies(kind: 'identify' | 'login') {
  let n = 0;
  return (request: autocannon.Request): autocannon.Request => {
    const k = (n * 7919) % PROFILES;
    n++;
    const identities =
      kind === 'identify'
        ? { customerid: `c${k}`, device_application_stamp: `das${k}` }
        : {
            customerid: `c${k}`,
            email: `u${k}@example.com`,
            device_application_stamp: `bench-das-${loginDevices++}`,
          };
    return { ...request, body: JSON.stringify({ environment: 'production', known_identities: identities }) };
  };
}

async function measure(
  url: string,
  route: 'noop' | 'identify' | 'login',
  rate?: number,
  duration = DURATION,
): Promise<Measure> {
  const request =
    route === 'noop'
      ? { method: 'GET' as const, path: '/healthz' }
      : {
          method: 'POST' as const,
          path:
            route === 'identify' && args['read-only-identify']
              ? '/v1/identify?read_only=true'
              : `/v1/${route}`,
          headers: { 'content-type': 'application/json', 'x-mp-key': BENCH_API_KEY },
          setupRequest: bodies(route),
        };
  const cpuBefore = await serverCpuUs(url);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    requests: [request],
    ...(rate === undefined ? {} : { overallRate: rate }),
  });
  const cpu = (await serverCpuUs(url)) - cpuBefore;
  return {
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
    serverCpuUsPerRequest: cpu / Math.max(1, result.requests.total),
  };
}

type Cost = ReturnType<typeof perRequest> & { readonly roundTrips: number };

interface Row {
  database: string;
  noop: Measure;
  identify: Measure;
  login: Measure;
  identifyHalfLoadP99Ms: number;
  loginHalfLoadP99Ms: number;
  /** The no-op route's own p99 at the identify half-load rate: the floor of that latency. */
  noopAtIdentifyHalfRateP99Ms: number;
  noopAtLoginHalfRateP99Ms: number;
  identifyRatio: number;
  loginRatio: number;
  /** PostgreSQL only: per request, round trips to the database and CPU of the server and of PostgreSQL. */
  identifyCost?: Cost;
  loginCost?: Cost;
  /** Growth of the SQLite file (with its WAL) per identify during the identify run; null on PostgreSQL. */
  sqliteBytesPerIdentify: number | null;
}

/** Bytes of the SQLite database and its WAL (0 when absent). */
function sqliteBytes(file: string): number {
  return [file, `${file}-wal`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
}

/**
 * Gathers the statistics of the tables in the schema `url` uses, as autovacuum does on a database
 * that has run a while (a freshly populated one may have none yet when the identify run starts).
 */
async function analyzeSchema(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      'select quote_ident(tablename) as name from pg_tables where schemaname = current_schema()',
    );
    await client.query(`analyze ${tables.map((t) => t.name).join(', ')}`);
  } finally {
    await client.end();
  }
}

/**
 * Round trips per identify and per login on PostgreSQL, from a server of their own connected
 * through the counting proxy, on the database the measured server populated (and with its data
 * folder, whose server key opens the secrets stored there).
 */
async function roundTripsPerRequest(costs: PgCosts, dataDir: string) {
  const server = await startBenchServer({
    dataDir,
    database: costs.countedUrl,
    config: BENCH_CONFIG,
    apiKey: BENCH_API_KEY,
    serverArgs: SERVER_ARGS,
  });
  const per = async (route: 'identify' | 'login') => {
    const before = costs.roundTrips();
    const measured = await measure(server.url, route, undefined, COUNTED_SECONDS);
    return Number(((costs.roundTrips() - before) / Math.max(1, measured.total)).toFixed(2));
  };
  try {
    return { identify: await per('identify'), login: await per('login') };
  } finally {
    await server.stop();
  }
}

/**
 * `database` is the SQLite file or, with `costs`, the PostgreSQL URL (`costs.url`);
 * `analyzeUrl`, PostgreSQL only: the database's URL, to gather statistics at after populating.
 */
async function run(label: string, database: string, costs?: PgCosts, analyzeUrl?: string): Promise<Row> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'idsync-bench-'));
  const sqliteFile = costs === undefined ? database : null;
  const server = await startBenchServer({
    dataDir,
    database,
    config: BENCH_CONFIG,
    apiKey: BENCH_API_KEY,
    serverArgs: SERVER_ARGS,
  });
  const pid = server.process.pid ?? 0;
  const costed = async (route: 'identify' | 'login') => {
    const before = await costs?.sample(pid);
    const measured = await measure(server.url, route);
    const after = await costs?.sample(pid);
    const cost = before && after ? perRequest(before, after, measured.total) : undefined;
    return { measured, cost };
  };
  try {
    process.stderr.write(`${label}: populating ${PROFILES} profiles...\n`);
    await populateProfiles(server.url, PROFILES);
    if (analyzeUrl !== undefined) await analyzeSchema(analyzeUrl);
    process.stderr.write(`${label}: measuring (${DURATION} s per run, ${CONNECTIONS} connections)...\n`);
    await measure(server.url, 'noop');
    const noop = await measure(server.url, 'noop');
    const bytesBefore = sqliteFile === null ? 0 : sqliteBytes(sqliteFile);
    const { measured: identify, cost: identifyCost } = await costed('identify');
    const bytesPerIdentify =
      sqliteFile === null ? null : (sqliteBytes(sqliteFile) - bytesBefore) / Math.max(1, identify.total);
    const { measured: login, cost: loginCost } = await costed('login');
    const identifyRate = Math.max(1, Math.round(identify.requestsPerSec / 2));
    const loginRate = Math.max(1, Math.round(login.requestsPerSec / 2));
    const identifyHalf = await measure(server.url, 'identify', identifyRate);
    const noopIdentifyHalf = await measure(server.url, 'noop', identifyRate);
    const loginHalf = await measure(server.url, 'login', loginRate);
    const noopLoginHalf = await measure(server.url, 'noop', loginRate);
    const trips = costs === undefined ? undefined : await roundTripsPerRequest(costs, dataDir);
    return {
      database: label,
      noop,
      identify,
      login,
      identifyHalfLoadP99Ms: identifyHalf.p99Ms,
      loginHalfLoadP99Ms: loginHalf.p99Ms,
      noopAtIdentifyHalfRateP99Ms: noopIdentifyHalf.p99Ms,
      noopAtLoginHalfRateP99Ms: noopLoginHalf.p99Ms,
      identifyRatio: identify.requestsPerSec / noop.requestsPerSec,
      loginRatio: login.requestsPerSec / noop.requestsPerSec,
      ...(identifyCost === undefined || trips === undefined
        ? {}
        : { identifyCost: { ...identifyCost, roundTrips: trips.identify } }),
      ...(loginCost === undefined || trips === undefined
        ? {}
        : { loginCost: { ...loginCost, roundTrips: trips.login } }),
      sqliteBytesPerIdentify: bytesPerIdentify,
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
const databases = args.databases.split(',');
if (databases.includes('sqlite')) {
  const sqliteDir = mkdtempSync(path.join(tmpdir(), 'idsync-bench-db-'));
  try {
    rows.push(await run('sqlite', path.join(sqliteDir, 'bench.sqlite')));
  } finally {
    rmSync(sqliteDir, { recursive: true, force: true });
  }
}
const postgres = databases.includes('postgres') ? await postgresSchema(args.postgres) : null;
if (postgres !== null) {
  const costs = await pgCosts(postgres.url);
  try {
    rows.push(await run('postgres', costs.url, costs, args.analyze ? postgres.url : undefined));
  } finally {
    await costs.close();
    await postgres.drop();
  }
} else if (args.postgres === '') {
  process.stderr.write('PostgreSQL skipped: set IDSYNC_TEST_PG_URL or --postgres to include it\n');
}

/** The measured server's PostgreSQL pool, when PostgreSQL was measured. */
const pgPoolSize = postgres === null ? null : (PG_POOL_SIZE ?? defaultPgPoolSize());
const f = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(
  `\nserver over HTTP (${CONNECTIONS} connections, ${DURATION} s per run, ${f(PROFILES)} profiles, last-seen resolution ${f(LAST_SEEN_RESOLUTION_MS)} ms${pgPoolSize === null ? '' : `, PostgreSQL pool ${pgPoolSize}`}${args.analyze ? ', statistics gathered after populating' : ''}); no-op = GET /healthz`,
);
console.log(
  'database | no-op req/s  cpu µs | identify req/s  cpu µs  p50 ms  p99 ms  p99@½ ms (no-op)  ratio | login req/s  cpu µs  p50 ms  p99 ms  p99@½ ms (no-op)  ratio | bytes/identify',
);
for (const r of rows) {
  console.log(
    `${r.database.padEnd(8)} | ${f(r.noop.requestsPerSec).padStart(11)} ${f(r.noop.serverCpuUsPerRequest).padStart(7)} | ${f(r.identify.requestsPerSec).padStart(14)} ${f(r.identify.serverCpuUsPerRequest).padStart(7)} ${f(r.identify.p50Ms, 1).padStart(7)} ${f(r.identify.p99Ms, 1).padStart(7)} ${`${f(r.identifyHalfLoadP99Ms, 1)} (${f(r.noopAtIdentifyHalfRateP99Ms, 1)})`.padStart(16)} ${f(r.identifyRatio, 2).padStart(6)} |` +
      ` ${f(r.login.requestsPerSec).padStart(11)} ${f(r.login.serverCpuUsPerRequest).padStart(7)} ${f(r.login.p50Ms, 1).padStart(7)} ${f(r.login.p99Ms, 1).padStart(7)} ${`${f(r.loginHalfLoadP99Ms, 1)} (${f(r.noopAtLoginHalfRateP99Ms, 1)})`.padStart(16)} ${f(r.loginRatio, 2).padStart(6)} | ${r.sqliteBytesPerIdentify === null ? '—' : f(r.sqliteBytesPerIdentify)}`,
  );
  for (const [route, cost] of [
    ['identify', r.identifyCost],
    ['login', r.loginCost],
  ] as const) {
    if (cost !== undefined)
      console.log(
        `  ${r.database} ${route}: ${f(cost.roundTrips, 2)} round trips, server CPU ${f(cost.serverCpuUs)} µs, PostgreSQL CPU ${f(cost.postgresCpuUs)} µs per request`,
      );
  }
  const failures = r.identify.non2xx + r.identify.errors + r.login.non2xx + r.login.errors;
  if (failures > 0) console.log(`  ${r.database}: ${failures} requests failed during the run`);
}
console.log('targets: identify ≥ 0.50 of the no-op route; p99 under 10 ms at half of peak load');
console.log(
  JSON.stringify({
    bench: 'server',
    connections: CONNECTIONS,
    durationSec: DURATION,
    profiles: PROFILES,
    readOnlyIdentify: args['read-only-identify'],
    lastSeenResolutionMs: LAST_SEEN_RESOLUTION_MS,
    pgPoolSize,
    analyzed: args.analyze,
    rows,
  }),
);
