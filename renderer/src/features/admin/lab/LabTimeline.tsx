/**
 * One strategy's run step by step (SPEC LB-8): an ordered list, one entry per step, with the
 * device's answer, the server's answer and why (its explain trace in words, folded), and each
 * device's current user after the step.
 */
import { Stack, Text } from '@mantine/core';
import type { TimelineStep } from '../../../../../shared/protocol/lab.ts';
import { timelineRows } from './lab-timeline.ts';

export function LabTimeline({ timeline }: { timeline: readonly TimelineStep[] }) {
  const rows = timelineRows(timeline);
  return (
    <ol className="lab-timeline" aria-label="Step by step">
      {rows.map((row) => (
        <li key={row.step}>
          <Stack gap={2}>
            <Text size="sm" fw={700}>
              {row.step}. {row.what}
            </Text>
            {row.device !== null ? (
              <Text size="sm" className="admin-break">
                Device answered: {row.device}
              </Text>
            ) : null}
            {row.server !== null ? (
              <Text size="sm" className="admin-break">
                Server answered: {row.server}
              </Text>
            ) : null}
            {row.why !== null ? (
              <details>
                <summary>
                  <Text size="sm" component="span">
                    Why: {row.why.headline}
                  </Text>
                </summary>
                <ul className="lab-why">
                  {row.why.steps.map((line) => (
                    <li key={line}>
                      <Text size="sm" className="admin-break">
                        {line}
                      </Text>
                    </li>
                  ))}
                </ul>
              </details>
            ) : null}
            <Text size="sm" c="dimmed" className="admin-break">
              Users: {row.users.join('; ')}
            </Text>
          </Stack>
        </li>
      ))}
    </ol>
  );
}
