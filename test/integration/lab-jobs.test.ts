/**
 * Lab jobs over HTTP (SPEC LB-11..LB-14): a job started with the body of `POST /lab/runs` answers at
 * once, is polled to its end through waiting / running / ended strategies, and ends with the runs
 * the one-shot route answers for the same file; a cancelled job kills its simulator; malformed and
 * unknown ids, a missing token and one job too many are catalogue errors that start nothing.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '../../shared/protocol/errors.ts';
import { jobRuns, LabJobSchema, type LabJob } from '../../shared/protocol/lab-jobs.ts';
import { LabRunResponseSchema, type LabStrategyRun } from '../../shared/protocol/lab.ts';
import { labTable, verdict } from '../../renderer/src/features/admin/lab/lab-table.ts';
import { labServers, SIMULATOR, SLOW_MACHINE } from '../helpers/lab-servers.ts';
import { admin } from '../helpers/server.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const FIRST = JSON.parse(
  readFileSync(path.join(ROOT, 'scenarios', '01-offline-anonymous-then-login.json'), 'utf8'),
) as unknown;

const lab = labServers('lab-jobs');

const call = (method: string, route: string, body?: unknown, token?: string) =>
  admin(lab.url(), method, route, body, token);

/** A simulator that writes its pid to `<pids>/<pid>` and never ends (until killed). */
function stuckSimulator(): { file: string; pids: string } {
  const pids = mkdtempSync(path.join(lab.scratch(), 'pids-'));
  const file = path.join(lab.scratch(), `stuck-${path.basename(pids)}.mjs`);
  writeFileSync(
    file,
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(pids)} + '/' + process.pid, '');\nsetInterval(() => {}, 1000);\n`,
  );
  return { file, pids };
}

async function poll(id: string, until: (job: LabJob) => boolean, seen: LabJob[] = []): Promise<LabJob> {
  for (;;) {
    const { status, body } = await call('GET', `/lab/jobs/${id}`);
    expect(status).toBe(200);
    const job = LabJobSchema.parse(body);
    seen.push(job);
    if (until(job)) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What must be the same between two runs of one file (MPIDs and timings differ per run). */
function outcomes(runs: readonly LabStrategyRun[]) {
  return {
    verdicts: runs.map((run) => `${run.strategy}: ${verdict(run)}`),
    table: labTable(runs),
  };
}

describe('Lab jobs', { timeout: 300_000 }, () => {
  it('[LB-11][LB-12] a job answers at once, shows its progress, and ends with the runs the one-shot route answers', async () => {
    await lab.start({ labSimulator: SIMULATOR, ...SLOW_MACHINE });
    const strategies = ['profile_conversion', 'profile_link', 'default'];
    const started = await call('POST', '/lab/jobs', { scenario: FIRST, strategies });
    expect(started.status).toBe(202);
    const job = LabJobSchema.parse(started.body);
    expect(job).toMatchObject({ state: 'running', done: 0, total: 3 });
    expect(job.strategies.map((s) => s.strategy)).toEqual(strategies);

    const seen: LabJob[] = [];
    const ended = await poll(job.id, (j) => j.state !== 'running', seen);
    expect(ended).toMatchObject({ state: 'completed', done: 3, total: 3 });
    // Progress only grows, and a strategy was seen running (the places are two, the runs seconds long).
    const done = seen.map((j) => j.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(seen.some((j) => j.strategies.some((s) => s.status === 'running'))).toBe(true);

    const runs = jobRuns(ended);
    expect(runs?.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    const oneShot = await call('POST', '/lab/runs', { scenario: FIRST, strategies });
    expect(oneShot.status).toBe(200);
    expect(outcomes(runs!)).toEqual(outcomes(LabRunResponseSchema.parse(oneShot.body).runs));
    // An ended job stays readable, and cancelling it changes nothing.
    expect((await call('DELETE', `/lab/jobs/${job.id}`)).body).toEqual(ended);
  });

  it('[LB-13] cancelling a job kills its running simulator; it reads cancelled at once, for good', async () => {
    const stuck = stuckSimulator();
    await lab.start({ labSimulator: stuck.file, labTimeoutMs: 120_000 });
    const started = LabJobSchema.parse(
      (
        await call('POST', '/lab/jobs', {
          scenario: FIRST,
          strategies: ['profile_link', 'default', 'best_match'],
        })
      ).body,
    );
    // Two places: two simulators start, the third strategy waits.
    await poll(started.id, (j) => j.strategies.filter((s) => s.status === 'running').length === 2);
    await expect.poll(() => readdirCount(stuck.pids), { timeout: 60_000 }).toBe(2);
    const cancelled = await call('DELETE', `/lab/jobs/${started.id}`);
    expect(cancelled.status).toBe(200);
    expect(LabJobSchema.parse(cancelled.body)).toMatchObject({
      state: 'cancelled',
      done: 3,
      strategies: [
        { strategy: 'profile_link', status: 'cancelled' },
        { strategy: 'default', status: 'cancelled' },
        { strategy: 'best_match', status: 'cancelled' },
      ],
    });
    for (const pid of pidsIn(stuck.pids))
      await expect.poll(() => alive(pid), { timeout: 30_000, message: `simulator ${pid}` }).toBe(false);
    expect(readdirCount(stuck.pids), 'the waiting strategy never started').toBe(2);
    expect((await call('GET', `/lab/jobs/${started.id}`)).body).toEqual(cancelled.body);
  });

  it('[LB-14] malformed and unknown ids, a missing token, a bad body and one job too many are catalogue errors', async () => {
    const stuck = stuckSimulator();
    await lab.start({ labSimulator: stuck.file, labTimeoutMs: 120_000 });
    const reason = (body: unknown) => ErrorBodySchema.parse(body).errors[0]?.reason;

    const malformed = await call('GET', '/lab/jobs/not-a-job');
    expect([malformed.status, reason(malformed.body)]).toEqual([400, 'VALIDATION_ERROR']);
    const unknown = '5b0f4a8e-3d3c-4c55-9a43-6f0e2f3b8c11';
    for (const method of ['GET', 'DELETE']) {
      const answer = await call(method, `/lab/jobs/${unknown}`);
      expect([answer.status, reason(answer.body)]).toEqual([404, 'NOT_FOUND']);
    }
    const noToken = await call('POST', '/lab/jobs', { scenario: FIRST }, 'not-the-admin-token-at-all');
    expect([noToken.status, reason(noToken.body)]).toEqual([401, 'UNAUTHORIZED']);
    const broken = structuredClone(FIRST) as { steps: Record<string, unknown>[] };
    broken.steps[1] = { ...broken.steps[1], do: 'jump' };
    const badBody = await call('POST', '/lab/jobs', { scenario: broken });
    expect([badBody.status, reason(badBody.body)]).toEqual([400, 'VALIDATION_ERROR']);
    expect(ErrorBodySchema.parse(badBody.body).errors[0]?.path).toMatch(/^scenario\.steps\[1\]/);
    expect(readdirCount(stuck.pids), 'nothing ran').toBe(0);

    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const answer = await call('POST', '/lab/jobs', { scenario: FIRST, strategies: ['profile_link'] });
      expect(answer.status).toBe(202);
      ids.push(LabJobSchema.parse(answer.body).id);
    }
    const fifth = await call('POST', '/lab/jobs', { scenario: FIRST, strategies: ['profile_link'] });
    expect([fifth.status, reason(fifth.body)]).toEqual([429, 'RATE_LIMITED']);
    await call('DELETE', `/lab/jobs/${ids[0]}`);
    const afterCancel = await call('POST', '/lab/jobs', { scenario: FIRST, strategies: ['profile_link'] });
    expect(afterCancel.status).toBe(202);
  });

  it('[LB-14] the OpenAPI document describes the job routes with their answers', async () => {
    const server = await lab.start({ labSimulator: path.join(lab.scratch(), 'never-run.mjs') });
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    };
    expect(Object.keys(openapi.paths['/admin/v1/lab/jobs/{id}'] ?? {}).sort()).toEqual(['delete', 'get']);
    expect(JSON.stringify(openapi.paths['/admin/v1/lab/jobs']?.['post']?.responses?.['202'])).toContain(
      'waiting',
    );
  });
});

function pidsIn(folder: string): number[] {
  return existsSync(folder) ? readdirSync(folder).map(Number) : [];
}
function readdirCount(folder: string): number {
  return pidsIn(folder).length;
}
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
