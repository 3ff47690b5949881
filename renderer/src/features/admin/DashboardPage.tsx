import './dashboard.css';
import { Button, Card, Group, SegmentedControl, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { Stats } from '../../../../shared/protocol/admin-stats.ts';
import { useAdminSession } from './AdminContext.tsx';
import { ConversionChart, LagTable, OutcomeChart } from './DashboardCharts.tsx';
import {
  conversionPoints,
  lagRows,
  outcomeBuckets,
  percent,
  statsWindow,
  WINDOW_LABELS,
  type WindowChoice,
} from './dashboard-data.ts';
import { Loaded } from './Loaded.tsx';
import { useAdminCall } from './useAdminCall.ts';

/**
 * The workspace at a glance (AC-30..AC-34): resolutions by outcome over time, the
 * anonymous-to-known conversion rate, and how long each device has not been seen.
 */
export function DashboardPage() {
  const session = useAdminSession();
  const [choice, setChoice] = useState<WindowChoice>('day');
  const { state, reload } = useAdminCall(`${session.workspace}|stats|${choice}`, () =>
    session.api.stats(session.workspace, statsWindow(choice, Date.now())),
  );
  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap" gap="sm">
        <Title order={2}>Dashboard</Title>
        <Button variant="default" size="xs" onClick={reload}>
          Refresh
        </Button>
      </Group>
      <SegmentedControl
        aria-label="Window"
        value={choice}
        onChange={(value) => setChoice(value === 'month' ? 'month' : 'day')}
        data={[
          { value: 'day', label: WINDOW_LABELS.day },
          { value: 'month', label: WINDOW_LABELS.month },
        ]}
        fullWidth
      />
      <Text size="sm" c="dimmed" mt={-8}>
        {choice === 'day' ? 'By hour' : 'By day'}; buckets are UTC {choice === 'day' ? 'hours' : 'days'}.
      </Text>
      <Loaded state={state} what="the dashboard" retry={reload}>
        {(stats) => <Charts stats={stats} window={WINDOW_LABELS[choice].toLowerCase()} />}
      </Loaded>
    </Stack>
  );
}

function Charts({ stats, window }: { stats: Stats; window: string }) {
  const buckets = outcomeBuckets(stats);
  const { conversion } = stats;
  return (
    <Stack gap="md">
      <Card withBorder padding="sm" component="section" aria-label="Resolutions by outcome">
        <Title order={3} size="h4" mb="xs">
          Resolutions by outcome
        </Title>
        {stats.resolutions.length === 0 ? (
          <Text role="status">No resolution in the {window}.</Text>
        ) : (
          <OutcomeChart buckets={buckets} bucket={stats.bucket} />
        )}
      </Card>
      <Card withBorder padding="sm" component="section" aria-label="Anonymous to known">
        <Title order={3} size="h4" mb="xs">
          Anonymous to known
        </Title>
        {conversion.startedAnonymous === 0 ? (
          <Text role="status">No profile started anonymous in the {window}.</Text>
        ) : (
          <>
            <Text mb="xs">
              <Text span fz="h2" fw={700}>
                {percent(conversion.rate)}
              </Text>{' '}
              {conversion.converted} of {conversion.startedAnonymous}{' '}
              {conversion.startedAnonymous === 1 ? 'profile' : 'profiles'} that started anonymous became known
            </Text>
            <ConversionChart points={conversionPoints(stats)} bucket={stats.bucket} />
          </>
        )}
      </Card>
      <Card withBorder padding="sm" component="section" aria-label="Sync lag per device">
        <Title order={3} size="h4" mb="xs">
          Sync lag per device
        </Title>
        {stats.devices.total === 0 ? (
          <Text role="status">No device has registered yet. Devices appear here after their first sync.</Text>
        ) : (
          <>
            <Text size="sm" c="dimmed" mb="xs">
              {stats.devices.lag.length < stats.devices.total
                ? `The ${stats.devices.lag.length} longest unseen of ${stats.devices.total} devices`
                : stats.devices.total === 1
                  ? '1 device'
                  : `${stats.devices.total} devices`}
            </Text>
            <LagTable rows={lagRows(stats)} />
          </>
        )}
      </Card>
    </Stack>
  );
}
