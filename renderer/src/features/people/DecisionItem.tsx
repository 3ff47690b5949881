import { Group, List, Stack, Text } from '@mantine/core';
import { StatusBadge, type Tone } from '../../components/StatusBadge.tsx';
import { dateTime } from '../../components/relative-time.ts';
import type { DecisionView } from '../../device/views.ts';
import { decisionInWords, decisionKind } from './decision-in-words.ts';

const STATUS: Record<DecisionView['status'], { tone: Tone; label: string }> = {
  waiting: { tone: 'warning', label: 'Waiting for the server' },
  applied: { tone: 'success', label: 'Decided by the server' },
  failed: { tone: 'danger', label: 'Refused by the server' },
};

/** One identity request that answered this person: what was decided, by whom, and why. */
export function DecisionItem({ decision }: { decision: DecisionView }) {
  const { headline, steps } = decisionInWords(decision);
  const status = STATUS[decision.status];
  return (
    <Stack
      gap={4}
      component="article"
      aria-label={`${decisionKind(decision.kind)}, ${dateTime(decision.createdAt)}`}
    >
      <Group gap="xs" wrap="wrap">
        <Text fw={600} size="sm">
          {decisionKind(decision.kind)}
        </Text>
        <Text size="xs" c="dimmed">
          {dateTime(decision.createdAt)}
        </Text>
        <StatusBadge tone={status.tone}>{status.label}</StatusBadge>
      </Group>
      <Text size="sm">{headline}</Text>
      {decision.error !== null && (
        <Text size="sm" c="var(--mantine-color-error)">
          {decision.error.message}
        </Text>
      )}
      {steps.length > 0 && (
        <List size="sm" spacing={2} type="ordered" withPadding>
          {steps.map((step) => (
            <List.Item key={step}>{step}</List.Item>
          ))}
        </List>
      )}
    </Stack>
  );
}
