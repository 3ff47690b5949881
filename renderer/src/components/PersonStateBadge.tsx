import type { PersonView } from '../device/views.ts';
import { StatusBadge, type Tone } from './StatusBadge.tsx';

const STATES: Record<PersonView['state'], { tone: Tone; label: string; short: string }> = {
  recorded: { tone: 'warning', label: 'Recorded offline', short: 'Recorded' },
  confirmed: { tone: 'success', label: 'Confirmed by the server', short: 'Confirmed' },
  merged: { tone: 'info', label: 'Merged by the server', short: 'Merged' },
};

/** Where a person stands with the server, in words (in a single word where space is short, as in list rows). */
export function PersonStateBadge({ state, short = false }: { state: PersonView['state']; short?: boolean }) {
  const { tone, label, short: word } = STATES[state];
  return short ? (
    <span title={label}>
      <StatusBadge tone={tone}>{word}</StatusBadge>
    </span>
  ) : (
    <StatusBadge tone={tone}>{label}</StatusBadge>
  );
}

export function KnownBadge({ known }: { known: boolean }) {
  return known ? (
    <StatusBadge tone="info">Known</StatusBadge>
  ) : (
    <StatusBadge tone="neutral">Anonymous</StatusBadge>
  );
}
