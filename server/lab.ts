/**
 * The Conversion Lab's runner (SPEC LB-1, LB-5): runs a scenario under each asked strategy with the
 * simulator of `npm run simulate`, each run a child process of its own (`--stdin --json
 * --timeline`) that starts its own temporary server, so the central store is never touched and the
 * server imports nothing of the simulator (it needs RxDB, which the server layer may not use).
 * A run is killed when it outlasts the timeout or prints more than the output bound; its temporary
 * folder (the child's TMPDIR) is removed whichever way it ended.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Strategy } from '../shared/identity/scope-config.ts';
import {
  ScenarioReportSchema,
  scenarioUnderStrategy,
  type LabStrategyRun,
  type ScenarioReport,
} from '../shared/protocol/lab.ts';
import type { Scenario } from '../shared/protocol/scenario.ts';
import { err, ok, type Result } from '../shared/util/result.ts';

export interface LabRunnerOptions {
  /** The simulator's entry: the bundled dist/simulate.mjs, or simulator/cli.ts (run with tsx). */
  readonly simulator: string;
  readonly timeoutMs: number;
  /** Standard output beyond this many bytes kills the run. */
  readonly maxOutputBytes: number;
  /** Runs at once; the others wait. */
  readonly concurrency: number;
}

type RunFailure = Extract<LabStrategyRun, { status: 'failed' }>;
type Failure = Pick<RunFailure, 'reason' | 'message'>;
/** Why a child stopped early: one of the failures, or the caller's abort. */
type Stopped = Failure | { readonly reason: 'cancelled' };

/** stderr kept for the message of a crashed run. */
const STDERR_KEPT = 2000;

/** What a caller of `run` may watch and stop. */
export interface LabRunHooks {
  /** Aborting ends every run not ended yet: a running child is killed, a waiting run never starts. */
  readonly signal?: AbortSignal;
  /** A strategy's run started (it held one of the `concurrency` places), by its index in the list asked. */
  readonly onStart?: (index: number) => void;
  /** A strategy's run ended, with its answer. */
  readonly onEnd?: (index: number, run: LabStrategyRun) => void;
}

export class LabRunner {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: LabRunnerOptions) {}

  /** Every strategy's run, in the order asked. */
  run(
    scenario: Scenario,
    strategies: readonly Strategy[],
    hooks: LabRunHooks = {},
  ): Promise<LabStrategyRun[]> {
    return Promise.all(
      strategies.map(async (strategy, index): Promise<LabStrategyRun> => {
        const run = await this.runOne(scenario, strategy, index, hooks);
        hooks.onEnd?.(index, run);
        return run;
      }),
    );
  }

  private async runOne(
    scenario: Scenario,
    strategy: Strategy,
    index: number,
    { signal, onStart }: LabRunHooks,
  ): Promise<LabStrategyRun> {
    const adjusted = scenarioUnderStrategy(scenario, strategy);
    if (!adjusted.ok) {
      return {
        strategy,
        status: 'invalid_config',
        message: adjusted.error.message,
        ...(adjusted.error.path === undefined ? {} : { path: adjusted.error.path }),
      };
    }
    const report = await this.slot(signal, () => {
      onStart?.(index);
      return this.simulate(adjusted.value, signal);
    });
    if (report === null) return { strategy, status: 'cancelled' };
    if (report.ok) return { strategy, status: 'completed', report: report.value };
    const { error } = report;
    return error.reason === 'cancelled'
      ? { strategy, status: 'cancelled' }
      : { strategy, status: 'failed', ...error };
  }

  /** Runs the task in one of the `concurrency` places, or answers null if aborted before it got one. */
  private async slot<T>(signal: AbortSignal | undefined, task: () => Promise<T>): Promise<T | null> {
    while (this.running >= this.options.concurrency && signal?.aborted !== true) await this.nextPlace(signal);
    if (signal?.aborted === true) return null;
    this.running += 1;
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }

  /** Resolves when a place may be free, or at once on abort (leaving the queue, so no wake-up is lost). */
  private nextPlace(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(wake);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve();
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiting.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async simulate(
    scenario: Scenario,
    signal: AbortSignal | undefined,
  ): Promise<Result<ScenarioReport, Stopped>> {
    const temp = await mkdtemp(path.join(tmpdir(), 'idsync-lab-'));
    try {
      return await this.child(scenario, temp, signal);
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  private child(
    scenario: Scenario,
    temp: string,
    signal: AbortSignal | undefined,
  ): Promise<Result<ScenarioReport, Stopped>> {
    const { simulator, timeoutMs, maxOutputBytes } = this.options;
    const loader = simulator.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = spawn(process.execPath, [...loader, simulator, '--stdin', '--json', '--timeline'], {
      env: { ...process.env, TMPDIR: temp, TMP: temp, TEMP: temp },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new Promise((resolve) => {
      const out: Buffer[] = [];
      let outBytes = 0;
      let stderr = '';
      let ended: Stopped | null = null;
      const stop = (why: Stopped) => {
        ended ??= why;
        child.kill('SIGKILL');
      };
      const cancel = () => stop({ reason: 'cancelled' });
      signal?.addEventListener('abort', cancel, { once: true });
      if (signal?.aborted === true) cancel();
      const timer = setTimeout(
        () =>
          stop({ reason: 'timeout', message: `the run took longer than ${timeoutMs} ms and was stopped` }),
        timeoutMs,
      );
      child.stdout.on('data', (chunk: Buffer) => {
        outBytes += chunk.length;
        if (outBytes > maxOutputBytes)
          stop({ reason: 'output_too_large', message: `the report passed ${maxOutputBytes} bytes` });
        else out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < STDERR_KEPT) stderr = (stderr + chunk.toString('utf8')).slice(0, STDERR_KEPT);
      });
      child.stdin.on('error', () => undefined); // a child that died early; its exit says why
      child.on('error', (error) => stop({ reason: 'crashed', message: error.message }));
      child.on('close', (code) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', cancel);
        if (ended !== null) return resolve(err(ended));
        // 0: every expectation held; 1: one failed (both are reports); anything else broke.
        if (code !== 0 && code !== 1)
          return resolve(
            err({ reason: 'crashed', message: `the simulator exited with ${code}: ${stderr.trim()}` }),
          );
        resolve(parseReport(Buffer.concat(out).toString('utf8')));
      });
      child.stdin.end(JSON.stringify(scenario));
    });
  }
}

function parseReport(stdout: string): Result<ScenarioReport, Failure> {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return err({ reason: 'bad_output', message: 'the simulator printed no JSON report' });
  }
  const parsed = ScenarioReportSchema.safeParse(json);
  return parsed.success
    ? ok(parsed.data)
    : err({ reason: 'bad_output', message: 'the simulator printed a report of another shape' });
}
