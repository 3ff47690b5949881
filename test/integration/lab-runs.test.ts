/**
 * The Conversion Lab's route (SPEC LB-*): a scenario file from scenarios/ run by the bundled
 * simulator (dist/simulate.mjs, built here as `npm start` builds it), each strategy in a process of
 * its own; malformed files refused at their path; the admin token required; a run that outlasts
 * its timeout killed and reported. The central store holds no more rows afterwards.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { STRATEGIES } from '../../shared/identity/scope-config.ts';
import { ErrorBodySchema } from '../../shared/protocol/errors.ts';
import { LabRunResponseSchema } from '../../shared/protocol/lab.ts';
import { parseExplainTrace } from '../../shared/resolver/explain-in-words.ts';
import { labServers, SIMULATOR, SLOW_MACHINE } from '../helpers/lab-servers.ts';
import { admin } from '../helpers/server.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const scenarioFile = (name: string): unknown =>
  JSON.parse(readFileSync(path.join(ROOT, 'scenarios', name), 'utf8'));
const FIRST = '01-offline-anonymous-then-login.json';

/** The stuck simulator's timeout. */
const STUCK_TIMEOUT_MS = 8000;

const lab = labServers('lab');

function rowCounts(file: string): Record<string, number> {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const counts: Record<string, number> = {};
    for (const table of ['profiles', 'identities', 'requests', 'workspaces', 'inputs'])
      counts[table] = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return counts;
  } finally {
    db.close();
  }
}

const runLab = (body: unknown, token?: string) => admin(lab.url(), 'POST', '/lab/runs', body, token);

describe('the Conversion Lab route', { timeout: 180_000 }, () => {
  it('[LB-1][LB-3][LB-4] runs a scenario from scenarios/ under all five strategies; under its own it passes, with a step-by-step timeline', async () => {
    const server = await lab.start({ labSimulator: SIMULATOR, ...SLOW_MACHINE });
    const before = rowCounts(server.databaseFile);
    const scenario = scenarioFile(FIRST) as { config: { strategy: string }; steps: unknown[] };
    const { status, body } = await runLab({ scenario });
    expect(status).toBe(200);
    const { runs } = LabRunResponseSchema.parse(body);
    expect(runs.map((r) => r.strategy)).toEqual([...STRATEGIES]);
    const own = runs.find((r) => r.strategy === scenario.config.strategy);
    expect(own?.status).toBe('completed');
    if (own?.status !== 'completed') return;
    expect(own.report.failures).toEqual([]);
    expect(own.report.ok).toBe(true);
    expect(own.report.timeline?.map((s) => s.step)).toEqual(scenario.steps.map((_, i) => i + 1));
    const login = own.report.timeline?.find((s) => s.do === 'login');
    expect(login?.answer?.mpid).toMatch(/^-?\d+$/);
    expect(login?.serverAnswer?.mpid).toMatch(/^-?\d+$/);
    // The login's server answer is seen at step 8's sync ("online"), with its trace and a known user.
    expect(login?.serverAnswerSeenAt).toBe(8);
    expect(parseExplainTrace(login?.serverTrace).ok).toBe(true);
    expect(own.report.timeline?.at(-1)?.loggedIn).toEqual({ tablet: true });
    const final = own.report.finalState;
    expect(final?.devices['tablet']).toMatchObject({ currentUser: login?.serverAnswer?.mpid, pending: 0 });
    expect(final?.server?.profileCount).toBe(1);
    expect(final?.server?.profiles.find((p) => p.mpid === login?.serverAnswer?.mpid)).toMatchObject({
      found: true,
      events: ['browsed', 'purchased'],
      attributes: { tier: 'gold' },
    });
    for (const run of runs) expect(['completed', 'invalid_config']).toContain(run.status);
    expect(rowCounts(server.databaseFile), 'the central store').toEqual(before);
  });

  it('[LB-2] refuses a malformed scenario with 400 VALIDATION_ERROR at its path, and runs nothing', async () => {
    await lab.start({ labSimulator: path.join(lab.scratch(), 'never-run.mjs') });
    const scenario = scenarioFile(FIRST) as { steps: Record<string, unknown>[] };
    scenario.steps[1] = { ...scenario.steps[1], do: 'jump' };
    const { status, body } = await runLab({ scenario });
    expect(status).toBe(400);
    const error = ErrorBodySchema.parse(body).errors[0];
    expect(error?.reason).toBe('VALIDATION_ERROR');
    expect(error?.path).toMatch(/^scenario\.steps\[1\]/);

    const unknownStrategy = await runLab({ scenario: scenarioFile(FIRST), strategies: ['fastest'] });
    expect(unknownStrategy.status).toBe(400);
    expect(ErrorBodySchema.parse(unknownStrategy.body).errors[0]?.path).toBe('strategies[0]');
  });

  it('[LB-1] needs the admin token', async () => {
    await lab.start({ labSimulator: path.join(lab.scratch(), 'never-run.mjs') });
    const { status, body } = await runLab({ scenario: scenarioFile(FIRST) }, 'not-the-admin-token-at-all');
    expect(status).toBe(401);
    expect(ErrorBodySchema.parse(body).errors[0]?.reason).toBe('UNAUTHORIZED');
  });

  it('[LB-1] the OpenAPI document describes the lab route with its request and answer', async () => {
    const server = await lab.start({ labSimulator: path.join(lab.scratch(), 'never-run.mjs') });
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { requestBody?: unknown; responses?: Record<string, unknown> } }>;
    };
    const operation = openapi.paths['/admin/v1/lab/runs']?.post;
    expect(JSON.stringify(operation?.requestBody)).toContain('strategies');
    expect(JSON.stringify(operation?.responses?.['200'])).toContain('output_too_large');
  });

  it('[LB-5] kills a run that outlasts its timeout and reports it', async () => {
    const pidFile = path.join(lab.scratch(), 'stuck.pid');
    const stuck = path.join(lab.scratch(), 'stuck.mjs');
    writeFileSync(
      stuck,
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(pidFile)}, String(process.pid));\nsetInterval(() => {}, 1000);\n`,
    );
    // Long enough for a loaded machine to start the child and let it write its pid before the kill.
    await lab.start({ labSimulator: stuck, labTimeoutMs: STUCK_TIMEOUT_MS });
    const { status, body } = await runLab({ scenario: scenarioFile(FIRST), strategies: ['profile_link'] });
    expect(status).toBe(200);
    expect(LabRunResponseSchema.parse(body).runs).toEqual([
      {
        strategy: 'profile_link',
        status: 'failed',
        reason: 'timeout',
        message: `the run took longer than ${STUCK_TIMEOUT_MS} ms and was stopped`,
      },
    ]);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0), 'the stuck simulator is gone').toThrow();
  });
});
