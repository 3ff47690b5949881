/**
 * The one summariser of V8 CPU profiles (`node --cpu-prof` writes them as .cpuprofile), used by
 * the CLI `scripts/cpuprofile-summary.mjs` and by `test/bench/identify-profile-bench.ts`: the
 * functions with the most self time and the most total time (self plus everything they called, a
 * recursive function counted once per sample), each as time and share of the busy time (samples
 * that are neither `(idle)` nor `(program)`; `(idle)` is left out of the tables). Frames of a
 * bundle with a source map beside it (`dist/server.mjs` + `dist/server.mjs.map`) are named by
 * their source file and line. With `stages`, each busy sample is also given to one stage of an HTTP
 * request (`HTTP_STAGES`): the innermost frame of its stack that belongs to a stage decides.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const IDLE = new Set(['(idle)', '(program)']);

/**
 * The stages of a request through the bundled server, each a test on a frame's function name and
 * its source (the source file through the bundle's map, else the script's URL). Listed innermost
 * first where they nest: the request log and the resolver run inside the store's transaction, the
 * socket write inside the reply.
 */
export const HTTP_STAGES = [
  ['garbage collector', (name) => name === '(garbage collector)'],
  [
    'request log (row, JSON)',
    (name, source) =>
      source.includes('server/db/request-log') || (source.includes('idsync-routes') && name === 'logged'),
  ],
  [
    'resolver program (incl. body zod parse)',
    (_, source) =>
      source.includes('shared/resolver') || source.includes('shared/protocol') || source.includes('/zod/'),
  ],
  [
    'store: SQL, transaction, hot cache',
    (_, source) =>
      source.includes('server/db/') || source.includes('/kysely/') || source.includes('better-sqlite3'),
  ],
  ['metrics (prom-client)', (_, source) => source.includes('prom-client')],
  ['CORS', (_, source) => source.includes('@fastify/cors') || source.includes('server/http/cors')],
  [
    'authentication, limits',
    (_, source) =>
      source.includes('server/auth/') ||
      source.includes('request-limits') ||
      source.includes('token-buckets'),
  ],
  [
    'body: read, decode, JSON parse',
    (_, source) =>
      source.includes('server/http/body') ||
      source.includes('secure-json-parse') ||
      source.includes('content-type-parser'),
  ],
  [
    'socket write (writev)',
    (name) => name === 'writev' || name === 'writeUtf8String' || name === 'writeBuffer',
  ],
  [
    'reply: send, serialise, headers',
    (name, source) =>
      source.includes('fastify/lib/reply') || source.includes('_http_outgoing') || name === 'writeHead',
  ],
  ['route handler (server/http)', (_, source) => source.includes('server/http/')],
  [
    'Fastify routing, hooks, request logger',
    (_, source) => /fastify|find-my-way|pino|avvio|toad-cache/.test(source),
  ],
  ['Node HTTP parser, streams, ticks', (_, source) => source.startsWith('node:') || source === ''],
];

/** The source of a frame: its original file through a bundle's source map, else its URL. */
function frameSourcer(mapOf) {
  return (frame) => {
    if (frame.url === '') return '';
    const entry = mapOf(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
    return entry?.originalSource ?? frame.url;
  };
}

function sourceMaps() {
  const maps = new Map();
  const mapOf = (url) => {
    if (!maps.has(url)) {
      const file = url.startsWith('file://') ? fileURLToPath(url) : url;
      const mapFile = `${file}.map`;
      maps.set(
        url,
        url !== '' && existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : null,
      );
    }
    return maps.get(url);
  };
  return mapOf;
}

/** Names frames `fn file:line`; through `FILE.map` beside a bundle, the source file and line. */
function frameNamer(mapOf) {
  return (frame) => {
    const name = frame.functionName || '(anonymous)';
    if (frame.url === '') return name;
    const entry = mapOf(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
    if (entry?.originalSource)
      return `${name} ${entry.originalSource.replace(/^.*?(server|shared|simulator|node_modules)\//, '$1/')}:${entry.originalLine + 1}`;
    return `${name} ${path.basename(frame.url.replace(/^file:\/\//, ''))}:${frame.lineNumber + 1}`;
  };
}

/**
 * The summary of one parsed .cpuprofile as printable lines.
 * @param {{nodes: {id: number, callFrame: {functionName: string, url: string, lineNumber: number, columnNumber: number}, children?: number[]}[], samples: number[], timeDeltas: number[], startTime: number}} profile
 * @param {{top?: number, match?: string, from?: number, to?: number, skipUntil?: string, focus?: string[], requests?: number, stages?: boolean}} options
 * @returns {string[]}
 */
export function summariseCpuProfile(profile, options = {}) {
  const {
    top = 25,
    match = '',
    from = 0,
    to = Infinity,
    skipUntil,
    focus = [],
    requests,
    stages = false,
  } = options;
  const mapOf = sourceMaps();
  const keyOf = frameNamer(mapOf);
  const sourceOf = frameSourcer(mapOf);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const stack = (id) => {
    const chain = [];
    for (let up = id; up !== undefined; up = parent.get(up)) chain.push(nodes.get(up));
    return chain;
  };
  const lines = [];
  let at = profile.startTime;
  let started = skipUntil === undefined;
  let skipped = 0;
  /** The kept samples: node id and ms. */
  const kept = [];
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    started ||= stack(id).some((n) => n.callFrame.functionName === skipUntil);
    if (!started) skipped += delta;
    else if (at >= from && at <= to) kept.push([id, delta / 1000]);
  });
  if (skipUntil !== undefined)
    lines.push(`skipped ${(skipped / 1e6).toFixed(2)} s before the first sample in ${skipUntil}`);
  const self = new Map();
  const total = new Map();
  const add = (table, key, ms) => table.set(key, (table.get(key) ?? 0) + ms);
  /** Adds `ms` to the total of each distinct function of `chain`. */
  const addOnce = (table, chain, ms) => {
    for (const key of new Set(chain.map((n) => keyOf(n.callFrame)))) add(table, key, ms);
  };
  let all = 0;
  let idle = 0;
  for (const [id, ms] of kept) {
    all += ms;
    if (IDLE.has(nodes.get(id).callFrame.functionName)) idle += ms;
    add(self, keyOf(nodes.get(id).callFrame), ms);
    addOnce(total, stack(id), ms);
  }
  const busy = all - idle;
  const amount = (ms) =>
    requests === undefined
      ? `${ms.toFixed(1).padStart(10)} ms`
      : `${((1000 * ms) / requests).toFixed(1).padStart(8)} µs/req`;
  const show = (title, table) => {
    lines.push('', title);
    const rows = [...table]
      .filter(([k]) => k !== '(root)' && k !== '(idle)' && (match === '' || k.includes(match)))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
    for (const [k, ms] of rows)
      lines.push(`${amount(ms)} ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${k}`);
  };
  lines.push(
    `${all.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms busy (shares are of that)` +
      (requests === undefined ? '' : `; ${requests} requests, busy ${amount(busy).trim()}`),
  );
  show('self time', self);
  show('total time', total);
  for (const fn of focus) {
    const under = new Map();
    let inside = 0;
    for (const [id, ms] of kept) {
      const chain = stack(id);
      const top = chain.findIndex((n) => n.callFrame.functionName === fn || keyOf(n.callFrame) === fn);
      if (top < 0) continue;
      inside += ms;
      addOnce(under, chain.slice(0, top), ms);
    }
    show(`total time under ${fn} (${amount(inside).trim()})`, under);
  }
  if (stages) {
    const stageOf = new Map();
    const stage = (id) => {
      if (!stageOf.has(id)) {
        const hit = stack(id)
          .map((n) =>
            HTTP_STAGES.find(([, test]) =>
              test(n.callFrame.functionName || '(anonymous)', sourceOf(n.callFrame)),
            ),
          )
          .find((s) => s !== undefined);
        stageOf.set(id, hit?.[0] ?? 'other');
      }
      return stageOf.get(id);
    };
    const table = new Map();
    for (const [id, ms] of kept)
      if (!IDLE.has(nodes.get(id).callFrame.functionName)) add(table, stage(id), ms);
    show('busy time by stage (innermost stage on the stack)', table);
  }
  return lines;
}
