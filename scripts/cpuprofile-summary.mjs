#!/usr/bin/env node
/**
 * Prints the summary of V8 CPU profiles (`scripts/cpuprofile.mjs`): self and total time per
 * function, share of the busy time, bundle positions mapped to sources where a .map is beside.
 *
 *   node scripts/cpuprofile-summary.mjs [--top 25] [--match text] [--from µs --to µs]
 *     [--skip-until fn] [--focus fnA,fnB] [--requests n] [--stages] FILE.cpuprofile...
 *
 * `--match` keeps only functions whose name or file contains the text (e.g. `device-store`).
 * `--from`/`--to` keep the samples of a window, in µs of the monotonic clock the profile uses
 * (`process.hrtime.bigint() / 1000n` in another process on the same Linux machine).
 * `--skip-until` drops the samples before the first one with `fn` on its stack (startup).
 * `--focus` also lists what runs under these functions (a name or "name file:line").
 * `--requests` divides times by n requests (µs/req) instead of printing ms.
 * `--stages` also gives each busy sample to a stage of an HTTP request (body, CORS, store, reply...).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { summariseCpuProfile } from './cpuprofile.mjs';

const { values: args, positionals: files } = parseArgs({
  options: {
    top: { type: 'string', default: '25' },
    match: { type: 'string', default: '' },
    from: { type: 'string', default: '0' },
    to: { type: 'string', default: 'Infinity' },
    'skip-until': { type: 'string' },
    focus: { type: 'string', default: '' },
    requests: { type: 'string' },
    stages: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
if (args.help || files.length === 0) {
  console.log(
    'usage: node scripts/cpuprofile-summary.mjs [--top n] [--match text] [--from µs --to µs] [--skip-until fn] [--focus fn,fn] [--requests n] [--stages] FILE.cpuprofile...',
  );
  process.exit(args.help ? 0 : 2);
}
for (const file of files) {
  const lines = summariseCpuProfile(JSON.parse(readFileSync(file, 'utf8')), {
    top: Number(args.top),
    match: args.match,
    from: Number(args.from),
    to: Number(args.to),
    focus: args.focus.split(',').filter(Boolean),
    stages: args.stages,
    ...(args['skip-until'] === undefined ? {} : { skipUntil: args['skip-until'] }),
    ...(args.requests === undefined ? {} : { requests: Number(args.requests) }),
  });
  console.log([file, ...lines].join('\n'));
}
