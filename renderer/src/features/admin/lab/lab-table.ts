/**
 * The Lab's differences table (SPEC LB-6): one row per step, one cell per strategy. MPIDs are
 * random per run, so each run's profiles are named P1, P2… in the order they first appear in its
 * timeline; two strategies agree on a step when those names and the outcome agree.
 */
import type { Strategy } from '../../../../../shared/identity/scope-config.ts';
import type { LabStrategyRun, StepAnswer, TimelineStep } from '../../../../../shared/protocol/lab.ts';

export interface LabRow {
  readonly step: number;
  readonly what: string;
  /** Per strategy, in the runs' order; null where the strategy did not run. */
  readonly cells: readonly (string | null)[];
  readonly differs: boolean;
}

export interface LabTable {
  readonly strategies: readonly Strategy[];
  readonly rows: readonly LabRow[];
}

/** Each run's profiles named P1, P2… in order of first appearance in its timeline. */
export function profileNames(timeline: readonly TimelineStep[]): Map<string, string> {
  const names = new Map<string, string>();
  const see = (mpid: string | null | undefined) => {
    if (mpid !== null && mpid !== undefined && !names.has(mpid)) names.set(mpid, `P${names.size + 1}`);
  };
  for (const step of timeline) {
    see(step.answer?.mpid);
    see(step.serverAnswer?.mpid);
    for (const mpid of Object.values(step.currentUsers)) see(mpid);
  }
  return names;
}

/** What a step ended with: the server's answer once it replayed the request, else the device's. */
function outcome(step: TimelineStep, names: Map<string, string>): string {
  const name = (mpid: string | null) => (mpid === null ? 'no profile' : (names.get(mpid) ?? mpid));
  const answer: StepAnswer | null = step.serverAnswer ?? step.answer;
  if (answer === null) {
    const user = step.device === null ? undefined : step.currentUsers[step.device];
    return user === undefined ? '—' : `user ${name(user)}`;
  }
  if (answer.error !== null) return `error ${answer.error}`;
  const merged =
    step.serverAnswer !== null && step.answer !== null && step.answer.mpid !== step.serverAnswer.mpid;
  const how = merged ? 'merged' : answer.created === true ? 'created' : 'found';
  const pending = step.serverAnswer === null ? ', not synced' : '';
  return `${name(answer.mpid)} ${how}${pending}`;
}

function describe(step: TimelineStep): string {
  return step.device === null ? step.do : `${step.device}: ${step.do}`;
}

export function labTable(runs: readonly LabStrategyRun[]): LabTable {
  const timelines = runs.map((run) =>
    run.status === 'completed' && run.report.timeline !== undefined ? run.report.timeline : null,
  );
  const names = timelines.map((timeline) => (timeline === null ? null : profileNames(timeline)));
  const longest = timelines.reduce<readonly TimelineStep[]>(
    (a, t) => (t !== null && t.length > a.length ? t : a),
    [],
  );
  const rows = longest.map((template, index): LabRow => {
    const cells = timelines.map((timeline, i) => {
      const step = timeline?.[index];
      const known = names[i];
      return step === undefined || known === null || known === undefined ? null : outcome(step, known);
    });
    const ran = cells.filter((c): c is string => c !== null);
    return { step: template.step, what: describe(template), cells, differs: new Set(ran).size > 1 };
  });
  return { strategies: runs.map((r) => r.strategy), rows };
}

/** A strategy's verdict on the file's expectations, in words. */
export function verdict(run: LabStrategyRun): string {
  switch (run.status) {
    case 'completed': {
      const { report } = run;
      if (report.ok) return `passed (${report.expectations} expectations)`;
      const n = report.failures.length;
      return `${n} of ${report.expectations} expectations failed`;
    }
    case 'invalid_config':
      return `not run: ${run.message}`;
    case 'failed':
      return `run broke (${run.reason.replaceAll('_', ' ')}): ${run.message}`;
    case 'cancelled':
      return 'cancelled before it ended';
  }
}
