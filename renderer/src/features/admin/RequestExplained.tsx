import { Card, Group, List, Text } from '@mantine/core';
import { explainInWords } from '../../../../shared/resolver/explain-in-words.ts';
import type { StoredRequest } from '../../../../shared/resolver/records.ts';
import { dateTime } from '../../components/relative-time.ts';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { requestKindInWords } from './admin-words.ts';

/** Shown for a request stored without its trace: it changed nothing (LS-5), or its trace expired (LS-10). */
const NO_TRACE = {
  headline:
    'Its explanation is not kept: the request changed nothing, or it is older than the server keeps explanations. What it changed is in the history.',
  steps: [],
} as const;

/** A stored request with its explain trace in plain words (TR-5), as the Field screen words it. */
export function RequestExplained({ request }: { request: StoredRequest }) {
  const { headline, steps } = request.trace === null ? NO_TRACE : explainInWords(request.trace);
  const kind = requestKindInWords(request.kind);
  return (
    <Card withBorder padding="sm" component="article" aria-label={`${kind}, ${dateTime(request.at)}`}>
      <Group gap="xs" wrap="wrap">
        <Text fw={600} size="sm">
          {kind}
        </Text>
        <Text size="xs" c="dimmed">
          {dateTime(request.at)} by {request.actor.kind} {request.actor.id}
        </Text>
        {request.status >= 400 && <StatusBadge tone="danger">Refused ({request.status})</StatusBadge>}
      </Group>
      <Text size="sm" className="admin-break">
        {headline}
      </Text>
      {steps.length > 0 && (
        <List size="sm" spacing={2} type="ordered" withPadding className="admin-break">
          {steps.map((step) => (
            <List.Item key={step}>{step}</List.Item>
          ))}
        </List>
      )}
    </Card>
  );
}
