import './dashboard.css';
import { Anchor, Card, Group, Stack, Text, Title } from '@mantine/core';
import { Link, useParams } from 'react-router';
import type { DeviceDetail, FailedDeviceRequest } from '../../../../shared/protocol/admin-devices.ts';
import { dateTime } from '../../components/relative-time.ts';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { ok } from '../../../../shared/util/result.ts';
import { useAdminSession } from './AdminContext.tsx';
import { lagInWords } from './dashboard-data.ts';
import { failedCodeInWords } from './device-words.ts';
import { Loaded } from './Loaded.tsx';
import { useAdminCall } from './useAdminCall.ts';

/** How many of a device's failed requests the detail shows, the newest first. */
const FAILED_SHOWN = 20;

/** One device: its registration, when it was last seen, its counts and what it was refused (AC-35). */
export function DeviceDetailPage() {
  const session = useAdminSession();
  const id = useParams()['id'] ?? '';
  const { state, reload } = useAdminCall(`${session.workspace}|device|${id}`, async () => {
    const answer = await session.api.device(session.workspace, id, FAILED_SHOWN);
    return answer.ok ? ok({ device: answer.value, readAt: Date.now() }) : answer;
  });
  return (
    <Stack gap="md">
      <Anchor component={Link} to="/admin/devices" size="sm">
        ← All devices
      </Anchor>
      <Loaded
        state={state}
        what={`device ${id}`}
        retry={reload}
        failedHeading={<Title order={2}>Device {id}</Title>}
      >
        {({ device, readAt }) => <Detail device={device} readAt={readAt} />}
      </Loaded>
    </Stack>
  );
}

/** `readAt`: when the answer arrived, so the lag is the one the page was given, not a render's. */
function Detail({ device, readAt }: { device: DeviceDetail; readAt: number }) {
  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Title order={2} className="admin-break">
          {device.name}
        </Title>
        {device.revokedAt === null ? (
          <StatusBadge tone="success">Active</StatusBadge>
        ) : (
          <StatusBadge tone="danger">Revoked {dateTime(device.revokedAt)}</StatusBadge>
        )}
      </Group>
      <Card withBorder padding="sm" component="section" aria-label="Registration and sync">
        <dl className="device-facts">
          <dt>Device ID</dt>
          <dd className="admin-break">{device.id}</dd>
          <dt>Registered</dt>
          <dd>
            {dateTime(device.registeredAt)} with input <span className="admin-break">{device.inputKey}</span>
          </dd>
          <dt>Application stamp</dt>
          <dd className="admin-break">{device.deviceApplicationStamp}</dd>
          <dt>Last seen</dt>
          <dd>
            {dateTime(device.lastSeenAt)} ({lagInWords(readAt - device.lastSeenAt)} ago)
          </dd>
          <dt>Next expected request</dt>
          <dd>number {device.nextSeq}</dd>
          <dt>Requests</dt>
          <dd>
            {device.requests.applied} applied, {device.requests.failed} failed
          </dd>
        </dl>
      </Card>
      <section aria-label="Failed requests">
        <Title order={3} size="h4" mb="xs">
          Failed requests
        </Title>
        {device.lastFailed.length === 0 ? (
          <Text role="status">The server has refused none of this device&apos;s requests.</Text>
        ) : (
          <Stack gap="sm">
            <Text size="sm" c="dimmed">
              {device.requests.failed > device.lastFailed.length
                ? `The newest ${device.lastFailed.length} of ${device.requests.failed}, newest first`
                : 'Newest first'}
              ; each with what the device was told
            </Text>
            {device.lastFailed.map((failed) => (
              <FailedItem key={failed.seq} failed={failed} />
            ))}
          </Stack>
        )}
      </section>
    </Stack>
  );
}

function FailedItem({ failed }: { failed: FailedDeviceRequest }) {
  return (
    <Card
      withBorder
      padding="sm"
      component="article"
      aria-label={`Request ${failed.seq}, ${failed.requestId}`}
    >
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Text fw={600}>
          Request {failed.seq}: {failed.kind}
        </Text>
        <StatusBadge tone="danger">{failed.code}</StatusBadge>
      </Group>
      <Text size="sm">{failedCodeInWords(failed.code)}</Text>
      <Text size="sm" className="admin-break">
        The device was told: “{failed.message}”
      </Text>
      <Text size="xs" c="dimmed" className="admin-break">
        Received {dateTime(failed.receivedAt)}; request ID {failed.requestId}
      </Text>
    </Card>
  );
}
