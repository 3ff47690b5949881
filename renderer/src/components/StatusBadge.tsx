import type { ReactNode } from 'react';

export type Tone = 'neutral' | 'info' | 'success' | 'warning' | 'danger';

/** A small pill stating a status in words; its colour only repeats what the words say. */
export function StatusBadge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return (
    <span className="tone" data-tone={tone}>
      {children}
    </span>
  );
}
