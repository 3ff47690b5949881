/**
 * Where the server's CPU goes under load: populates 10,000 profiles, restarts the bundled server
 * (`dist/server.mjs`) under `node --cpu-prof`, drives one route with autocannon for 10 s, and
 * prints the busy time per request by function (self, then total), bundle positions mapped to
 * sources through the bundle's source map, startup samples skipped. Used for SPEC HP (see
 * docs/design.md "Identify hot path").
 *
 *   node scripts/build-server.mjs && node scripts/bench.mjs identify-profile [route] ['node flags'] [database]
 *     route: /v1/identify (default) or /healthz; database: a SQLite file or postgres:// URL
 *   FOCUS='fnA,fnB' ...        also list what is called under these functions (name or "name file:line")
 *   PROFILE=file REQS=n ...    summarise an existing .cpuprofile of n requests instead of running
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SourceMap } from 'node:module';
import autocannon from 'autocannon';
import { startBenchServer } from './bench-server.ts';

const PROFILES = 10000;
const KEY = 'us1-bench-key';
const CONFIG = {
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'device_application_stamp'],
  loginIdentities: ['customerid', 'email'],
  uniqueIdentities: ['customerid', 'email'],
};
const route = process.argv[2] ?? '/v1/identify';
const extra = (process.argv[3] ?? '').split(' ').filter(Boolean);
const database = process.argv[4];
async function load(): Promise<{ total: number; file: string; dataDir: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hp-'));
  const profDir = path.join(dataDir, 'prof');
  const opts = { dataDir, config: CONFIG, apiKey: KEY, ...(database ? { database } : {}) };
  let server = await startBenchServer(opts);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < PROFILES) {
        const k = next++;
        const r = await fetch(`${server.url}/v1/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-mp-key': KEY },
          body: JSON.stringify({
            environment: 'production',
            known_identities: {
              customerid: `c${k}`,
              email: `u${k}@example.com`,
              device_application_stamp: `das${k}`,
            },
          }),
        });
        await r.arrayBuffer();
      }
    }),
  );
  await server.stop();
  server = await startBenchServer({
    ...opts,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ...extra],
  });
  let n = 0;
  const result = await autocannon({
    url: server.url,
    connections: 16,
    duration: 10,
    requests: [
      route === '/healthz'
        ? { method: 'GET', path: route }
        : {
            method: 'POST',
            path: route,
            headers: { 'content-type': 'application/json', 'x-mp-key': KEY },
            setupRequest: (request: autocannon.Request) => {
              const k = (n++ * 7919) % PROFILES;
              return {
                ...request,
                body: JSON.stringify({
                  environment: 'production',
                  known_identities: { customerid: `c${k}`, device_application_stamp: `das${k}` },
                }),
              };
            },
          },
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
const loaded = process.env['PROFILE']
  ? { total: Number(process.env['REQS']), file: process.env['PROFILE'] }
  : await load();
const file = loaded.file;
console.log(file);
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount: number;
  children?: number[];
}
const map = new SourceMap(JSON.parse(readFileSync('dist/server.mjs.map', 'utf8')));
const prof = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
if ('dataDir' in loaded) rmSync(loaded.dataDir, { recursive: true, force: true });
const totalUs = prof.timeDeltas.reduce((a, b) => a + b, 0);
const perSample = totalUs / prof.samples.length;
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const parent = new Map<number, number>();
for (const x of prof.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const key = (x: Node) => {
  if (x.callFrame.url.endsWith('server.mjs')) {
    const e = map.findEntry(x.callFrame.lineNumber, x.callFrame.columnNumber) as {
      originalSource?: string;
      originalLine?: number;
    };
    if (e.originalSource)
      return `${x.callFrame.functionName || '(anon)'} ${e.originalSource.replace(/^.*?(server|shared|node_modules)\//, '$1/')}:${(e.originalLine ?? 0) + 1}`;
  }
  return `${x.callFrame.functionName || '(anon)'} ${path.basename(x.callFrame.url)}:${x.callFrame.lineNumber + 1}`;
};
const self = new Map<string, number>();
const total = new Map<string, number>();
const counts = new Map<number, number>();
const stackHas = (id: number, name: string) => {
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur))
    if (byId.get(cur)!.callFrame.functionName === name) return true;
  return false;
};
const first = prof.samples.findIndex((s) => stackHas(s, 'routeHandler'));
const firstUs = prof.timeDeltas.slice(0, first).reduce((a, b) => a + b, 0);
console.log(`skipping ${first} startup samples (${(firstUs / 1e6).toFixed(2)} s)`);
for (const s of prof.samples.slice(first)) counts.set(s, (counts.get(s) ?? 0) + 1);
for (const [id, c] of counts) {
  const x = byId.get(id) as Node;
  self.set(key(x), (self.get(key(x)) ?? 0) + c);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = key(byId.get(cur) as Node);
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + c);
  }
}
const idle = [...counts]
  .filter(([id]) => ['(idle)', '(program)'].includes(byId.get(id)!.callFrame.functionName))
  .reduce((a, [, c]) => a + c, 0);
const busy = prof.samples.length - first - idle;
const reqs = loaded.total;
console.log(
  `busy samples ${busy} of ${prof.samples.length}; µs per request (busy) ${((busy * perSample) / reqs).toFixed(0)}`,
);
const show = (m: Map<string, number>, title: string, k: number) => {
  console.log(`--- ${title}`);
  for (const [name, c] of [...m].sort((a, b) => b[1] - a[1]).slice(0, k))
    console.log(
      `${((c * perSample) / reqs).toFixed(1).padStart(7)} µs/req ${((100 * c) / busy).toFixed(1).padStart(5)}%  ${name}`,
    );
};
show(self, 'self', 45);
show(total, 'total', 90);
for (const focus of (process.env['FOCUS'] ?? '').split(',').filter(Boolean)) {
  // callees' totals within the subtrees of `focus`
  const sub = new Map<string, number>();
  let all = 0;
  for (const [id, c] of counts) {
    const chain: Node[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur))
      chain.push(byId.get(cur) as Node);
    const at = chain.findIndex((x) => x.callFrame.functionName === focus || key(x) === focus);
    if (at < 0) continue;
    all += c;
    const seen = new Set<string>();
    for (const x of chain.slice(0, at)) {
      const k = key(x);
      if (seen.has(k)) continue;
      seen.add(k);
      sub.set(k, (sub.get(k) ?? 0) + c);
    }
  }
  console.log(`=== under ${focus}: ${((all * perSample) / reqs).toFixed(1)} µs/req`);
  for (const [name, c] of [...sub].sort((a, b) => b[1] - a[1]).slice(0, 60))
    console.log(`${((c * perSample) / reqs).toFixed(1).padStart(7)} µs/req  ${name}`);
}
