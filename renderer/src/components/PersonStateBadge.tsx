import type { PersonView } from '../device/views.ts';
import { StatusBadge, type Tone } from './StatusBadge.tsx';

const STATES: Record<PersonView['state'], { tone: Tone; label: string }> = {
  recorded: { tone: 'warning', label: 'Recorded offline' },
  confirmed: { tone: 'success', label: 'Confirmed by the server' },
  merged: { tone: 'info', label: 'Merged by the server' },
};

/** Where a person stands with the server, in words. */
export function PersonStateBadge({ state }: { state: PersonView['state'] }) {
  const { tone, label } = STATES[state];
  return <StatusBadge tone={tone}>{label}</StatusBadge>;
}

export function KnownBadge({ known }: { known: boolean }) {
  return known ? (
    <StatusBadge tone="info">Known</StatusBadge>
  ) : (
    <StatusBadge tone="neutral">Anonymous</StatusBadge>
  );
}
