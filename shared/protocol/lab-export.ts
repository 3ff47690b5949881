/**
 * Export of a Lab run as a scenario file (SPEC LB-7): the steps the run took, with the outcomes it
 * observed as expectations, ready to commit as a test that `npm run simulate` passes.
 *
 * MPIDs are random per run, so they become labels. The labels are written in the order the
 * simulator checks them (a step's own answer; then, at a sync, the server's answers it saw, in
 * step order; then an expect step's devices), so the first mention of a profile binds it (`$p1`)
 * and later ones compare with it (`@p1`). Where the file itself bound a label (`$visitor`), the
 * export binds the same label at the same place, so alias steps that name it act exactly as in
 * the run.
 */
import { err, ok, type Result } from '../util/result.ts';
import type { FinalState, ScenarioReport, StepAnswer, TimelineStep } from './lab.ts';
import type {
  AnswerExpectationT,
  DeviceExpectationT,
  ProfileExpectationT,
  Scenario,
  Step,
} from './scenario.ts';

export type ExportFailure = 'no_timeline' | 'timeline_mismatch';

/** Labels for MPIDs, bound in check order. */
class Labels {
  private readonly nameOf = new Map<string, string>();
  private readonly mpidOf = new Map<string, string>();
  private next = 1;

  constructor(private readonly taken: ReadonlySet<string>) {}

  /** The label that checks `mpid` here: the file's own binding if it had one, else bind or compare. */
  check(mpid: string, fileLabel?: string): string {
    if (fileLabel?.startsWith('$') === true) {
      this.bind(mpid, fileLabel.slice(1));
      return fileLabel;
    }
    const known = this.nameOf.get(mpid);
    if (known !== undefined) return `@${known}`;
    let name = `p${this.next}`;
    while (this.taken.has(name)) name = `p${(this.next += 1)}`;
    this.next += 1;
    this.bind(mpid, name);
    return `$${name}`;
  }

  /** `@name` for an MPID already bound, else null. */
  known(mpid: string): string | null {
    const name = this.nameOf.get(mpid);
    return name === undefined ? null : `@${name}`;
  }

  private bind(mpid: string, name: string): void {
    const previous = this.mpidOf.get(name);
    if (previous !== undefined && this.nameOf.get(previous) === name) this.nameOf.delete(previous);
    this.mpidOf.set(name, mpid);
    if (!this.nameOf.has(mpid)) this.nameOf.set(mpid, name);
  }
}

/** Every label name the file mentions, so invented names never collide with them. */
function fileLabelNames(scenario: Scenario): Set<string> {
  const names = new Set<string>();
  JSON.stringify(scenario.steps, (_key, value: unknown) => {
    if (typeof value === 'string') {
      const match = /^(?:\$|@|!@)([A-Za-z][A-Za-z0-9_-]*)$/.exec(value);
      if (match?.[1] !== undefined) names.add(match[1]);
    }
    return value;
  });
  return names;
}

function answerExpectation(answer: StepAnswer, labels: Labels, fileLabel?: string): AnswerExpectationT {
  if (answer.error !== null) return { error: answer.error };
  return {
    ...(answer.mpid === null ? {} : { mpid: labels.check(answer.mpid, fileLabel) }),
    ...(answer.created === null ? {} : { created: answer.created }),
    ...(answer.loggedIn === null ? {} : { loggedIn: answer.loggedIn }),
  };
}

type Answerable = Extract<Step, { expect?: unknown; afterSync?: unknown }>;
const answerable = (step: Step): step is Answerable =>
  ['identify', 'login', 'logout', 'modify', 'alias'].includes(step.do);

/** Strips a step's expectations; an expect step keeps only what acts (`converged` syncs). */
function withoutExpectations(step: Step): Step {
  if (answerable(step)) {
    const bare = { ...step };
    delete bare.expect;
    delete bare.afterSync;
    return bare;
  }
  if (step.do === 'expect') return { do: 'expect', ...(step.converged === true ? { converged: true } : {}) };
  return step;
}

/** The final expectations: devices' current users first (they may bind), then everything else. */
function finalSteps(final: FinalState, labels: Labels): Step[] {
  const stampOwner = new Map(Object.entries(final.devices).map(([name, d]) => [d.applicationStamp, name]));
  const users: Record<string, DeviceExpectationT> = {};
  for (const [name, device] of Object.entries(final.devices))
    if (device.currentUser !== null) users[name] = { currentUser: labels.check(device.currentUser) };
  const devices: Record<string, DeviceExpectationT> = {};
  for (const [name, device] of Object.entries(final.devices)) {
    const people = device.people.map((mpid) => labels.known(mpid));
    const labelled = people.filter((label) => label !== null);
    devices[name] = {
      pending: device.pending,
      localEvents: device.localEvents,
      ...(labelled.length === people.length ? { people: labelled } : {}),
      notices: device.notices,
    };
  }
  const profiles: ProfileExpectationT[] = [];
  const absent: string[] = [];
  for (const profile of final.server?.profiles ?? []) {
    const label = labels.known(profile.mpid);
    if (label === null) continue;
    if (!profile.found) {
      absent.push(label);
      continue;
    }
    const identities: Record<string, string[]> = {};
    for (const [type, values] of Object.entries(profile.identities)) {
      if (values.length === 0) continue;
      // A device's stamp is written `device:<name>`; another's (a renewed one) is left out.
      if (type === 'device_application_stamp') {
        const owned = values.map((v) => stampOwner.get(v));
        if (owned.every((d) => d !== undefined)) identities[type] = owned.map((d) => `device:${d}`);
      } else identities[type] = [...values];
    }
    profiles.push({
      mpid: label,
      identities,
      events: profile.events,
      attributes: profile.attributes,
      orphaned: profile.orphaned,
    });
  }
  const server =
    final.server === null
      ? {}
      : {
          profiles,
          ...(absent.length === 0 ? {} : { absent }),
          profileCount: final.server.profileCount,
        };
  const steps: Step[] = [];
  if (Object.keys(users).length > 0) steps.push({ do: 'expect', devices: users });
  steps.push({ do: 'expect', ...server, devices });
  return steps;
}

/**
 * The scenario `ran` (the file as the strategy ran it: `scenarioUnderStrategy`) with the outcomes
 * `report` observed as its expectations: each answering step's answer (`expect`) and the server's
 * answer once it replayed the request (`afterSync`); each expect step's devices' current users;
 * and, after the last step, every device (current user, pending, local events, people, notices)
 * and the server's profiles (identities, events, attributes, orphaned), absent ones and the live
 * profile count. Steps that act keep their place, so failures name the same step numbers.
 */
export function scenarioFromRun(ran: Scenario, report: ScenarioReport): Result<Scenario, ExportFailure> {
  const { timeline, finalState } = report;
  if (timeline === undefined || finalState === undefined) return err('no_timeline');
  if (timeline.length !== ran.steps.length) return err('timeline_mismatch');
  const labels = new Labels(fileLabelNames(ran));
  const afterSync = new Map<number, AnswerExpectationT>();
  const checkServerAnswers = (at: number) => {
    for (const entry of timeline) {
      if (entry.serverAnswerSeenAt !== at || entry.serverAnswer === null) continue;
      const original = ran.steps[entry.step - 1];
      const fileLabel = original !== undefined && answerable(original) ? original.afterSync?.mpid : undefined;
      afterSync.set(entry.step, answerExpectation(entry.serverAnswer, labels, fileLabel));
    }
  };
  const steps = ran.steps.map((step, index): Step => {
    const entry: TimelineStep | undefined = timeline[index];
    const bare = withoutExpectations(step);
    if (entry === undefined) return bare;
    let expect: AnswerExpectationT | undefined;
    if (answerable(step) && entry.answer !== null)
      expect = answerExpectation(entry.answer, labels, step.expect?.mpid);
    checkServerAnswers(entry.step);
    if (answerable(bare)) return expect === undefined ? bare : { ...bare, expect };
    if (bare.do !== 'expect' || step.do !== 'expect') return bare;
    const devices: Record<string, DeviceExpectationT> = {};
    for (const [name, mpid] of Object.entries(entry.currentUsers)) {
      if (mpid === null) continue;
      devices[name] = { currentUser: labels.check(mpid, step.devices?.[name]?.currentUser) };
    }
    return Object.keys(devices).length === 0 ? bare : { ...bare, devices };
  });
  const final = finalSteps(finalState, labels);
  checkServerAnswers(ran.steps.length + 1);
  const withAfterSync = steps.map((step, index) => {
    const expected = afterSync.get(index + 1);
    return expected === undefined || !answerable(step) ? step : { ...step, afterSync: expected };
  });
  return ok({
    ...ran,
    name: `${ran.name} (observed under ${ran.config.strategy})`,
    description: `Exported from the Conversion Lab: the outcomes of one run under ${ran.config.strategy}, as expectations.${ran.description === '' ? '' : ` ${ran.description}`}`,
    steps: [...withAfterSync, ...final],
  });
}
