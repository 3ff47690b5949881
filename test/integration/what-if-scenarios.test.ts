/**
 * What-if replay against the 40 scenarios of spec §7 (SPEC WI-7..WI-9), on SQLite and PostgreSQL.
 * Each scenario's requests are recorded through a real server workspace (as one online device's
 * pushes, which keep every body; and, where the scenario is only identify/login/logout, through the
 * IDSync API), then replayed under the workspace's own config (no difference) and under each other
 * strategy. The prediction is not written by hand: the same requests run directly on a fresh memory
 * store under that strategy, and the replay's answers must equal them up to the naming of MPIDs.
 * Every table must be byte-identical after all replays.
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { STRATEGIES, type ScopeConfig, type Strategy } from '../../shared/identity/scope-config.ts';
import { MemoryIdentityStore } from '../../shared/memory-store/memory-store.ts';
import { scenarioUnderStrategy } from '../../shared/protocol/lab.ts';
import type { ServerResult } from '../../shared/protocol/sync.ts';
import { WhatIfResponseSchema, type WhatIfAnswer } from '../../shared/protocol/what-if.ts';
import type { ResolutionFailure } from '../../shared/resolver/outcome.ts';
import { Resolver } from '../../shared/resolver/resolver.ts';
import type { ExplainTrace } from '../../shared/resolver/trace.ts';
import { seededRandom } from '../../shared/util/random.ts';
import type { Result } from '../../shared/util/result.ts';
import { ManualClock } from '../helpers/clock.ts';
import { createTestSchema, SERVER_BACKENDS } from '../helpers/postgres.ts';
import {
  identityOnly,
  SCENARIO_REQUESTS,
  type RequestStep,
  type ScenarioRequests,
} from '../helpers/scenario-requests.ts';
import { admin, API_KEY, call, startTestServer, type TestServer } from '../helpers/server.ts';
import { pushRow, registerDevice } from '../helpers/sync-wire.ts';

type Channel = 'device' | 'api';
type Answers = Map<string, WhatIfAnswer>;
const DEVICE = 'scenario-device';

/** A reference `@step` is the MPID that step was answered; anything else is a literal MPID. */
function resolveRef(ref: string, answers: Answers): string {
  if (!ref.startsWith('@')) return ref;
  const mpid = answers.get(ref.slice(1))?.mpid;
  if (mpid === undefined || mpid === null) throw new Error(`step ${ref} has no MPID to name`);
  return mpid;
}

function identityBody(step: RequestStep & { kind: 'identify' | 'login' | 'logout' }, answers: Answers) {
  return {
    known_identities: step.identities,
    ...(step.previous === undefined ? {} : { previous_mpid: resolveRef(step.previous, answers) }),
  };
}
const changesBody = (step: RequestStep & { kind: 'modify' }) => ({
  identity_changes: step.changes.map((c) => ({ identity_type: c.type, old_value: c.old, new_value: c.new })),
});
const aliasData = (step: RequestStep & { kind: 'alias' }, answers: Answers) => ({
  source_mpid: resolveRef(step.source, answers),
  destination_mpid: resolveRef(step.destination, answers),
});

function answerOf(outcome: Result<{ trace: ExplainTrace }, ResolutionFailure>): WhatIfAnswer {
  return outcome.ok
    ? { mpid: outcome.value.trace.result.mpid, created: outcome.value.trace.result.created, error: null }
    : { mpid: null, created: false, error: outcome.error.error.code };
}

/**
 * The scenario run directly by the resolver on a fresh memory store: the prediction. A device may
 * name only profiles its own requests were answered (HT-1), so on the device channel a modify or
 * alias naming any other MPID is predicted `FORBIDDEN`, as the server answers it.
 */
async function runDirect(
  scenario: ScenarioRequests,
  config: ScopeConfig,
  channel: Channel,
): Promise<Answers> {
  const resolver = new Resolver(new MemoryIdentityStore(), new ManualClock(), seededRandom(7));
  const answers: Answers = new Map();
  const view = new Set<string>();
  const forbidden = (...named: string[]) => channel === 'device' && named.some((mpid) => !view.has(mpid));
  const request = (id: string) => ({ environment: 'production' as const, request_id: id });
  for (const step of scenario.steps) {
    await resolver.processDueAliases(config);
    let answer: WhatIfAnswer;
    if (step.kind === 'modify') {
      const target = resolveRef(step.target, answers);
      answer = forbidden(target)
        ? { mpid: null, created: false, error: 'FORBIDDEN' }
        : answerOf(await resolver.modify(config, target, { ...request(step.id), ...changesBody(step) }));
    } else if (step.kind === 'alias') {
      const data = aliasData(step, answers);
      answer = forbidden(data.source_mpid, data.destination_mpid)
        ? { mpid: null, created: false, error: 'FORBIDDEN' }
        : answerOf(await resolver.alias(config, { ...request(step.id), data }));
    } else {
      const body = { ...request(step.id), ...identityBody(step, answers) };
      answer = answerOf(await resolver[step.kind](config, body));
    }
    answers.set(step.id, answer);
    if (answer.mpid !== null) view.add(answer.mpid);
  }
  return answers;
}

/** Answers with MPIDs renamed P1, P2… in order of first appearance: comparable across stores. */
function labelled(scenario: ScenarioRequests, answers: Answers): string[] {
  const names = new Map<string, string>();
  return scenario.steps.map((step) => {
    const answer = answers.get(step.id);
    if (answer === undefined) return `${step.id}: none`;
    const mpid = answer.mpid;
    if (mpid !== null && !names.has(mpid)) names.set(mpid, `P${names.size + 1}`);
    const name = mpid === null ? '-' : names.get(mpid);
    return `${step.id}: ${name}${answer.created ? ' created' : ''}${answer.error === null ? '' : ` ${answer.error}`}`;
  });
}

/** Sends the scenario's requests to the server as one online device (each pushed and answered in turn). */
async function recordAsDevice(server: TestServer, scenario: ScenarioRequests): Promise<Answers> {
  const headers = await registerDevice(server.url, API_KEY, DEVICE);
  const answers: Answers = new Map();
  for (const [index, step] of scenario.steps.entries()) {
    const row =
      step.kind === 'modify'
        ? { kind: step.kind, body: changesBody(step), modifyMpid: resolveRef(step.target, answers) }
        : step.kind === 'alias'
          ? { kind: step.kind, body: { data: aliasData(step, answers) } }
          : { kind: step.kind, body: identityBody(step, answers) };
    const pushed = await call<{ conflicts: { data: { sync: { server: ServerResult | null } } }[] }>(
      server.url,
      '/sync/v1/requests/push',
      { rows: [pushRow({ deviceId: DEVICE, seq: index + 1, requestId: step.id, ...row })] },
      { headers },
    );
    expect(pushed.status).toBe(200);
    const result = pushed.body.conflicts[0]?.data.sync.server;
    if (result === undefined || result === null) throw new Error(`step ${step.id} was not answered`);
    const created = (result.trace as ExplainTrace | null)?.result.created === true;
    answers.set(step.id, { mpid: result.mpid, created, error: result.error?.code ?? null });
  }
  return answers;
}

/** Sends the scenario's identify/login/logout requests through the IDSync API. */
async function recordThroughApi(server: TestServer, scenario: ScenarioRequests): Promise<Answers> {
  const answers: Answers = new Map();
  for (const step of scenario.steps) {
    if (step.kind === 'modify' || step.kind === 'alias') throw new Error('not an identity request');
    const body = { environment: 'production', request_id: step.id, ...identityBody(step, answers) };
    const answer = await call<{ mpid: string }>(server.url, `/v1/${step.kind}`, body);
    expect(answer.status).toBe(200);
    // A request that changed nothing keeps no trace (LS-1): it created nothing.
    const stored = await admin<{ trace: ExplainTrace | null }>(
      server.url,
      'GET',
      `/workspaces/default/requests/${step.id}`,
    );
    const created = stored.body.trace?.result.created ?? false;
    answers.set(step.id, { mpid: answer.body.mpid, created, error: null });
  }
  return answers;
}

/** The config a scenario runs under another strategy (the Lab's rule, LB-3); null when refused. */
function underStrategy(config: ScopeConfig, strategy: Strategy): ScopeConfig | null {
  const moved = scenarioUnderStrategy(
    { name: 'what-if', description: '', rules: [], config, devices: {}, steps: [] },
    strategy,
  );
  return moved.ok ? moved.value.config : null;
}

const cases = SCENARIO_REQUESTS.flatMap((scenario): { scenario: ScenarioRequests; channel: Channel }[] => [
  { scenario, channel: 'device' },
  ...(identityOnly(scenario) ? [{ scenario, channel: 'api' as const }] : []),
]);

describe.each(SERVER_BACKENDS)('what-if replay of the §7 scenarios on $name', ({ name, skip }) => {
  let server: TestServer | undefined;
  let pgUrl: string | null = null;
  let dropSchema: (() => Promise<void>) | null = null;

  afterEach(async () => {
    await server?.close();
    server = undefined;
    await dropSchema?.();
    dropSchema = null;
    pgUrl = null;
  });

  /** Every row of every table of the database, in a canonical order. */
  async function tables(): Promise<Record<string, string[]>> {
    // The request log is written in batches (LS-6): read it with everything answered so far.
    await server!.server.flushRequestLog();
    const canonical = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).sort();
    const out: Record<string, string[]> = {};
    if (pgUrl === null) {
      const db = new BetterSqlite3(server!.databaseFile, { readonly: true, fileMustExist: true });
      try {
        const names = db
          .prepare(`select name from sqlite_master where type = 'table'`)
          .pluck()
          .all() as string[];
        for (const table of names) out[table] = canonical(db.prepare(`select * from "${table}"`).all());
      } finally {
        db.close();
      }
      return out;
    }
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      const names = await client.query<{ table_name: string }>(
        `select table_name from information_schema.tables where table_schema = current_schema()`,
      );
      for (const { table_name: table } of names.rows)
        out[table] = canonical((await client.query(`select * from "${table}"`)).rows);
    } finally {
      await client.end();
    }
    return out;
  }

  /** The tables once the alias worker (polling every 50 ms) has processed every due alias. */
  async function settledTables(): Promise<Record<string, string[]>> {
    let last = await tables();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const next = await tables();
      if (JSON.stringify(next) === JSON.stringify(last)) return next;
      last = next;
    }
  }

  it.skipIf(skip !== null).each(cases)(
    '[WI-7][WI-8][WI-9] SC-$scenario.sc through the $channel: same config replays unchanged, each other strategy as run directly',
    async ({ scenario, channel }) => {
      if (name === 'PostgreSQL') {
        const schema = await createTestSchema();
        pgUrl = schema.url;
        dropSchema = schema.drop;
      }
      let now = 1_800_000_000_000;
      server = await startTestServer(
        { config: scenario.config, ...(pgUrl === null ? {} : { database: pgUrl }) },
        { clock: { now: () => (now += 1000) } },
      );
      const recorded =
        channel === 'device'
          ? await recordAsDevice(server, scenario)
          : await recordThroughApi(server, scenario);
      // The server answered what the resolver answers on its own: the recording is the scenario.
      expect(labelled(scenario, recorded)).toEqual(
        labelled(scenario, await runDirect(scenario, scenario.config, channel)),
      );
      const before = scenario.steps.some((step) => step.kind === 'alias')
        ? await settledTables()
        : await tables();
      for (const strategy of STRATEGIES) {
        const config =
          strategy === scenario.config.strategy ? scenario.config : underStrategy(scenario.config, strategy);
        if (config === null) continue;
        const answer = await admin<unknown>(server.url, 'POST', '/workspaces/default/what-if', { config });
        expect(answer.status).toBe(200);
        const result = WhatIfResponseSchema.parse(answer.body);
        expect(result.summary).toMatchObject({
          logged: scenario.steps.length,
          replayed: scenario.steps.length,
          skipped: {},
          truncated: false,
          differencesTruncated: false,
        });
        const replayed: Answers = new Map(recorded);
        for (const difference of result.differences) {
          expect(difference.old).toEqual(recorded.get(difference.requestId));
          expect(difference.new).not.toEqual(difference.old);
          replayed.set(difference.requestId, difference.new);
        }
        expect(result.summary.outcomesChanged).toBe(result.differences.length);
        if (strategy === scenario.config.strategy) expect(result.differences, strategy).toEqual([]);
        expect(labelled(scenario, replayed), strategy).toEqual(
          labelled(scenario, await runDirect(scenario, config, channel)),
        );
      }
      expect(await tables()).toEqual(before);
    },
  );
});
