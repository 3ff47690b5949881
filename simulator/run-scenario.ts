/**
 * Runs one scenario (SPEC SM-1..SM-6) in a fresh world: steps in order, every expectation checked
 * where it stands, and `afterSync` expectations checked as soon as the server has replayed the
 * step's request. A failed expectation does not stop the run; the report lists every one.
 */
import type { ApiError } from '../shared/protocol/errors.ts';
import type {
  FinalDevice,
  FinalProfile,
  FinalState,
  GraphSnapshot,
  ScenarioReport,
  StepAnswer,
  TimelineStep,
} from '../shared/protocol/lab.ts';
import type { SyncRequest } from '../shared/protocol/sync.ts';
import { answeredMpid } from '../shared/device/engine.ts';
import type { Result } from '../shared/util/result.ts';
import { canonicalIdentities, deviceDivergence, replayDivergence, serverInvariants } from './checks.ts';
import { seededRandom } from '../shared/util/random.ts';
import { canonicalJson } from '../shared/util/fingerprint.ts';
import type {
  AnswerExpectationT,
  DeviceExpectationT,
  ProfileExpectationT,
  Scenario,
  Step,
} from '../shared/protocol/scenario.ts';
import { faultyFetch, NO_FAULTS, type FaultRates } from './faults.ts';
import { World, type LiveServer, type WorkspaceExport } from './world.ts';

export interface StepFailure {
  /** 1-based step number in the scenario file. */
  readonly step: number;
  readonly message: string;
}

export type { ScenarioReport };

export interface RunOptions {
  readonly seed?: number;
  readonly live?: LiveServer;
  /** Check the server's invariants after every step, not only where the scenario asks. */
  readonly invariantsEveryStep?: boolean;
  /** Network faults on the devices' sync calls (healed while convergence is checked). */
  readonly faults?: FaultRates;
  /** Record what every step answered and each device's current user (the Lab's timeline, LB-4). */
  readonly timeline?: boolean;
  /** Called after each step (progress display). */
  readonly onStep?: (done: number, total: number) => void;
}

interface Answer extends StepAnswer {
  readonly message?: string;
}

/** A timeline entry while the run goes on: the request whose server answer is read at the end. */
interface TimelineEntry extends Omit<TimelineStep, 'serverAnswer' | 'serverTrace'> {
  readonly device: string | null;
  requestId: string | null;
}

interface AwaitedAnswer {
  readonly step: number;
  readonly device: string;
  readonly requestId: string;
  readonly expectation: AnswerExpectationT;
}

/** How many sync rounds `converged` may take before the views must agree. */
const CONVERGENCE_ROUNDS = 3;

class ScenarioRun {
  private readonly labels = new Map<string, string>();
  private readonly awaited: AwaitedAnswer[] = [];
  readonly failures: StepFailure[] = [];
  expectations = 0;
  private step = 0;
  private readonly entries: TimelineEntry[] = [];
  /** Timeline entries whose request the server has not been seen answering yet. */
  private readonly unseen = new Set<TimelineEntry>();
  /** Set once the last step has run (answers seen then are stamped step count + 1). */
  private finished = false;
  private readonly currentUsers: Record<string, string | null> = {};
  private readonly loggedIn: Record<string, boolean | null> = {};
  /** The answer of the step being run, if it made a request. */
  private answered: { answer: Answer; requestId: string | null } | null = null;

  constructor(
    private readonly world: World,
    private readonly scenario: Scenario,
    private readonly network: { readonly faulty: boolean; heal(healed: boolean): void },
    private readonly recordTimeline = false,
  ) {
    for (const name of Object.keys(scenario.devices)) {
      this.currentUsers[name] = null;
      this.loggedIn[name] = null;
    }
  }

  /**
   * Records the step just run. Only devices already open are read, so recording never opens a
   * device and the run behaves exactly as without a timeline.
   */
  private async record(step: Step): Promise<void> {
    if (!this.recordTimeline) return;
    const answer = this.answered?.answer ?? null;
    const requestId = this.answered?.requestId ?? null;
    for (const [name, slot] of this.world.openDevices()) {
      const user = await slot.engine.currentUser();
      this.currentUsers[name] = user?.mpid ?? null;
      this.loggedIn[name] = user?.isLoggedIn ?? null;
    }
    const device = 'device' in step && step.device !== undefined ? step.device : null;
    const answered = answer === null ? null : stepAnswer(answer);
    const graph = this.world.serverUp ? graphSnapshot(await this.world.export()) : null;
    const entry: TimelineEntry = {
      step: this.step,
      do: step.do,
      device,
      answer: answered,
      serverAnswerSeenAt: null,
      currentUsers: { ...this.currentUsers },
      loggedIn: { ...this.loggedIn },
      graph,
      requestId,
    };
    this.entries.push(entry);
    if (requestId !== null && device !== null) this.unseen.add(entry);
  }

  /**
   * Stamps the entries whose server answer has arrived with the step whose sync saw it, at the
   * points where `afterSync` expectations are checked. Reads only open devices (LB-4).
   */
  private async stampSeen(): Promise<void> {
    if (this.unseen.size === 0) return;
    const at = this.finished ? this.scenario.steps.length + 1 : this.step;
    for (const [name, device] of this.world.openDevices()) {
      const entries = [...this.unseen].filter((e) => e.device === name);
      if (entries.length === 0) continue;
      const replayed = new Set(
        (await device.engine.requests()).filter((r) => r.server !== null).map((r) => r.requestId),
      );
      for (const entry of entries) {
        if (entry.requestId === null || !replayed.has(entry.requestId)) continue;
        entry.serverAnswerSeenAt = at;
        this.unseen.delete(entry);
      }
    }
  }

  /** Each device and the server's profiles after the last step (the run is over: devices may open). */
  async finalState(): Promise<FinalState> {
    const devices: Record<string, FinalDevice> = {};
    const named = new Set<string>();
    for (const entry of this.entries) {
      for (const mpid of [entry.answer?.mpid, ...Object.values(entry.currentUsers)])
        if (mpid !== null && mpid !== undefined) named.add(mpid);
    }
    for (const name of this.deviceNames()) {
      const { engine, db } = await this.world.use(name);
      const requests = await engine.requests();
      for (const request of requests) {
        const mpid = request.server === null ? null : answeredMpid(request);
        if (mpid !== null) named.add(mpid);
      }
      const people = (await engine.people()).map((p) => p.mpid);
      const currentUser = (await engine.currentUser())?.mpid ?? null;
      for (const mpid of [...people, currentUser]) if (mpid !== null) named.add(mpid);
      devices[name] = {
        currentUser,
        pending: requests.filter((r) => r.server === null).length,
        localEvents: (await db.events.find().exec()).length,
        people,
        notices: this.world
          .slot(name)
          .notices.map((n) => ('code' in n ? { kind: n.kind, code: n.code } : { kind: n.kind })),
        applicationStamp: engine.das,
      };
    }
    if (!this.world.serverUp) return { devices, server: null };
    const profileCount = (await this.world.export()).profiles.filter(
      (p) => p.orphanedAt === null && Object.keys(p.identities).length > 0,
    ).length;
    const profiles: FinalProfile[] = [];
    for (const mpid of [...named].sort()) {
      const detail = await this.world.profileDetail(mpid);
      profiles.push(
        detail === null
          ? { mpid, found: false, identities: {}, events: [], attributes: {}, orphaned: false }
          : {
              mpid,
              found: true,
              identities: Object.fromEntries(
                Object.entries(detail.profile.identities).map(([type, values]) => [
                  type,
                  [...(values ?? [])],
                ]),
              ),
              events: detail.events.map((e) => e.name),
              attributes: detail.attributes,
              orphaned: detail.profile.orphanedAt !== null,
            },
      );
    }
    return { devices, server: { profileCount, profiles } };
  }

  /** The timeline, each identity step with the server's answer to its request (null: never replayed). */
  async timeline(): Promise<TimelineStep[]> {
    const out: TimelineStep[] = [];
    for (const { requestId, ...entry } of this.entries) {
      let serverAnswerOf: StepAnswer | null = null;
      let serverTrace: unknown = null;
      if (requestId !== null && entry.device !== null) {
        const request = (await (await this.world.use(entry.device)).engine.requests()).find(
          (r) => r.requestId === requestId,
        );
        if (request !== undefined && request.server !== null) {
          serverAnswerOf = stepAnswer(serverAnswer(request));
          serverTrace = request.server.trace ?? null;
        }
      }
      out.push({ ...entry, serverAnswer: serverAnswerOf, serverTrace });
    }
    return out;
  }

  private fail(message: string): void {
    this.failures.push({ step: this.step, message });
  }

  /** Checks (or binds) a label against an MPID; `what` names the thing being checked. */
  private label(label: string, mpid: string | null, what: string): void {
    this.expectations += 1;
    const name = label.replace(/^(\$|!@|@)/, '');
    if (label.startsWith('$')) {
      if (mpid === null) this.fail(`${what}: expected a profile to bind to ${label}, got none`);
      else this.labels.set(name, mpid);
      return;
    }
    const bound = this.labels.get(name);
    if (bound === undefined) {
      this.fail(`${what}: label ${name} is not bound yet (bind it with $${name} first)`);
      return;
    }
    if (label.startsWith('!@') ? mpid === bound : mpid !== bound) {
      this.fail(`${what}: expected ${label} (${bound}), got ${mpid ?? 'none'}`);
    }
  }

  private bound(label: string): string | null {
    const mpid = this.labels.get(label.replace(/^(\$|!@|@)/, ''));
    if (mpid === undefined) this.fail(`label ${label} is not bound yet`);
    return mpid ?? null;
  }

  private checkAnswer(expectation: AnswerExpectationT, answer: Answer, what: string): void {
    if (answer.error !== null && expectation.error === undefined) {
      this.expectations += 1;
      if (expectation.mayFail !== true)
        this.fail(
          `${what}: failed with ${answer.error}${answer.message === undefined ? '' : ` (${answer.message})`}`,
        );
      return;
    }
    if (expectation.error !== undefined) {
      this.expectations += 1;
      if (answer.error !== expectation.error)
        this.fail(`${what}: expected error ${expectation.error}, got ${answer.error ?? 'success'}`);
    }
    if (expectation.mpid !== undefined) this.label(expectation.mpid, answer.mpid, what);
    for (const key of ['created', 'loggedIn'] as const) {
      const wanted = expectation[key];
      if (wanted === undefined) continue;
      this.expectations += 1;
      if (answer[key] !== wanted)
        this.fail(`${what}: expected ${key} ${String(wanted)}, got ${String(answer[key])}`);
    }
  }

  private async checkAwaited(): Promise<void> {
    if (this.recordTimeline) await this.stampSeen();
    const remaining: AwaitedAnswer[] = [];
    for (const awaited of this.awaited) {
      const request = (await (await this.world.use(awaited.device)).engine.requests()).find(
        (r) => r.requestId === awaited.requestId,
      );
      if (request?.server === null || request?.server === undefined) {
        remaining.push(awaited);
        continue;
      }
      const at = this.step;
      this.step = awaited.step;
      this.checkAnswer(awaited.expectation, serverAnswer(request), `after sync, ${awaited.device}`);
      this.step = at;
    }
    this.awaited.splice(0, this.awaited.length, ...remaining);
  }

  private recordAnswer(
    step: {
      device: string;
      expect?: AnswerExpectationT | undefined;
      afterSync?: AnswerExpectationT | undefined;
    },
    outcome: Result<{ mpid: string; requestId: string; created?: boolean; isLoggedIn?: boolean }, ApiError>,
  ): void {
    const answer: Answer = outcome.ok
      ? {
          mpid: outcome.value.mpid,
          created: outcome.value.created ?? null,
          loggedIn: outcome.value.isLoggedIn ?? null,
          error: null,
        }
      : {
          mpid: null,
          created: null,
          loggedIn: null,
          error: outcome.error.code,
          message: outcome.error.message,
        };
    this.answered = { answer, requestId: outcome.ok ? outcome.value.requestId : null };
    if (step.expect !== undefined) this.checkAnswer(step.expect, answer, `on ${step.device}`);
    else if (answer.error !== null && step.afterSync === undefined)
      this.checkAnswer({}, answer, `on ${step.device}`);
    if (step.afterSync !== undefined) {
      if (!outcome.ok && step.expect?.mayFail === true) return;
      if (!outcome.ok)
        this.fail(
          `${step.device}: the request failed on the device (${outcome.error.code}: ${outcome.error.message}), so the server never sees it`,
        );
      else
        this.awaited.push({
          step: this.step,
          device: step.device,
          requestId: outcome.value.requestId,
          expectation: step.afterSync,
        });
    }
  }

  async run(onStep?: (done: number, total: number) => void, invariantsEveryStep = false): Promise<void> {
    for (const [index, step] of this.scenario.steps.entries()) {
      this.step = index + 1;
      this.answered = null;
      try {
        await this.apply(step);
        await this.record(step);
        if (invariantsEveryStep && this.world.serverUp) {
          for (const problem of await serverInvariants(this.world, this.scenario.config, false))
            this.fail(`invariant: ${problem}`);
        }
      } catch (error) {
        this.fail(`the step could not run: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      onStep?.(index + 1, this.scenario.steps.length);
    }
    this.step = this.scenario.steps.length;
    this.finished = true;
    await this.checkAwaited();
    for (const awaited of this.awaited) {
      this.failures.push({
        step: awaited.step,
        message: `${awaited.device}: the server never replayed this request, so afterSync could not be checked`,
      });
    }
  }

  private async apply(step: Step): Promise<void> {
    switch (step.do) {
      case 'identify':
      case 'login':
      case 'logout': {
        const { engine } = await this.world.use(step.device);
        const outcome = await engine[step.do](step.identities);
        this.recordAnswer(step, outcome);
        return;
      }
      case 'modify': {
        const { engine } = await this.world.use(step.device);
        const outcome = await engine.modify(
          step.changes.map((c) => ({ identityType: c.type, oldValue: c.old, newValue: c.new })),
        );
        this.recordAnswer(step, outcome);
        return;
      }
      case 'alias': {
        const source = this.bound(step.source);
        const destination = this.bound(step.destination);
        if (source === null || destination === null) return;
        const outcome = await (await this.world.use(step.device)).engine.alias(source, destination);
        this.recordAnswer(
          step,
          outcome.ok
            ? { ok: true, value: { mpid: destination, requestId: outcome.value.requestId } }
            : outcome,
        );
        return;
      }
      case 'track':
        await (await this.world.use(step.device)).engine.track(step.event, step.data);
        return;
      case 'attribute':
        await (await this.world.use(step.device)).engine.setUserAttribute(step.key, step.value);
        return;
      case 'offline':
        this.world.slot(step.device).online = false;
        return;
      case 'online':
        this.world.slot(step.device).online = true;
        await this.syncDevices([step.device]);
        return;
      case 'restart':
        await this.world.restartDevice(step.device);
        return;
      case 'sync':
        await this.syncDevices(
          step.order ?? (step.device === undefined ? this.deviceNames() : [step.device]),
        );
        return;
      case 'server':
        if (step.action === 'stop') await this.world.stopServer();
        else if (step.action === 'start') await this.world.startServerAgain();
        else await this.world.restartServer();
        return;
      case 'advance':
        this.world.advance(step.ms);
        return;
      case 'expect':
        await this.expect(step);
        return;
    }
  }

  private deviceNames(): string[] {
    return Object.keys(this.scenario.devices).sort();
  }

  private async syncDevices(names: readonly string[]): Promise<void> {
    for (const name of names) {
      const result = await this.world.sync(name);
      if (result === 'unreachable' && this.world.serverUp && !this.network.faulty)
        this.fail(`${name}: could not reach the server`);
    }
    if (!this.world.serverUp) return;
    await this.world.settleAliases();
    await this.checkAwaited();
  }

  private async expect(step: Extract<Step, { do: 'expect' }>): Promise<void> {
    if (step.converged === true) await this.expectConverged();
    if (step.invariants === true) {
      this.expectations += 1;
      const settled =
        step.converged === true && this.deviceNames().every((name) => this.world.slot(name).online);
      for (const problem of await serverInvariants(this.world, this.scenario.config, settled))
        this.fail(`invariant: ${problem}`);
    }
    for (const profile of step.profiles ?? []) await this.expectProfile(profile);
    for (const label of step.absent ?? []) {
      this.expectations += 1;
      const mpid = this.bound(label);
      if (mpid !== null && (await this.world.profileDetail(mpid)) !== null)
        this.fail(`${label} (${mpid}) should not exist on the server`);
    }
    if (step.profileCount !== undefined) {
      this.expectations += 1;
      const live = (await this.world.export()).profiles.filter(
        (p) => p.orphanedAt === null && Object.keys(p.identities).length > 0,
      );
      if (live.length !== step.profileCount)
        this.fail(`expected ${step.profileCount} live profiles on the server, found ${live.length}`);
    }
    for (const [name, expectation] of Object.entries(step.devices ?? {}))
      await this.expectDevice(name, expectation);
  }

  private async expectConverged(): Promise<void> {
    this.expectations += 1;
    const online = this.deviceNames().filter((name) => this.world.slot(name).online);
    let problems: string[] = [];
    this.network.heal(true);
    try {
      for (let round = 0; round < CONVERGENCE_ROUNDS; round += 1) {
        await this.syncDevices(online);
        problems = [];
        for (const name of online) problems.push(...(await deviceDivergence(this.world, name)));
        if (problems.length === 0) break;
      }
    } finally {
      this.network.heal(false);
    }
    problems.push(...(await replayDivergence(this.world, this.scenario.config)));
    for (const problem of problems) this.fail(`not converged: ${problem}`);
  }

  private async expectProfile(expected: ProfileExpectationT): Promise<void> {
    const mpid = this.bound(expected.mpid);
    if (mpid === null) return;
    const detail = await this.world.profileDetail(mpid);
    this.expectations += 1;
    if (detail === null) {
      this.fail(`${expected.mpid} (${mpid}) is not on the server`);
      return;
    }
    const what = `profile ${expected.mpid}`;
    if (expected.identities !== undefined) {
      const wanted = await this.withDeviceStamps(expected.identities);
      const actual = { ...detail.profile.identities } as Record<string, readonly string[]>;
      if (!('device_application_stamp' in expected.identities)) delete actual['device_application_stamp'];
      if (canonicalIdentities(actual) !== canonicalIdentities(wanted)) {
        this.fail(
          `${what}: expected identities ${canonicalIdentities(wanted)}, found ${canonicalIdentities(actual)}`,
        );
      }
    }
    if (expected.events !== undefined) {
      this.expectations += 1;
      const names = detail.events.map((e) => e.name);
      if (JSON.stringify(names) !== JSON.stringify(expected.events))
        this.fail(
          `${what}: expected events ${JSON.stringify(expected.events)}, found ${JSON.stringify(names)}`,
        );
    }
    if (expected.attributes !== undefined) {
      this.expectations += 1;
      if (canonicalJson(detail.attributes) !== canonicalJson(expected.attributes))
        this.fail(
          `${what}: expected attributes ${canonicalJson(expected.attributes)}, found ${canonicalJson(detail.attributes)}`,
        );
    }
    if (expected.orphaned !== undefined) {
      this.expectations += 1;
      const orphaned = detail.profile.orphanedAt !== null;
      if (orphaned !== expected.orphaned)
        this.fail(`${what}: expected orphaned ${String(expected.orphaned)}, found ${String(orphaned)}`);
    }
  }

  /** Identity values written `device:<name>` stand for that device's application stamp. */
  private async withDeviceStamps(identities: Record<string, string[]>): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const [type, values] of Object.entries(identities)) {
      out[type] = [];
      for (const v of values)
        out[type].push(
          v.startsWith('device:') ? (await this.world.use(v.slice('device:'.length))).engine.das : v,
        );
    }
    return out;
  }

  private async expectDevice(name: string, expected: DeviceExpectationT): Promise<void> {
    const slot = this.world.slot(name);
    const device = await this.world.use(name);
    const engine = device.engine;
    if (expected.currentUser !== undefined)
      this.label(expected.currentUser, (await engine.currentUser())?.mpid ?? null, `${name} current user`);
    if (expected.pending !== undefined) {
      this.expectations += 1;
      const pending = (await engine.requests()).filter((r) => r.server === null).length;
      if (pending !== expected.pending)
        this.fail(`${name}: expected ${expected.pending} pending requests, found ${pending}`);
    }
    if (expected.localEvents !== undefined) {
      this.expectations += 1;
      const count = (await device.db.events.find().exec()).length;
      if (count !== expected.localEvents)
        this.fail(`${name}: expected ${expected.localEvents} local events, found ${count}`);
    }
    if (expected.people !== undefined) {
      this.expectations += 1;
      const people = (await engine.people()).map((p) => p.mpid).sort();
      const wanted = expected.people.map((l) => this.bound(l) ?? l).sort();
      if (JSON.stringify(people) !== JSON.stringify(wanted))
        this.fail(`${name}: expected people ${wanted.join(', ')}, found ${people.join(', ')}`);
    }
    if (expected.notices !== undefined) {
      this.expectations += 1;
      const actual = slot.notices.map((n) =>
        expected.notices?.some((e) => e.code !== undefined) && 'code' in n ? `${n.kind}:${n.code}` : n.kind,
      );
      const wanted = expected.notices.map((n) => (n.code === undefined ? n.kind : `${n.kind}:${n.code}`));
      if (JSON.stringify(actual) !== JSON.stringify(wanted))
        this.fail(`${name}: expected notices ${JSON.stringify(wanted)}, found ${JSON.stringify(actual)}`);
    }
  }
}

/** The server's graph as the timeline reports it (the admin export, read over HTTP: no device is touched). */
function graphSnapshot(exported: WorkspaceExport): GraphSnapshot {
  return {
    profiles: exported.profiles.map((p) => ({
      mpid: p.mpid,
      environment: p.environment,
      identities: p.identities,
      orphaned: p.orphanedAt !== null,
    })),
    aliases: exported.aliases.map((a) => ({
      id: a.id,
      source: a.sourceMpid,
      destination: a.destinationMpid,
      status: a.status,
    })),
  };
}

/** An answer without its message, as the timeline reports it. */
function stepAnswer({ mpid, created, loggedIn, error }: Answer): StepAnswer {
  return { mpid, created, loggedIn, error };
}

/** The server's answer to a replayed request, in the terms of an answer expectation. */
function serverAnswer(request: SyncRequest): Answer {
  const server = request.server;
  if (server === null) throw new Error('serverAnswer needs a replayed request');
  if (server.status === 'failed') {
    return {
      mpid: null,
      created: null,
      loggedIn: null,
      error: server.error?.code ?? 'INTERNAL_ERROR',
      message: server.error?.message ?? '',
    };
  }
  const response = server.response as { is_logged_in?: boolean } | null;
  return {
    mpid: answeredMpid(request),
    created: request.createdProvisional && server.mpid === request.provisionalMpid,
    loggedIn: typeof response?.is_logged_in === 'boolean' ? response.is_logged_in : null,
    error: null,
  };
}

export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<ScenarioReport> {
  const started = performance.now();
  const seed = options.seed ?? 1;
  const network = faultyFetch(options.faults ?? NO_FAULTS, seededRandom(seed ^ 0x5eed));
  const faulty = options.faults !== undefined && Object.values(options.faults).some((rate) => rate > 0);
  const world = await World.create({
    config: scenario.config,
    seed,
    fetch: network.fetch,
    ...(options.live === undefined ? {} : { live: options.live }),
  });
  try {
    for (const [index, [name, device]] of Object.entries(scenario.devices).entries())
      world.addDevice(name, device.environment, seed * 1000 + index);
    const run = new ScenarioRun(
      world,
      scenario,
      { faulty, heal: (healed) => network.heal(healed) },
      options.timeline === true,
    );
    await run.run(options.onStep, options.invariantsEveryStep === true);
    const timeline = options.timeline === true ? await run.timeline() : undefined;
    const finalState = options.timeline === true ? await run.finalState() : undefined;
    return {
      name: scenario.name,
      ok: run.failures.length === 0,
      steps: scenario.steps.length,
      expectations: run.expectations,
      failures: run.failures,
      durationMs: Math.round(performance.now() - started),
      faults: { ...network.counts },
      ...(timeline === undefined ? {} : { timeline }),
      ...(finalState === undefined ? {} : { finalState }),
    };
  } finally {
    await world.close();
  }
}
