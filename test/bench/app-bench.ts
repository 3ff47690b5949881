/**
 * App benchmark (`npm run bench:app`), in Debian's Chromium driven by playwright-core.
 *
 * 1. Identity calls on IndexedDB: the device harness (`test/browser`) runs the Field flow for each
 *    person — identify by email, record a visit, log in with a customer ID, next person — from an empty
 *    device up to `--people`. Each call is timed inside the page (performance.now), many per
 *    evaluate, so the driver's round trip is not counted. Percentiles per bucket of people show
 *    whether calls stay flat as the device fills. The floor, measured in the same page: one
 *    document inserted into an RxDB collection of its own, and one raw IndexedDB put. Main-thread
 *    busy time per person comes from Chromium's own counter (CDP `Performance.getMetrics`
 *    TaskDuration); IndexedDB's backend runs in the browser process and is not in it, so each bucket
 *    also gives the CPU time per person of the renderer and of the browser process. Before and after
 *    the buckets, 50 people of identity calls alone (identify, login, logout) give the main-thread
 *    time per identity call; each call's storage profile counts its IndexedDB transactions and its
 *    storage rounds (storage calls that run side by side count once: the waits end to end).
 * 2. The app, built (`vite build -c renderer/vite.config.ts`) and served by the real server under
 *    /app/, opened local-only (no sync): JS gzip loaded for the first render; first meaningful
 *    render (navigation start → the frame after the Field screen's "Current person" heading is in
 *    the DOM; with the app's User Timing marks: opening state painted, script started, database and
 *    engine open; and the frame after the Field shows the device's data, which it renders before
 *    the database is open, UP-6; main-thread task, script, layout and style ms until then);
 *    identify-to-screen (the "Log in" click → the frame after a new MPID appears in the
 *    current-person region, MutationObserver + performance.now in the page), with logins back to
 *    back and one at a time (each after the last one's deferred work is done); and, with the
 *    people of part 1 on the device (same origin, same database `identity-sync`), frame times while
 *    scrolling the people list (requestAnimationFrame deltas, in a browser without the 60 Hz frame
 *    limit so that a delta is the frame's real cost).
 *
 * Prints a table per part, then one JSON line with every figure and budget.
 *
 *   npm run bench:app -- [--people 10000] [--skip-ui] [--skip-build]
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { z } from 'zod';
import { summariseCpuProfile } from '../../scripts/cpuprofile.mjs';
import { progressBar } from '../../shared/util/progress.ts';
import type { CallProfile, FloorTimes, FlowTimes, StorageTrace } from '../browser/harness-api.ts';
import { bundleHarness, openHarness, startHarnessServer, writeHarness } from '../browser/harness-server.ts';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason } from '../helpers/chromium.ts';
import { startTestServer } from '../helpers/server.ts';
import { IDENTITY_ANSWER_MARK } from '../../renderer/src/app/marks.ts';
import { STORAGE_READING } from '../../renderer/src/components/storage-reading.ts';
import { LIVE_QUERY_DELAY_MS } from '../../shared/device/collections.ts';

const USAGE = `usage: npm run bench:app -- [--people n] [--skip-ui] [--skip-build] [--cpu-profile file]

  --people n     people captured by the Field flow, from an empty device (default 10000; 500 is quick)
  --skip-ui      only the identity calls (part 1): no app build, no app metrics
  --skip-build   use the app already built in dist/app instead of building it
  --cpu-profile f  after part 1, profile 50 more people of the Field flow in the page (V8 CPU
                 profile written to f, for DevTools; the harness is then not minified) and print
                 where the main thread spent its time; in part 2, profile the back-to-back logins
                 on the empty and the full device too (f.app-empty.cpuprofile, f.app-full.cpuprofile;
                 dist/app is then built without minification: build it again before measuring)
Progress goes to stderr; the tables and one JSON line ({"bench":"app",...}) to stdout.`;

const ArgsSchema = z.object({
  people: z.coerce.number().int().min(50).max(100_000),
  'skip-ui': z.boolean(),
  'skip-build': z.boolean(),
  'cpu-profile': z.string().min(1).optional(),
  help: z.boolean(),
});
const { values: raw } = parseArgs({
  options: {
    people: { type: 'string', default: '10000' },
    'skip-ui': { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
    'cpu-profile': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const args = ArgsSchema.parse(raw);
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (chromiumSkipReason !== null) {
  console.error(`bench:app needs Chromium: ${chromiumSkipReason}`);
  process.exit(2);
}

const PEOPLE = args.people;
/** People per page.evaluate (four calls each). */
const BATCH = 50;
/** Ten buckets, each a whole number of batches. */
const BUCKET = Math.max(BATCH, Math.ceil(PEOPLE / 10 / BATCH) * BATCH);
const FLOOR_SAMPLES = 300;
/** Linux's USER_HZ: /proc reports CPU time in ticks of 10 ms. */
const CLOCK_TICKS_PER_SECOND = 100;
/** People (three identity calls each) of the identity-calls-alone runs on the empty and the full device. */
const MAIN_THREAD_PEOPLE = 50;
/**
 * Timed logins per identify-to-screen series. Its p95 is the 6th slowest of 120: with 40 it was the
 * 2nd slowest, which one garbage collection or one slow IndexedDB reply decided (runs of the same
 * code differed by 21 ms).
 */
const UI_SAMPLES = 120;
const SCROLL_FRAMES = 300;
/** The app's own database (renderer/src/app/device-code.ts), so the app sees the people of part 1. */
const APP_DATABASE = 'identity-sync';
const BUDGETS = {
  identityP95Ms: 20,
  /** p95 of the last bucket over the first: "flat". */
  flatRatio: 1.25,
  jsGzipKb: 500,
  firstRenderMs: 1000,
  identifyToScreenP95Ms: 50,
  /**
   * requestAnimationFrame runs at 60 Hz here: a frame within budget shows as one vsync interval
   * (16.7 ms, read with up to 1 ms of timer jitter), a late one as two or more.
   */
  scrollFrameP95Ms: 17.7,
} as const;
const VSYNC_MS = 1000 / 60;

const root = process.cwd();
const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const log = (line: string) => process.stderr.write(`${line}\n`);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const stats = (values: readonly number[]) => ({
  p50: round(percentile(values, 50)),
  p95: round(percentile(values, 95)),
  p99: round(percentile(values, 99)),
});

// ---------------------------------------------------------------------------------------------
// Part 1: identity calls through the harness
// ---------------------------------------------------------------------------------------------

interface Bucket {
  readonly from: number;
  readonly to: number;
  readonly identity: ReturnType<typeof stats>;
  readonly identifyP95: number;
  readonly loginP95: number;
  readonly nextPersonP50: number;
  readonly trackP50: number;
  /** Chromium main-thread task time per person (four calls), ms. */
  readonly mainThreadMsPerPerson: number;
  /**
   * CPU time per person (ms, from /proc) of the renderer processes (the page's JavaScript, Blink)
   * and of the browser process (IndexedDB's backend: LevelDB and its compactions): which side grows
   * as the device fills, in a figure the machine's load inflates far less than wall-clock.
   */
  readonly rendererCpuMsPerPerson: number;
  readonly browserCpuMsPerPerson: number;
  /** Mean ms per call of each graph storage operation, and of the wait for the lock (which one slows?). */
  readonly storageMsPerOp: Record<keyof StorageTrace, number>;
  /** Storage operations per person. */
  readonly storageOpsPerPerson: Record<keyof StorageTrace, number>;
}

const STORAGE_OPS = ['findDocumentsById', 'query', 'bulkWrite', 'lock'] as const;

/** Sums the storage traces of several batches. */
function addTraces(traces: readonly (StorageTrace | undefined)[]): StorageTrace {
  const sum = (op: keyof StorageTrace) => ({
    count: traces.reduce((n, t) => n + (t?.[op].count ?? 0), 0),
    ms: traces.reduce((n, t) => n + (t?.[op].ms ?? 0), 0),
  });
  return {
    findDocumentsById: sum('findDocumentsById'),
    query: sum('query'),
    bulkWrite: sum('bulkWrite'),
    lock: sum('lock'),
  };
}

/** Chromium's main-thread counters of this page so far, in ms (CDP Performance domain). */
interface MainThreadSplit {
  /** All tasks. */
  readonly task: number;
  readonly script: number;
  readonly layout: number;
  readonly style: number;
}

async function mainThreadCounters(
  context: BrowserContext,
  page: Page,
): Promise<() => Promise<MainThreadSplit>> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  return async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const ms = (name: string) => (metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
    return {
      task: ms('TaskDuration'),
      script: ms('ScriptDuration'),
      layout: ms('LayoutDuration'),
      style: ms('RecalcStyleDuration'),
    };
  };
}

async function mainThreadSplit(read: () => Promise<MainThreadSplit>, since?: MainThreadSplit, per = 1) {
  const now = await read();
  const part = (key: keyof MainThreadSplit) => round((now[key] - (since?.[key] ?? 0)) / per);
  return { task: part('task'), script: part('script'), layout: part('layout'), style: part('style') };
}

/** Chromium's main-thread task time of this page so far, in ms (CDP Performance domain). */
async function mainThreadMs(context: BrowserContext, page: Page): Promise<() => Promise<number>> {
  const read = await mainThreadCounters(context, page);
  return async () => (await read()).task;
}

async function runBucket(
  page: Page,
  taskMs: () => Promise<number>,
  cpu: () => ChromiumCpu,
  from: number,
  to: number,
): Promise<Bucket> {
  const times: FlowTimes = { identify: [], login: [], track: [], nextPerson: [] };
  const traces: (StorageTrace | undefined)[] = [];
  const before = await taskMs();
  const cpuBefore = cpu();
  for (let start = from; start < to; start += BATCH) {
    const count = Math.min(BATCH, to - start);
    const batch = await page.evaluate(([s, n]) => window.harness!.fieldFlow('bench', s, n), [
      start,
      count,
    ] as const);
    times.identify.push(...batch.identify);
    times.login.push(...batch.login);
    times.track.push(...batch.track);
    times.nextPerson.push(...batch.nextPerson);
    traces.push(batch.storage);
  }
  const busy = (await taskMs()) - before;
  const cpuAfter = cpu();
  const trace = addTraces(traces);
  const perOp = (f: (op: keyof StorageTrace) => number) =>
    Object.fromEntries(STORAGE_OPS.map((op) => [op, round(f(op), 3)])) as Record<keyof StorageTrace, number>;
  return {
    from,
    to,
    identity: stats([...times.identify, ...times.login]),
    identifyP95: round(percentile(times.identify, 95)),
    loginP95: round(percentile(times.login, 95)),
    nextPersonP50: round(percentile(times.nextPerson, 50)),
    trackP50: round(percentile(times.track, 50)),
    mainThreadMsPerPerson: round(busy / (to - from)),
    rendererCpuMsPerPerson: round((cpuAfter.renderer - cpuBefore.renderer) / (to - from)),
    browserCpuMsPerPerson: round((cpuAfter.browser - cpuBefore.browser) / (to - from)),
    storageMsPerOp: perOp((op) => (trace[op].count === 0 ? 0 : trace[op].ms / trace[op].count)),
    storageOpsPerPerson: perOp((op) => trace[op].count / (to - from)),
  };
}

/** CPU time (user + system, ms) of a Chromium's processes. */
interface ChromiumCpu {
  /** The renderer processes (the page's JavaScript, Blink, IndexedDB's client side). */
  readonly renderer: number;
  /** The browser process, where this Chromium runs IndexedDB's backend (LevelDB). */
  readonly browser: number;
  /** Every process of the browser. */
  readonly all: number;
}

/** Reads the CPU time of the Chromium started on `profileDir` from Linux's /proc (zeros elsewhere). */
function chromiumCpu(profileDir: string): ChromiumCpu {
  if (!existsSync('/proc/self/stat')) return { renderer: 0, browser: 0, all: 0 };
  const processes = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ticks = Number(fields[11]) + Number(fields[12]);
        // Chromium rewrites its children's command lines into one string: read it as text.
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return [{ pid: Number(pid), parent: Number(fields[1]), ticks, cmdline }];
      } catch {
        return []; // the process ended while being read
      }
    });
  const tree = new Set(
    processes
      .filter((p) => p.cmdline.includes(`--user-data-dir=${profileDir} `) && !p.cmdline.includes('--type='))
      .map((p) => p.pid),
  );
  for (let grown = true; grown;) {
    grown = false;
    for (const p of processes)
      if (!tree.has(p.pid) && tree.has(p.parent)) {
        tree.add(p.pid);
        grown = true;
      }
  }
  const inTree = processes.filter((p) => tree.has(p.pid));
  const ms = (of: (cmdline: string) => boolean) =>
    inTree.filter((p) => of(p.cmdline)).reduce((n, p) => n + (p.ticks * 1000) / CLOCK_TICKS_PER_SECOND, 0);
  return {
    renderer: ms((cmdline) => cmdline.includes('--type=renderer')),
    browser: ms((cmdline) => !cmdline.includes('--type=')),
    all: ms(() => true),
  };
}

/**
 * Identity calls alone (identify, login, logout alternating, `MAIN_THREAD_PEOPLE` people): Chromium's
 * main-thread task time and CPU time per call, which the machine's load inflates far less than
 * wall-clock percentiles, beside the calls' own p50 and p95.
 */
async function identityMainThread(
  page: Page,
  taskMs: () => Promise<number>,
  cpu: () => ChromiumCpu,
  prefix: string,
) {
  const before = await taskMs();
  const cpuBefore = cpu();
  const times = await page.evaluate(([p, n]) => window.harness!.identityCalls(p, 0, n), [
    prefix,
    MAIN_THREAD_PEOPLE,
  ] as const);
  const cpuAfter = cpu();
  const busy = (await taskMs()) - before;
  const perCall = (ms: number) => round(ms / times.length);
  return {
    calls: times.length,
    mainThreadMsPerCall: perCall(busy),
    rendererCpuMsPerCall: perCall(cpuAfter.renderer - cpuBefore.renderer),
    browserCpuMsPerCall: perCall(cpuAfter.browser - cpuBefore.browser),
    chromiumCpuMsPerCall: perCall(cpuAfter.all - cpuBefore.all),
    ...stats(times),
  };
}

async function identityCalls(
  context: BrowserContext,
  harnessUrl: string,
  database: string,
  chromium: () => ChromiumCpu,
) {
  const page = await openHarness(context, harnessUrl, database);
  const taskMs = await mainThreadMs(context, page);
  const floorBefore: FloorTimes = await page.evaluate((n) => window.harness!.floor(n), FLOOR_SAMPLES);
  const profileEmpty: CallProfile[] = await page.evaluate(() => window.harness!.profile('profile-empty'));
  const mainThreadEmpty = await identityMainThread(page, taskMs, chromium, 'main-thread-empty');
  const loadBefore = round(loadavg()[0] ?? 0);
  const driverCpu = process.cpuUsage();
  const started = performance.now();
  const buckets: Bucket[] = [];
  const bar = progressBar(process.stderr, 'Field flow (identify, track, login, next person)', PEOPLE);
  for (let from = 0; from < PEOPLE; from += BUCKET) {
    const bucket = await runBucket(page, taskMs, chromium, from, Math.min(PEOPLE, from + BUCKET));
    buckets.push(bucket);
    bar.update(bucket.to, `identity p95 ${bucket.identity.p95} ms`);
  }
  bar.finish();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(driverCpu);
  const profileFull: CallProfile[] = await page.evaluate(() => window.harness!.profile('profile-full'));
  const mainThreadFull = await identityMainThread(page, taskMs, chromium, 'main-thread-full');
  if (args['cpu-profile'] !== undefined) await cpuProfile(context, page, args['cpu-profile']);
  const floorAfter: FloorTimes = await page.evaluate((n) => window.harness!.floor(n), FLOOR_SAMPLES);
  await page.close();
  const floor = {
    rxdbInsert: stats([...floorBefore.rxdbInsert, ...floorAfter.rxdbInsert]),
    idbPut: stats([...floorBefore.idbPut, ...floorAfter.idbPut]),
    /** The floor on the empty and on the full device: did the machine, not the device, slow down? */
    idbPutP50EmptyFull: [round(percentile(floorBefore.idbPut, 50)), round(percentile(floorAfter.idbPut, 50))],
    /** A raw get of the head from the device's own store, on the empty and on the full device. */
    deviceGetP50EmptyFull: [
      round(percentile(floorBefore.deviceGet, 50)),
      round(percentile(floorAfter.deviceGet, 50)),
    ],
    /** Listing the graph's directory (DE-19), on the empty and on the full device: once per page and after another page's write. */
    directoryListingP50EmptyFull: [
      round(percentile(floorBefore.directoryListing, 50)),
      round(percentile(floorAfter.directoryListing, 50)),
    ],
  };
  return {
    buckets,
    floor,
    profileEmpty,
    profileFull,
    /** Identity calls alone on the empty and on the full device (see `identityMainThread`). */
    identityAlone: { empty: mainThreadEmpty, full: mainThreadFull },
    seconds,
    /** The machine's 1-minute load average (as `uptime` prints it) before and after the Field flow. */
    loadAverage: [loadBefore, round(loadavg()[0] ?? 0)],
    driverCpuMsPerPerson: round((cpu.user + cpu.system) / 1000 / PEOPLE, 3),
  };
}

const ProfileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({
        functionName: z.string(),
        url: z.string(),
        lineNumber: z.number(),
        columnNumber: z.number(),
      }),
      children: z.array(z.number()).default([]),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
  startTime: z.number(),
});

/** Profiles 50 more people of the Field flow; writes the profile and prints its summary. */
async function cpuProfile(context: BrowserContext, page: Page, file: string): Promise<void> {
  await profiled(context, page, file, '50 people of the Field flow', () =>
    page.evaluate(() => window.harness!.fieldFlow('cpu-profile', 0, 50)),
  );
}

/** Runs `work` under the page's V8 CPU profiler; writes the profile and prints its summary (self and total time). */
async function profiled<T>(
  context: BrowserContext,
  page: Page,
  file: string,
  what: string,
  work: () => Promise<T>,
): Promise<T> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  const result = await work();
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.detach();
  writeFileSync(file, JSON.stringify(profile));
  log(`CPU profile of ${what} written to ${file}:`);
  for (const line of summariseCpuProfile(ProfileSchema.parse(profile), { top: 25 })) log(`  ${line}`);
  return result;
}

type IdentityResults = Awaited<ReturnType<typeof identityCalls>>;

function printIdentity(r: IdentityResults): void {
  console.log(
    `\n1. identity calls in Chromium on IndexedDB (Field flow, ${PEOPLE} people, ${round(r.seconds, 1)} s, load average ${r.loadAverage.join(' → ')})`,
  );
  console.log(
    'people        | identity p50  p95   p99  | ident p95 login p95 | track p50  next p50 | main thread ms/person | CPU ms/person: renderer browser',
  );
  for (const b of r.buckets) {
    console.log(
      `${`${b.from}–${b.to}`.padEnd(13)} | ${String(b.identity.p50).padStart(12)} ${String(b.identity.p95).padStart(5)} ${String(b.identity.p99).padStart(5)} | ${String(b.identifyP95).padStart(9)} ${String(b.loginP95).padStart(9)} | ${String(b.trackP50).padStart(9)} ${String(b.nextPersonP50).padStart(9)} | ${String(b.mainThreadMsPerPerson).padStart(8)}              | ${String(b.rendererCpuMsPerPerson).padStart(22)} ${String(b.browserCpuMsPerPerson).padStart(7)}`,
    );
  }
  console.log(
    'graph storage, mean ms per operation (operations per person) — which one slows as the device fills:',
  );
  console.log('people        | findById        | query           | bulkWrite       | lock wait');
  for (const b of r.buckets) {
    const cell = (op: keyof StorageTrace) =>
      `${String(round(b.storageMsPerOp[op], 2)).padStart(6)} (${String(round(b.storageOpsPerPerson[op], 1)).padStart(4)})`.padEnd(
        15,
      );
    console.log(`${`${b.from}–${b.to}`.padEnd(13)} | ${STORAGE_OPS.map(cell).join(' | ')}`);
  }
  console.log(
    `floor: RxDB insert p50 ${r.floor.rxdbInsert.p50} ms p95 ${r.floor.rxdbInsert.p95} ms; raw IndexedDB put p50 ${r.floor.idbPut.p50} ms p95 ${r.floor.idbPut.p95} ms (p50 empty → full device ${r.floor.idbPutP50EmptyFull.join(' → ')} ms); raw get from the device's own store p50 empty → full ${r.floor.deviceGetP50EmptyFull.join(' → ')} ms; listing the directory (once per page) ${r.floor.directoryListingP50EmptyFull.join(' → ')} ms`,
  );
  const alone = (a: IdentityResults['identityAlone']['empty']) =>
    `main thread ${a.mainThreadMsPerCall} ms per call (CPU: renderer ${a.rendererCpuMsPerCall} ms, browser process ${a.browserCpuMsPerCall} ms, all of Chromium ${a.chromiumCpuMsPerCall} ms), p50 ${a.p50} ms, p95 ${a.p95} ms`;
  console.log(
    `identity calls alone (identify, login, logout alternating; ${r.identityAlone.empty.calls} calls): empty device ${alone(r.identityAlone.empty)}; full device ${alone(r.identityAlone.full)}`,
  );
  console.log('storage work per call (empty device → full device):');
  for (const [i, p] of r.profileEmpty.entries()) {
    const q = r.profileFull[i] as CallProfile;
    console.log(
      `  ${p.call.padEnd(10)} IndexedDB transactions ${p.idbTransactions} → ${q.idbTransactions} (readwrite ${p.idbReadwrite} → ${q.idbReadwrite}); storage rounds ${p.storageRounds} → ${q.storageRounds}; graph findById ${p.findDocumentsById} → ${q.findDocumentsById}, query ${p.query} → ${q.query}, bulkWrite ${p.bulkWrite} → ${q.bulkWrite}, documents read ${p.documentsRead} → ${q.documentsRead}; lock wait ${round(p.lockWaitMs)} → ${round(q.lockWaitMs)} ms`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Part 2: the app
// ---------------------------------------------------------------------------------------------

/**
 * When the Field screen's heading entered the DOM, and the frame after (ms since navigation
 * start); and the frame after it shows the device's data (UP-6: the screen renders before the
 * database is open, each view saying it is reading the storage until then).
 */
interface FirstRender {
  readonly dom: number;
  readonly frame: number;
  readonly dataFrame: number;
}
type FirstRenderWindow = Window & { firstRender?: FirstRender };

/** Installed before the app's scripts: the app stays local-only and the first render is timed. */
function appInitScript(reading: string): void {
  localStorage.setItem('identity-sync:connection', JSON.stringify({ kind: 'local' }));
  const record = window as FirstRenderWindow;
  let shell: { dom: number; frame: number } | null = null;
  let dataFrame: number | null = null;
  const done = () => {
    if (shell !== null && dataFrame !== null) record.firstRender = { ...shell, dataFrame };
  };
  const observer = new MutationObserver(() => {
    const heading = document.getElementById('current-person-heading');
    if (heading === null) return;
    if (shell === null) {
      const dom = performance.now();
      shell = { dom, frame: dom };
      requestAnimationFrame(() => {
        shell = { dom, frame: performance.now() };
        done();
      });
    }
    const region = (name: string) =>
      document.querySelector(`section[aria-labelledby="${name}"]`)?.textContent ?? reading;
    if (region('current-person-heading').includes(reading) || region('people-heading').includes(reading))
      return;
    observer.disconnect();
    requestAnimationFrame(() => {
      dataFrame = performance.now();
      done();
    });
  });
  observer.observe(document, { childList: true, subtree: true, characterData: true });
}

/** Opens the app and waits for the Field screen; returns the first render and the JS it loaded. */
async function openApp(context: BrowserContext, appUrl: string) {
  const page = await context.newPage();
  // Chromium counts main-thread time from Performance.enable on: enabled before the navigation.
  const counters = await mainThreadCounters(context, page);
  const scripts: Promise<number>[] = [];
  page.on('response', (response) => {
    if (response.request().resourceType() === 'script')
      scripts.push(
        response.body().then(
          (body) => gzipSync(body).length,
          () => 0,
        ),
      );
  });
  await page.goto(appUrl);
  const handle = await page.waitForFunction(() => (window as FirstRenderWindow).firstRender ?? null, null, {
    timeout: 120_000,
  });
  const firstRender = (await handle.jsonValue()) as FirstRender;
  const jsGzipBytes = (await Promise.all(scripts)).reduce((a, b) => a + b, 0);
  const timeline = await page.evaluate(() => {
    const at = (name: string) => performance.getEntriesByName(name)[0]?.startTime ?? null;
    return {
      openingPaintMs: at('first-contentful-paint'),
      scriptStartMs: at('identity-sync:script-start'),
      databaseOpenMs: at('identity-sync:database-open'),
      engineOpenMs: at('identity-sync:engine-open'),
    };
  });
  const rounded = Object.fromEntries(
    Object.entries(timeline).map(([key, ms]) => [key, ms === null ? null : round(ms)]),
  ) as Record<keyof typeof timeline, number | null>;
  const mainThread = await mainThreadSplit(counters);
  return {
    page,
    firstRenderMs: round(firstRender.frame),
    fieldDataMs: round(firstRender.dataFrame),
    jsGzipBytes,
    timeline: rounded,
    /** Chromium's main-thread counters of the page from its start to the Field with its data. */
    mainThread,
  };
}

/**
 * Logs in a customer through the form; ms from the click to the frame after the current-person
 * region shows a new MPID (or, with `newMpid` false, the customer ID: a first login may convert
 * the anonymous current person and keep their MPID).
 */
async function identifyToScreen(page: Page, customerId: string, newMpid = true): Promise<ScreenTimes> {
  await page.getByLabel('Customer ID').fill(customerId);
  return page.evaluate(
    ([customer, mustChange, answerMark]) =>
      new Promise<ScreenTimes>((resolve, reject) => {
        const region = document.querySelector('section[aria-labelledby="current-person-heading"]');
        const button = [...document.querySelectorAll('button')].find(
          (b) => b.textContent.trim() === 'Log in',
        );
        if (region === null || button === undefined) {
          reject(new Error('no current-person region or Log in button'));
          return;
        }
        const mpid = () => region.querySelector('code[title]')?.getAttribute('title') ?? null;
        const before = mpid();
        const done = () =>
          mustChange ? mpid() !== null && mpid() !== before : (region.textContent ?? '').includes(customer);
        const timer = setTimeout(() => reject(new Error(`no new MPID on screen (still ${before})`)), 10_000);
        const started = performance.now();
        const observer = new MutationObserver(() => {
          if (!done()) return;
          const dom = performance.now() - started;
          observer.disconnect();
          clearTimeout(timer);
          const answer = performance.getEntriesByName(answerMark).at(-1)?.startTime ?? Number.NaN;
          requestAnimationFrame(() =>
            resolve({ total: performance.now() - started, answer: answer - started, dom }),
          );
        });
        observer.observe(region, { childList: true, subtree: true, characterData: true, attributes: true });
        button.click();
      }),
    [customerId, newMpid, IDENTITY_ANSWER_MARK] as const,
  );
}

/** One login's ms from the click: to the frame after the new MPID, the engine's answer, the MPID in the DOM. */
interface ScreenTimes {
  readonly total: number;
  readonly answer: number;
  readonly dom: number;
}

/**
 * Identify-to-screen percentiles, and Chromium's main-thread task time per login (typing the
 * customer ID, the login, and every render it causes, the people list's included): a CPU figure
 * that the machine's load inflates far less than the wall-clock percentiles.
 *
 * `settled` false: each login is typed and clicked as soon as the last one is on screen, so it
 * meets the work the last one left for later (the lists and the current person's storage follow
 * it `LIVE_QUERY_DELAY_MS` after, DE-13, DE-14). `settled` true: each waits until that work is
 * done, as a person typing the next customer ID does: one login at a time.
 */
async function identifySeries(context: BrowserContext, page: Page, label: string, settled: boolean) {
  // The first login of a series may convert the current anonymous person (same MPID): not timed.
  await identifyToScreen(page, `${label}-warm`, false);
  const counters = await mainThreadCounters(context, page);
  const before = await counters();
  const samples: ScreenTimes[] = [];
  for (let i = 0; i < UI_SAMPLES; i++) {
    if (settled) await listsSettled(page);
    samples.push(await identifyToScreen(page, `${label}-${i}`));
  }
  const perLogin = await mainThreadSplit(counters, before, UI_SAMPLES);
  return {
    ...stats(samples.map((s) => s.total)),
    /** Click → the form has the engine's answer (UP-8): the engine's call, as the app makes it. */
    answer: stats(samples.map((s) => s.answer)),
    /** The engine's answer → the new MPID in the DOM: the views and React. */
    answerToDom: stats(samples.map((s) => s.dom - s.answer)),
    /** The new MPID in the DOM → the frame after it. */
    domToFrame: stats(samples.map((s) => s.total - s.dom)),
    mainThreadMsPerLogin: perLogin.task,
    mainThreadPerLogin: perLogin,
  };
}

/** The back-to-back series on one device state, under the CPU profiler with `--cpu-profile`. */
function backToBack(context: BrowserContext, page: Page, device: 'empty' | 'full') {
  const series = () => identifySeries(context, page, `ui-${device}`, false);
  const profile = args['cpu-profile'];
  if (profile === undefined) return series();
  return profiled(
    context,
    page,
    `${profile}.app-${device}.cpuprofile`,
    `back-to-back logins, ${device} device`,
    series,
  );
}

/**
 * Waits until the lists have taken the series' last login (DE-13: they follow a write
 * `LIVE_QUERY_DELAY_MS` after it) and React has rendered them, so that the scroll times scrolling,
 * not a list update that scrolling keeps interrupting.
 */
async function listsSettled(page: Page): Promise<void> {
  await page.waitForTimeout(10 * LIVE_QUERY_DELAY_MS);
  await page.evaluate(
    () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
  );
}

/** Scrolls the people list by a few rows each frame; rAF deltas, and how many people it lists. */
async function scrollFrames(page: Page, minPeople: number) {
  const listbox = page.getByRole('listbox', { name: 'People on this device' });
  await listbox.waitFor({ timeout: 120_000 });
  await page.waitForFunction(
    (min) => (document.querySelector('[role="listbox"]')?.scrollHeight ?? 0) >= min * 56,
    minPeople,
    { timeout: 120_000 },
  );
  return listbox.evaluate(
    (box, frames) =>
      new Promise<{ deltas: number[]; rows: number }>((resolve) => {
        const deltas: number[] = [];
        let last = -1;
        const frame = (now: number) => {
          if (last >= 0) deltas.push(now - last);
          last = now;
          box.scrollTop += 180;
          if (deltas.length < frames) requestAnimationFrame(frame);
          else resolve({ deltas, rows: Math.round(box.scrollHeight / 56) });
        };
        requestAnimationFrame(frame);
      }),
    SCROLL_FRAMES,
  );
}

async function launchApp(profileDir: string): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
  });
  await context.addInitScript(appInitScript, STORAGE_READING);
  return context;
}

/** Builds the app into dist/app (unless asked not to) and copies it beside the harness. */
function prepareAppDir(dir: string, script: string): void {
  const built = path.join(root, 'dist', 'app');
  if (!args['skip-build']) {
    log('building the app (vite build -c renderer/vite.config.ts)…');
    const minify = args['cpu-profile'] === undefined ? [] : ['--minify', 'false'];
    const run = spawnSync(
      'npx',
      ['vite', 'build', '-c', 'renderer/vite.config.ts', '--logLevel', 'warn', ...minify],
      { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (run.status !== 0) throw new Error('the app build failed');
  }
  if (!existsSync(path.join(built, 'index.html'))) throw new Error('no built app in dist/app');
  cpSync(built, dir, { recursive: true });
  writeHarness(path.join(dir, 'harness'), script);
}

/**
 * The app on an empty device, then part 1 through the harness on the app's own origin and database,
 * then the app again with those people on the device.
 */
async function appMetrics(appUrl: string, profileDir: string) {
  const context = await launchApp(profileDir);
  const cold = await openApp(context, appUrl);
  log(`first render on an empty device: ${cold.firstRenderMs} ms`);
  const identifyEmpty = await backToBack(context, cold.page, 'empty');
  const identifySettledEmpty = await identifySeries(context, cold.page, 'ui-settled-empty', true);
  await cold.page.close();
  const identityResults = await identityCalls(context, `${appUrl}harness/index.html`, APP_DATABASE, () =>
    chromiumCpu(profileDir),
  );
  const full = await openApp(context, appUrl);
  log(`first render with ${PEOPLE} people: ${full.firstRenderMs} ms`);
  const identifyFull = await backToBack(context, full.page, 'full');
  const identifySettledFull = await identifySeries(context, full.page, 'ui-settled-full', true);
  await listsSettled(full.page);
  const taskMs = await mainThreadMs(context, full.page);
  const busyBefore = await taskMs();
  const scroll = await scrollFrames(full.page, PEOPLE);
  const busyPerFrame = ((await taskMs()) - busyBefore) / scroll.deltas.length;
  await context.close();
  return {
    identityResults,
    jsGzipKb: round(cold.jsGzipBytes / 1024, 1),
    firstRenderEmptyMs: cold.firstRenderMs,
    firstRenderFullMs: full.firstRenderMs,
    /** The frame after the Field shows the device's data (its views rendered before, UP-6). */
    fieldDataEmptyMs: cold.fieldDataMs,
    fieldDataFullMs: full.fieldDataMs,
    /** Main thread from the page's start to the Field with its data (task, script, layout, style ms). */
    firstRenderMainThreadEmpty: cold.mainThread,
    firstRenderMainThreadFull: full.mainThread,
    /** Navigation start → the opening state painted, the script started, the database and engine open. */
    startEmpty: cold.timeline,
    startFull: full.timeline,
    identifyEmpty,
    identifyFull,
    identifySettledEmpty,
    identifySettledFull,
    scroll: {
      ...stats(scroll.deltas),
      max: round(Math.max(...scroll.deltas)),
      dropped: scroll.deltas.filter((d) => d > 1.5 * VSYNC_MS).length,
      frames: scroll.deltas.length,
      mainThreadMsPerFrame: round(busyPerFrame),
      rows: scroll.rows,
    },
  };
}

type AppResults = Omit<Awaited<ReturnType<typeof appMetrics>>, 'identityResults'>;

function printApp(a: AppResults, identity: IdentityResults): void {
  const floorEmpty = identity.buckets[0]?.identity.p50;
  const floorFull = identity.buckets.at(-1)?.identity.p50;
  const verdict = (value: number, budget: number) => (value <= budget ? 'ok' : 'OVER');
  console.log(`\n2. the app (built, served by the server under /app/, local-only)`);
  const row = (name: string, value: string, budget: string, ok: string) =>
    console.log(`${name.padEnd(52)} | ${value.padStart(10)} | ${budget.padStart(8)} | ${ok}`);
  row('metric', 'value', 'budget', '');
  row(
    'Field route JS, gzip (first render)',
    `${a.jsGzipKb} KB`,
    `${BUDGETS.jsGzipKb} KB`,
    verdict(a.jsGzipKb, BUDGETS.jsGzipKb),
  );
  row(
    'first meaningful render, empty device',
    `${a.firstRenderEmptyMs} ms`,
    `${BUDGETS.firstRenderMs} ms`,
    verdict(a.firstRenderEmptyMs, BUDGETS.firstRenderMs),
  );
  row(
    `first meaningful render, ${PEOPLE} people`,
    `${a.firstRenderFullMs} ms`,
    `${BUDGETS.firstRenderMs} ms`,
    verdict(a.firstRenderFullMs, BUDGETS.firstRenderMs),
  );
  const screenRow = (name: string, p95: number) =>
    row(
      name,
      `${p95} ms`,
      `${BUDGETS.identifyToScreenP95Ms} ms`,
      verdict(p95, BUDGETS.identifyToScreenP95Ms),
    );
  screenRow('identify-to-screen p95, empty, back to back', a.identifyEmpty.p95);
  screenRow(`identify-to-screen p95, ${PEOPLE} people, back to back`, a.identifyFull.p95);
  screenRow('identify-to-screen p95, empty, one at a time', a.identifySettledEmpty.p95);
  screenRow(`identify-to-screen p95, ${PEOPLE} people, one at a time`, a.identifySettledFull.p95);
  row(
    `people list scroll frame p95 (${a.scroll.rows} rows)`,
    `${a.scroll.p95} ms`,
    `${BUDGETS.scrollFrameP95Ms} ms`,
    verdict(a.scroll.p95, BUDGETS.scrollFrameP95Ms),
  );
  const start = (t: AppResults['startEmpty']) =>
    `opening state painted ${t.openingPaintMs} ms, script ${t.scriptStartMs}, database open ${t.databaseOpenMs}, engine open ${t.engineOpenMs}`;
  const split = (m: MainThreadSplit) =>
    `task ${m.task} ms (script ${m.script}, layout ${m.layout}, style ${m.style})`;
  console.log(
    `first render, empty device: ${start(a.startEmpty)}, Field ${a.firstRenderEmptyMs} ms, with the device's data ${a.fieldDataEmptyMs} ms; main thread until then ${split(a.firstRenderMainThreadEmpty)}`,
  );
  console.log(
    `first render, ${PEOPLE} people: ${start(a.startFull)}, Field ${a.firstRenderFullMs} ms, with the device's data ${a.fieldDataFullMs} ms; main thread until then ${split(a.firstRenderMainThreadFull)}`,
  );
  console.log(
    `main thread per login, empty device: ${split(a.identifyEmpty.mainThreadPerLogin)}; ${PEOPLE} people: ${split(a.identifyFull.mainThreadPerLogin)}`,
  );
  const parts = (s: AppResults['identifyEmpty']) =>
    `click → engine's answer p50 ${s.answer.p50} / p95 ${s.answer.p95} ms, answer → MPID in the DOM ${s.answerToDom.p50} / ${s.answerToDom.p95}, DOM → frame ${s.domToFrame.p50} / ${s.domToFrame.p95}`;
  console.log(`identify-to-screen back to back, empty device: ${parts(a.identifyEmpty)}`);
  console.log(`identify-to-screen back to back, ${PEOPLE} people: ${parts(a.identifyFull)}`);
  console.log(`identify-to-screen one at a time, empty device: ${parts(a.identifySettledEmpty)}`);
  console.log(`identify-to-screen one at a time, ${PEOPLE} people: ${parts(a.identifySettledFull)}`);
  console.log(
    `identify-to-screen floor, the engine's identity call alone (part 1, first / last bucket): p50 ${floorEmpty} / ${floorFull} ms; main thread per login (typing, login, every render) ${a.identifyEmpty.mainThreadMsPerLogin} / ${a.identifyFull.mainThreadMsPerLogin} ms (empty / full)`,
  );
  console.log(
    `identify-to-screen p50 ${a.identifyEmpty.p50} / ${a.identifyFull.p50} ms back to back, ${a.identifySettledEmpty.p50} / ${a.identifySettledFull.p50} ms one at a time (empty / full); scroll frame p50 ${a.scroll.p50} ms, p99 ${a.scroll.p99} ms, max ${a.scroll.max} ms, ${a.scroll.dropped} of ${a.scroll.frames} frames over 1.5 vsync, main thread ${a.scroll.mainThreadMsPerFrame} ms per frame`,
  );
}

// ---------------------------------------------------------------------------------------------

function summary(r: IdentityResults) {
  const identityAll = r.buckets.map((b) => b.identity.p95);
  const first = r.buckets[0] as Bucket;
  const last = r.buckets.at(-1) as Bucket;
  const worstP95 = Math.max(...identityAll);
  const flatRatio = round(last.identity.p95 / first.identity.p95);
  const flatRatioP50 = round(last.identity.p50 / first.identity.p50);
  const p50 = percentile(
    r.buckets.map((b) => b.identity.p50),
    50,
  );
  return {
    worstP95,
    flatRatio,
    flatRatioP50,
    ratioToRxdbInsertP50: round(p50 / r.floor.rxdbInsert.p50),
    ratioToIdbPutP50: round(p50 / r.floor.idbPut.p50),
    meetsTarget: worstP95 <= BUDGETS.identityP95Ms && flatRatio <= BUDGETS.flatRatio,
  };
}

const work = mkdtempSync(path.join(tmpdir(), 'idsync-bench-app-'));
const script = await bundleHarness({ minify: args['cpu-profile'] === undefined });
try {
  let identity: IdentityResults;
  let app: AppResults | null = null;
  if (args['skip-ui']) {
    const server = await startHarnessServer(script);
    const context = await launchApp(path.join(work, 'profile'));
    try {
      identity = await identityCalls(context, server.url, 'bench-device', () =>
        chromiumCpu(path.join(work, 'profile')),
      );
    } finally {
      await context.close();
      await server.close();
    }
  } else {
    const appDir = path.join(work, 'app');
    prepareAppDir(appDir, script);
    const server = await startTestServer({ appDir });
    try {
      ({ identityResults: identity, ...app } = await appMetrics(
        `${server.url}/app/`,
        path.join(work, 'profile'),
      ));
    } finally {
      await server.close();
    }
  }
  printIdentity(identity);
  const verdict = summary(identity);
  console.log(
    `identity p95 worst bucket ${verdict.worstP95} ms (target ≤ ${BUDGETS.identityP95Ms}); last/first bucket p95 ${verdict.flatRatio} (flat: ≤ ${BUDGETS.flatRatio}), p50 ${verdict.flatRatioP50}; identity p50 / floor p50: ${verdict.ratioToRxdbInsertP50}× RxDB insert, ${verdict.ratioToIdbPutP50}× IndexedDB put → ${verdict.meetsTarget ? 'target met' : 'TARGET NOT MET'}`,
  );
  if (app !== null) printApp(app, identity);
  console.log(
    JSON.stringify({
      bench: 'app',
      people: PEOPLE,
      bucketSize: BUCKET,
      budgets: BUDGETS,
      identity: { ...identity, ...verdict },
      app,
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
