import { Group, Text } from '@mantine/core';
import { dateTime } from '../../components/relative-time.ts';
import type { ActivityView } from '../../device/views.ts';

/** An event or attribute change, with its data as "key: value" text. */
export function ActivityItem({ activity }: { activity: ActivityView }) {
  const details = Object.entries(activity.data).map(([key, value]) => `${key}: ${valueText(value)}`);
  return (
    <li>
      <Group gap="xs" wrap="wrap">
        <Text size="sm" fw={600}>
          {activity.type === 'attribute' ? `Attribute ${activity.name}` : activity.name}
        </Text>
        <Text size="xs" c="dimmed">
          {dateTime(activity.at)}
        </Text>
      </Group>
      {details.length > 0 && (
        <Text size="sm" c="dimmed" style={{ wordBreak: 'break-word' }}>
          {details.join(' · ')}
        </Text>
      )}
    </li>
  );
}

function valueText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(valueText).join(', ');
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${k} ${valueText(v)}`)
    .join(', ');
}
