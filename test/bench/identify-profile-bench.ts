/**
 * Where the server's CPU goes under load: populates 10,000 profiles, restarts the bundled server
 * (`dist/server.mjs`) under `node --cpu-prof`, drives one route with autocannon for 10 s, and
 * prints the busy time per request by function (self, then total) with
 * `scripts/cpuprofile.mjs`: bundle positions mapped to sources through the bundle's
 * source map, samples before the first request handler skipped; then by stage of the request
 * (body, CORS, authentication, store, resolver, request log, reply, socket write...). Used for SPEC HP (see
 * docs/design.md "Identify hot path").
 *
 *   node scripts/build-server.mjs && node scripts/bench.mjs identify-profile [route] ['node flags'] [database]
 *     route: /v1/identify (default) or /healthz; database: a SQLite file or postgres:// URL
 *   FOCUS='fnA,fnB' ...        also list what is called under these functions (name or "name file:line")
 *   KEEP_PROFILE=file ...      also copy the profile to this file (to summarise it again later)
 *   PROFILE=file REQS=n ...    summarise an existing .cpuprofile of n requests instead of running
 *                              (the same as `node scripts/cpuprofile-summary.mjs --skip-until routeHandler --requests n file`)
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { summariseCpuProfile } from '../../scripts/cpuprofile.mjs';
import {
  BENCH_API_KEY,
  BENCH_CONFIG,
  populateProfiles,
  returningIdentifyRequest,
  startBenchServer,
} from './bench-server.ts';

const PROFILES = 10000;
const route = process.argv[2] ?? '/v1/identify';
const extra = (process.argv[3] ?? '').split(' ').filter(Boolean);
const database = process.argv[4];

/** Runs the load under the profiler: the requests served and the profile written. */
async function load(): Promise<{ total: number; file: string; dataDir: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hp-'));
  const profDir = path.join(dataDir, 'prof');
  const opts = { dataDir, config: BENCH_CONFIG, apiKey: BENCH_API_KEY, ...(database ? { database } : {}) };
  let server = await startBenchServer(opts);
  await populateProfiles(server.url, PROFILES);
  await server.stop();
  server = await startBenchServer({
    ...opts,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ...extra],
  });
  const result = await autocannon({
    url: server.url,
    connections: 16,
    duration: 10,
    requests: [
      route === '/healthz' ? { method: 'GET', path: route } : returningIdentifyRequest(PROFILES, route),
    ],
  });
  console.log('req/s', result.requests.average, 'non2xx', result.non2xx, 'total', result.requests.total);
  await server.stop();
  return {
    total: result.requests.total,
    file: path.join(profDir, readdirSync(profDir).sort()[0] as string),
    dataDir,
  };
}

const keep = process.env['KEEP_PROFILE'];
const loaded = process.env['PROFILE']
  ? { total: Number(process.env['REQS']), file: process.env['PROFILE'] }
  : await load();
console.log(loaded.file);
const profile = JSON.parse(readFileSync(loaded.file, 'utf8'));
if (keep !== undefined) copyFileSync(loaded.file, keep);
if ('dataDir' in loaded) rmSync(loaded.dataDir, { recursive: true, force: true });
const summary = summariseCpuProfile(profile, {
  top: 45,
  skipUntil: 'routeHandler',
  requests: loaded.total,
  focus: (process.env['FOCUS'] ?? '').split(',').filter(Boolean),
  stages: true,
});
console.log(summary.join('\n'));
