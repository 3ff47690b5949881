/**
 * Identity graph benchmark (`npm run bench:graph`, SPEC GV-5): frame times while panning a
 * 500-node graph in the admin console, in Debian's Chromium driven by playwright-core.
 *
 * The real server serves the built app (`vite build -c renderer/vite.config.ts`); one customer
 * profile has 249 visitor profiles aliased into it, each visitor holding one identity value:
 * 1 + 1 + 249 × 2 = 500 nodes at depth 1. The console opens the customer's detail, waits for the
 * graph, then drags the canvas with real mouse events (as fast as the driver sends them) while the page records
 * requestAnimationFrame deltas. Chromium runs at 60 Hz here, so a frame within budget reads as one
 * vsync interval (16.7 ms plus timer jitter) and a late one as two or more.
 *
 * Beside the frame times it reports what the frames cost, per frame drawn while dragging and per
 * pointer move: the renderer main thread's busy time (Chromium's `Performance.getMetrics`: task,
 * script, layout and style seconds; wall time, so it grows when the machine is oversubscribed) and
 * the CPU time of the renderer and GPU processes (`SystemInfo.getProcessInfo`; the renderer's
 * includes its raster threads, the GPU process does the software compositing). Without a GPU
 * (`--disable-gpu`) a frame can miss its vsync while the main thread is idle, and on a loaded
 * machine the CPU figures are the ones that compare across runs; the load average is printed.
 *
 * The floor, in the same run: the same drag over a one-person graph (two nodes) on the same page,
 * so what the 500 nodes add shows as a ratio even on a loaded machine.
 *
 * Prints one JSON line with the figures, the floor's, the ratios and the budget.
 *
 *   npm run bench:graph -- [--skip-build] [--frames 300] [--trace pan.json]
 *
 * `--frames`: pointer moves while dragging; `--trace`: write Chromium's trace of the pan there
 * (open it in the DevTools Performance panel).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type CDPSession } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium.ts';
import { ADMIN_TOKEN, call, startTestServer } from '../helpers/server.ts';

const { values: args } = parseArgs({
  options: {
    'skip-build': { type: 'boolean', default: false },
    frames: { type: 'string', default: '300' },
    trace: { type: 'string' },
  },
});
const FRAMES = Number(args.frames);
const VISITORS = 249;
const BUDGET_P95_MS = 17.7;
const root = process.cwd();
const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (n: number) => Number(n.toFixed(2));

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function omit<T extends object, K extends keyof T>(value: T, ...keys: K[]): Omit<T, K> {
  const copy = { ...value };
  for (const key of keys) delete copy[key];
  return copy;
}

/** The renderer main thread's cumulative busy seconds, from Chromium's Performance domain. */
async function mainThreadMetrics(cdp: CDPSession) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const value = (name: string) => metrics.find((metric) => metric.name === name)?.value ?? 0;
  return {
    TaskDuration: value('TaskDuration'),
    ScriptDuration: value('ScriptDuration'),
    LayoutDuration: value('LayoutDuration'),
    RecalcStyleDuration: value('RecalcStyleDuration'),
  };
}

/** CPU seconds so far per Chromium process type (all renderers summed; `GPU` does the software compositing). */
async function processCpu(cdp: CDPSession): Promise<Map<string, number>> {
  const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
  const byType = new Map<string, number>();
  for (const info of processInfo) byType.set(info.type, (byType.get(info.type) ?? 0) + info.cpuTime);
  return byType;
}

if (!args['skip-build']) {
  log('building the app (vite build -c renderer/vite.config.ts)…');
  const run = spawnSync('npx', ['vite', 'build', '-c', 'renderer/vite.config.ts', '--logLevel', 'warn'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (run.status !== 0) throw new Error('the app build failed');
}
const appDir = path.join(root, 'dist', 'app');
if (!existsSync(path.join(appDir, 'index.html'))) throw new Error('no built app in dist/app');

const server = await startTestServer({
  appDir,
  config: {
    scopeId: 'default',
    strategy: 'profile_conversion',
    identityPriority: ['customerid', 'ios_idfv'],
    loginIdentities: ['customerid'],
    uniqueIdentities: ['customerid'],
  },
});
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
try {
  const idsync = async (route: string, body: Record<string, unknown>) =>
    (await call<{ mpid: string }>(server.url, route, { environment: 'production', ...body })).body.mpid;
  const customer = await idsync('/v1/login', { known_identities: { customerid: 'bench-customer' } });
  log(`seeding ${VISITORS} visitors aliased into ${customer}…`);
  for (let i = 0; i < VISITORS; i++) {
    const visitor = await idsync('/v1/identify', { known_identities: { ios_idfv: `bench-visitor-${i}` } });
    const aliased = await call(server.url, '/v1/alias', {
      environment: 'production',
      data: { source_mpid: visitor, destination_mpid: customer },
    });
    if (aliased.status !== 202) throw new Error(`alias refused: ${aliased.text}`);
  }
  const lone = await idsync('/v1/identify', { known_identities: { ios_idfv: 'bench-lone-visitor' } });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${server.url}/app/#/admin`);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.keyboard.press('Enter');
  await page.getByRole('navigation').waitFor();
  const browserCdp = await browser.newBrowserCDPSession();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');

  /** Opens a person's graph and drags it with FRAMES pointer moves; what the frames took and cost. */
  async function pan(mpid: string, trace: string | undefined) {
    await page.goto(`${server.url}/app/#/admin/people/${mpid}`);
    const canvas = page.getByTestId('graph-canvas');
    await canvas.locator('.react-flow__node').first().waitFor({ timeout: 60_000 });
    const nodes = await canvas.locator('.react-flow__node').count();
    const summary = await page.getByText(/The graph as text/).innerText();
    const box = (await canvas.boundingBox())!;
    await page.evaluate(() => {
      const record = { deltas: [] as number[], stop: false };
      (window as unknown as { graphFrames: typeof record }).graphFrames = record;
      let last = -1;
      const frame = (now: number) => {
        if (record.stop) return;
        if (last >= 0) record.deltas.push(now - last);
        last = now;
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
    if (trace !== undefined) await browser.startTracing(page, { path: trace, screenshots: false });
    const metricsBefore = await mainThreadMetrics(cdp);
    const cpuBefore = await processCpu(browserCdp);
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    for (let step = 0; step < FRAMES; step++) {
      const angle = step / 20;
      await page.mouse.move(cx + 200 * Math.cos(angle), cy + 150 * Math.sin(angle));
    }
    await page.mouse.up();
    const deltas = await page.evaluate(() => {
      const record = (window as unknown as { graphFrames: { deltas: number[]; stop: boolean } }).graphFrames;
      record.stop = true;
      return record.deltas;
    });
    const metricsAfter = await mainThreadMetrics(cdp);
    if (trace !== undefined) await browser.stopTracing();
    const cpuAfter = await processCpu(browserCdp);
    const cpuMs = (type: string) => ((cpuAfter.get(type) ?? 0) - (cpuBefore.get(type) ?? 0)) * 1000;
    const busyMs = (name: keyof typeof metricsAfter) => (metricsAfter[name] - metricsBefore[name]) * 1000;
    const frames = deltas.length;
    return {
      summary,
      nodes,
      frames,
      panFrameP50Ms: round(percentile(deltas, 50)),
      panFrameP95Ms: round(percentile(deltas, 95)),
      panFrameP99Ms: round(percentile(deltas, 99)),
      panFrameMaxMs: round(Math.max(...deltas)),
      mainThreadMsPerFrame: round(busyMs('TaskDuration') / frames),
      scriptMsPerFrame: round(busyMs('ScriptDuration') / frames),
      layoutMsPerFrame: round(busyMs('LayoutDuration') / frames),
      styleMsPerFrame: round(busyMs('RecalcStyleDuration') / frames),
      mainThreadMsPerMove: round(busyMs('TaskDuration') / FRAMES),
      rendererCpuMsPerFrame: round(cpuMs('renderer') / frames),
      rendererCpuMsPerMove: round(cpuMs('renderer') / FRAMES),
      gpuProcessCpuMsPerMove: round(cpuMs('GPU') / FRAMES),
    };
  }

  // The floor: the same drag over a one-person graph (two nodes), same page, driver and machine.
  const floor = await pan(lone, undefined);
  const graph = await pan(customer, args.trace);
  const ratio = (a: number, b: number) => (b === 0 ? null : round(a / b));
  log(
    `${graph.summary}; ${graph.nodes} nodes rendered in view; pan frame p50 ${graph.panFrameP50Ms} ms, p95 ${graph.panFrameP95Ms} ms (floor, 2 nodes: p95 ${floor.panFrameP95Ms} ms); renderer CPU ${graph.rendererCpuMsPerMove} ms per move (floor ${floor.rendererCpuMsPerMove} ms)`,
  );
  const { summary, nodes, ...figures } = graph;
  console.log(
    JSON.stringify({
      bench: 'graph',
      graph: summary,
      nodesInView: nodes,
      ...figures,
      floor: { nodesInView: floor.nodes, ...omit(floor, 'summary', 'nodes') },
      rendererCpuPerMoveToFloor: ratio(graph.rendererCpuMsPerMove, floor.rendererCpuMsPerMove),
      panFrameP95ToFloor: ratio(graph.panFrameP95Ms, floor.panFrameP95Ms),
      loadAverage1m: round(loadavg()[0]!),
      budgetP95Ms: BUDGET_P95_MS,
      withinBudget: graph.panFrameP95Ms <= BUDGET_P95_MS,
    }),
  );
} finally {
  await browser.close();
  await server.close();
}
