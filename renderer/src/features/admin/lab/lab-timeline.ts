/**
 * One strategy's run step by step, in words (SPEC LB-8): per step what it did, the device's answer
 * at once, the server's answer and its explain trace in plain words (the console's own
 * `explainInWords`, profiles named P1, P2… as in the differences table), and each device's current
 * user, logged in (known) or anonymous.
 */
import {
  explainInWords,
  parseExplainTrace,
  type Explanation,
} from '../../../../../shared/resolver/explain-in-words.ts';
import type { StepAnswer, TimelineStep } from '../../../../../shared/protocol/lab.ts';
import { profileNames } from './lab-table.ts';

export interface TimelineRow {
  readonly step: number;
  readonly what: string;
  /** The device's answer at once; null for a step that asked nothing. */
  readonly device: string | null;
  /** The server's answer once it replayed the request; null for a step that asked nothing. */
  readonly server: string | null;
  /** The server's explain trace in words; null when it has not answered. */
  readonly why: Explanation | null;
  /** "tablet: P1, logged in", one per device. */
  readonly users: readonly string[];
}

function answerInWords(answer: StepAnswer, name: (mpid: string) => string): string {
  if (answer.error !== null) return `refused: ${answer.error}`;
  const profile = answer.mpid === null ? 'no profile' : name(answer.mpid);
  const how = answer.created === true ? 'created' : answer.created === false ? 'found' : null;
  const login = answer.loggedIn === true ? 'logged in' : answer.loggedIn === false ? 'anonymous' : null;
  return [profile, how, login].filter((part) => part !== null).join(', ');
}

export function timelineRows(timeline: readonly TimelineStep[]): TimelineRow[] {
  const names = profileNames(timeline);
  const name = (mpid: string) => names.get(mpid) ?? mpid;
  return timeline.map((step) => {
    const asked = step.answer !== null;
    const trace = step.serverAnswer === null ? null : parseExplainTrace(step.serverTrace);
    return {
      step: step.step,
      what: step.device === null ? step.do : `${step.device}: ${step.do}`,
      device: asked && step.answer !== null ? answerInWords(step.answer, name) : null,
      server: !asked
        ? null
        : step.serverAnswer === null
          ? 'not synced yet'
          : answerInWords(step.serverAnswer, name),
      why: trace === null ? null : trace.ok ? explainInWords(trace.value, { mpidLabel: name }) : trace.error,
      users: Object.entries(step.currentUsers).map(([device, mpid]) => {
        if (mpid === null) return `${device}: nobody yet`;
        const known = step.loggedIn[device];
        return `${device}: ${name(mpid)}${known === true ? ', logged in' : known === false ? ', anonymous' : ''}`;
      }),
    };
  });
}
