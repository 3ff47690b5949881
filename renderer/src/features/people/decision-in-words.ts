import {
  explainInWords,
  parseExplainTrace,
  type Explanation,
} from '../../../../shared/resolver/explain-in-words.ts';
import type { DecisionView } from '../../device/views.ts';

/** What a decision's trace says, in words (the server's once applied, else the device's own). */
export function decisionInWords(decision: DecisionView): Explanation {
  const trace = parseExplainTrace(decision.trace);
  return trace.ok ? explainInWords(trace.value) : trace.error;
}

const KINDS: Record<DecisionView['kind'], string> = {
  identify: 'Identify',
  login: 'Log in',
  logout: 'Log out',
  modify: 'Identity change',
  alias: 'Alias',
};

export function decisionKind(kind: DecisionView['kind']): string {
  return KINDS[kind];
}
