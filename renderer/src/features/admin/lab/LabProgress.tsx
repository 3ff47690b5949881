/**
 * A Lab job while it runs and after it stopped (SPEC LB-15): how many strategies have ended, each
 * strategy waiting, running or with its verdict, and a Cancel button; once cancelled, what had
 * ended; when a call failed, why. Progress is announced once per change (a polite live region), not
 * per poll.
 */
import { Button, Group, Loader, Progress, Stack, Text } from '@mantine/core';
import type { LabJob, LabJobStrategy } from '../../../../../shared/protocol/lab-jobs.ts';
import { verdict } from './lab-table.ts';
import type { LabJobState } from './useLabJob.ts';

export function LabProgress({ state, onCancel }: { state: LabJobState; onCancel: () => void }) {
  switch (state.status) {
    case 'idle':
    case 'done':
      return null;
    case 'failed':
      return (
        <Text role="alert" c="var(--mantine-color-error)">
          {state.message}
        </Text>
      );
    case 'starting':
      return (
        <Group gap="xs">
          <Loader size="sm" />
          <Text role="status">Starting the run…</Text>
        </Group>
      );
    case 'running':
      return (
        <section aria-label="Run progress">
          <Stack gap="xs">
            <Group gap="xs" wrap="wrap">
              <Loader size="sm" />
              <Text role="status">
                {state.cancelling ? 'Cancelling… ' : 'Running: '}
                {state.job.done} of {state.job.total} strategies done.
              </Text>
            </Group>
            <Progress.Root size="lg">
              <Progress.Section
                value={Math.round((100 * state.job.done) / state.job.total)}
                aria-label="Strategies done"
              />
            </Progress.Root>
            <StrategyStates job={state.job} />
            <Group>
              <Button variant="default" color="red" onClick={onCancel} disabled={state.cancelling}>
                Cancel the run
              </Button>
            </Group>
          </Stack>
        </section>
      );
    case 'cancelled': {
      const ended = state.job.strategies.filter((s) => s.status !== 'cancelled').length;
      return (
        <section aria-label="Run progress">
          <Stack gap="xs">
            <Text role="status" fw={700}>
              Run cancelled: {ended} of {state.job.total} strategies had ended; the others were stopped.
            </Text>
            <StrategyStates job={state.job} />
          </Stack>
        </section>
      );
    }
  }
}

function StrategyStates({ job }: { job: LabJob }) {
  return (
    <ul className="lab-verdicts" aria-label="Strategies">
      {job.strategies.map((entry) => (
        <li key={entry.strategy}>
          <Text size="sm" className="admin-break">
            <strong>{entry.strategy}</strong>: {strategyState(entry)}
          </Text>
        </li>
      ))}
    </ul>
  );
}

/** A strategy of a job in words: waiting, running, or its verdict once ended. */
function strategyState(entry: LabJobStrategy): string {
  if (entry.status === 'waiting') return 'waiting for a free place';
  if (entry.status === 'running') return 'running…';
  return verdict(entry);
}
