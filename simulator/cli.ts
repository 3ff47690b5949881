/**
 * `npm run simulate`: runs scenario files, or generated random timelines, against an in-process
 * server (a temporary SQLite file) or a live server, and reports every failed expectation.
 * Exit status: 0 when everything held, 1 when an expectation failed, 2 for bad usage or input.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { progressBar } from '../shared/util/progress.ts';
import type { FaultRates } from './faults.ts';
import { randomScenario } from './random-scenario.ts';
import { runScenario, type ScenarioReport, type StepFailure } from './run-scenario.ts';
import { ScenarioSchema, type Scenario } from '../shared/protocol/scenario.ts';
import type { LiveServer } from './world.ts';

const USAGE = `usage: npm run simulate -- [options] [scenario.json | folder ...]

Runs scenario files (default: every *.json under ./scenarios) on simulated devices and a server,
and checks their expectations. See docs/scenarios.md for the file format.

options:
  --server <url>         run against a live server instead of an in-process one (needs --admin-token;
                         server stop/start steps are not available)
  --admin-token <token>  admin token of the live server                    [IDSYNC_ADMIN_TOKEN]
  --random <n>           run n generated timelines instead of files
  --devices <n>          devices per generated timeline (default 3)
  --steps <n>            steps per generated timeline (default 60)
  --seed <n>             seed of the first timeline (default 1; timeline i uses seed + i)
  --faults <rate>        lose, drop the answer of, or duplicate this share of sync calls (0-0.5)
  --json                 print one JSON report per line instead of text
  --stdin                run the one scenario file read from standard input
  --timeline             add each step's answers, the server's trace and graph, the devices' current
                         users, and the final state to the JSON report (what the Conversion Lab shows)
  -h, --help             this text`;

function usageError(message: string): never {
  process.stderr.write(`error: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

/** Bad input files: say what is wrong with them, without the usage text. */
function inputError(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

function integer(
  value: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    usageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

function scenarioFiles(targets: readonly string[]): string[] {
  const files: string[] = [];
  for (const target of targets) {
    let stat;
    try {
      stat = statSync(target);
    } catch {
      inputError(`${target} does not exist`);
    }
    if (stat.isDirectory()) {
      for (const entry of readdirSync(target).sort())
        if (entry.endsWith('.json')) files.push(path.join(target, entry));
    } else files.push(target);
  }
  return files;
}

/** `file` names the source in messages; 0 is standard input. */
function loadScenario(file: string | 0): Scenario {
  const name = file === 0 ? 'standard input' : file;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    inputError(`${name} is not readable JSON: ${(error as Error).message}`);
  }
  const parsed = ScenarioSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('\n');
    inputError(`${name} is not a valid scenario:\n${issues}`);
  }
  return parsed.data;
}

function printReport(report: ScenarioReport, scenario: Scenario, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  if (process.stderr.isTTY) process.stderr.write('\r\u001b[K');
  const mark = report.ok ? 'ok  ' : 'FAIL';
  process.stdout.write(
    `${mark} ${report.name} (${report.steps} steps, ${report.expectations} expectations, ${report.durationMs} ms)\n`,
  );
  const byStep = new Map<number, StepFailure[]>();
  for (const failure of report.failures)
    byStep.set(failure.step, [...(byStep.get(failure.step) ?? []), failure]);
  for (const [step, failures] of [...byStep].sort(([a], [b]) => a - b)) {
    process.stdout.write(`     step ${step} ${JSON.stringify(scenario.steps[step - 1])}\n`);
    for (const failure of failures)
      process.stdout.write(`       - ${failure.message.replaceAll('\n', '\n         ')}\n`);
  }
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: true,
      options: {
        server: { type: 'string' },
        'admin-token': { type: 'string' },
        random: { type: 'string' },
        devices: { type: 'string' },
        steps: { type: 'string' },
        seed: { type: 'string' },
        faults: { type: 'string' },
        json: { type: 'boolean' },
        stdin: { type: 'boolean' },
        timeline: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    usageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let live: LiveServer | undefined;
  if (v.server !== undefined) {
    const adminToken = v['admin-token'] ?? process.env['IDSYNC_ADMIN_TOKEN'];
    if (adminToken === undefined || adminToken === '')
      usageError('--server needs --admin-token (or IDSYNC_ADMIN_TOKEN)');
    try {
      new URL(v.server);
    } catch {
      usageError(`--server ${v.server} is not a URL`);
    }
    live = { url: v.server, adminToken };
  }
  let faults: FaultRates | undefined;
  if (v.faults !== undefined) {
    const rate = Number(v.faults);
    if (!Number.isFinite(rate) || rate < 0 || rate > 0.5)
      usageError('--faults must be a number from 0 to 0.5');
    faults = { lose: rate, dropAnswer: rate, duplicate: rate };
  }
  const seed = integer(v.seed, 'seed', 1, 0, 2 ** 31);
  const runs: { scenario: Scenario; seed: number }[] = [];
  if (v.random !== undefined) {
    const count = integer(v.random, 'random', 1, 1, 100_000);
    const devices = integer(v.devices, 'devices', 3, 1, 50);
    const steps = integer(v.steps, 'steps', 60, 1, 100_000);
    for (let i = 0; i < count; i += 1) {
      runs.push({
        scenario: randomScenario({ seed: seed + i, devices, steps, serverFaults: live === undefined }),
        seed: seed + i,
      });
    }
  } else if (v.stdin === true) {
    if (parsed.positionals.length > 0) usageError('--stdin takes no scenario files');
    runs.push({ scenario: loadScenario(0), seed });
  } else {
    const files = scenarioFiles(parsed.positionals.length > 0 ? parsed.positionals : ['scenarios']);
    if (files.length === 0) usageError('no scenario files found');
    for (const file of files) runs.push({ scenario: loadScenario(file), seed });
    if (live !== undefined && runs.some((r) => r.scenario.steps.some((s) => s.do === 'server'))) {
      usageError('server stop/start steps need the in-process server; drop --server for those scenarios');
    }
  }
  const json = v.json === true;
  const progress = json ? null : progressBar(process.stderr, 'simulating', runs.length);
  let failed = 0;
  for (const [index, run] of runs.entries()) {
    const report = await runScenario(run.scenario, {
      seed: run.seed,
      ...(live === undefined ? {} : { live }),
      ...(faults === undefined ? {} : { faults }),
      invariantsEveryStep: v.random !== undefined,
      timeline: v.timeline === true,
    });
    if (!report.ok) failed += 1;
    if (!report.ok || runs.length <= 50 || json) printReport(report, run.scenario, json);
    if (!report.ok && v.random !== undefined)
      process.stdout.write(
        `     reproduce with: npm run simulate -- --random 1 --seed ${run.seed}${v.devices === undefined ? '' : ` --devices ${v.devices}`}${v.steps === undefined ? '' : ` --steps ${v.steps}`}${v.faults === undefined ? '' : ` --faults ${v.faults}`}\n`,
      );
    progress?.update(index + 1, failed === 0 ? '' : `${failed} failed`);
  }
  progress?.finish(failed === 0 ? 'all held' : `${failed} failed`);
  if (!json) process.stdout.write(`${runs.length - failed} of ${runs.length} scenarios held\n`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
