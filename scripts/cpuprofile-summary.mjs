#!/usr/bin/env node
/**
 * Summarises V8 CPU profiles (`node --cpu-prof` writes them as .cpuprofile): the functions with
 * the most self time and the most total time (self plus everything they called, a recursive
 * function counted once per sample), each as milliseconds and share of the profile.
 *
 *   node scripts/cpuprofile-summary.mjs [--top 25] [--match text] [--from µs --to µs] FILE.cpuprofile...
 *
 * `--match` keeps only functions whose name or file contains the text (e.g. `device-store`).
 * `--from`/`--to` keep the samples of a window, in µs of the monotonic clock the profile uses
 * (`process.hrtime.bigint() / 1000n` in another process on the same Linux machine).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: args, positionals: files } = parseArgs({
  options: {
    top: { type: 'string', default: '25' },
    match: { type: 'string', default: '' },
    from: { type: 'string', default: '0' },
    to: { type: 'string', default: 'Infinity' },
  },
  allowPositionals: true,
});
if (files.length === 0) {
  console.log('usage: node scripts/cpuprofile-summary.mjs [--top n] [--match text] FILE.cpuprofile...');
  process.exit(2);
}
const top = Number(args.top);

/** A function's key: its name and where it is defined. */
function keyOf(frame) {
  const file = frame.url === '' ? '' : path.basename(frame.url.replace(/^file:\/\//, ''));
  const where = file === '' ? '' : ` ${file}:${frame.lineNumber + 1}`;
  return `${frame.functionName || '(anonymous)'}${where}`;
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const self = new Map();
  const total = new Map();
  let all = 0;
  let at = profile.startTime;
  const from = Number(args.from);
  const to = Number(args.to);
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from || at > to) return;
    const delta = (profile.timeDeltas[i] ?? 0) / 1000;
    all += delta;
    const node = nodes.get(id);
    const key = keyOf(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + delta);
    const seen = new Set();
    for (let up = id; up !== undefined; up = parent.get(up)) {
      const k = keyOf(nodes.get(up).callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + delta);
    }
  });
  const busy = all - (self.get('(idle)') ?? 0);
  const show = (title, table) => {
    console.log(`\n${title}`);
    const rows = [...table]
      .filter(([k]) => k !== '(root)' && (args.match === '' || k.includes(args.match)))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
    for (const [k, ms] of rows)
      console.log(`${ms.toFixed(1).padStart(10)} ms ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${k}`);
  };
  console.log(`${file}: ${all.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms not idle (shares are of that)`);
  show('self time', self);
  show('total time', total);
}
