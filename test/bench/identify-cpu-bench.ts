/**
 * Server CPU per returning-user identify and per no-op request (GET /healthz) at one fixed rate,
 * on SQLite: populates the profiles, identifies each person (so every measured identify is a warm
 * one, HP-6) and warms both routes with 20,000 requests each, then runs identify, no-op, identify, no-op at `--rate` requests per second and
 * reads the server process's CPU from /metrics around each run. At a fixed rate both routes see the
 * same request pattern, so their CPU per request compares the work, not how well each batches at
 * saturation (what `bench:server` measures); the CPU ratio no-op / identify is the req/s ratio a
 * CPU-bound server would reach.
 *
 *   node scripts/build-server.mjs && node scripts/bench.mjs identify-cpu [--rate 1000] [--duration 8] [--profiles 3000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import {
  BENCH_API_KEY,
  BENCH_CONFIG,
  populateProfiles,
  returningIdentifyRequest,
  startBenchServer,
} from './bench-server.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '8' },
    profiles: { type: 'string', default: '3000' },
  },
});
const RATE = Number(args.rate);
const DURATION = Number(args.duration);
const PROFILES = Number(args.profiles);

async function serverCpuUs(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return (value('process_cpu_user_seconds_total') + value('process_cpu_system_seconds_total')) * 1e6;
}

/** Server CPU µs per request of `request` over a run (and the requests answered). */
async function cpuPerRequest(
  url: string,
  request: autocannon.Request,
  run: { overallRate: number; duration: number } | { amount: number },
) {
  const before = await serverCpuUs(url);
  const result = await autocannon({ url, connections: 16, ...run, requests: [request] });
  const cpu = (await serverCpuUs(url)) - before;
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
  return { total: result.requests.total, cpuUs: cpu / Math.max(1, result.requests.total) };
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'identify-cpu-'));
const server = await startBenchServer({ dataDir, config: BENCH_CONFIG, apiKey: BENCH_API_KEY });
try {
  await populateProfiles(server.url, PROFILES);
  // Every person at least once, so the measured identifies are returning users read from memory,
  // and both routes long enough for the JIT to have compiled them.
  await cpuPerRequest(server.url, returningIdentifyRequest(PROFILES), { amount: Math.max(PROFILES, 20_000) });
  await cpuPerRequest(server.url, { method: 'GET', path: '/healthz' }, { amount: 20_000 });
  const noop: autocannon.Request = { method: 'GET', path: '/healthz' };
  const runs: { route: string; total: number; cpuUs: number; load: number }[] = [];
  for (const [route, request] of [
    ['identify', returningIdentifyRequest(PROFILES)],
    ['no-op', noop],
    ['identify', returningIdentifyRequest(PROFILES)],
    ['no-op', noop],
  ] as const) {
    const load = loadavg()[0] ?? 0;
    runs.push({
      route,
      load,
      ...(await cpuPerRequest(server.url, request, { overallRate: RATE, duration: DURATION })),
    });
  }
  const mean = (route: string) => {
    const of = runs.filter((r) => r.route === route);
    return of.reduce((s, r) => s + r.cpuUs, 0) / of.length;
  };
  console.log(`server CPU per request at ${RATE} req/s, ${DURATION} s per run, ${PROFILES} profiles (warm)`);
  for (const r of runs)
    console.log(
      `${r.route.padEnd(9)} ${r.cpuUs.toFixed(1).padStart(7)} µs  (${r.total} requests, load ${r.load.toFixed(2)})`,
    );
  const identify = mean('identify');
  const noopCpu = mean('no-op');
  console.log(
    `mean: identify ${identify.toFixed(1)} µs, no-op ${noopCpu.toFixed(1)} µs, CPU ratio ${(noopCpu / identify).toFixed(2)}`,
  );
  console.log(
    JSON.stringify({
      bench: 'identify-cpu',
      rate: RATE,
      durationSec: DURATION,
      profiles: PROFILES,
      runs,
      identifyCpuUs: identify,
      noopCpuUs: noopCpu,
      cpuRatio: noopCpu / identify,
    }),
  );
} finally {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
