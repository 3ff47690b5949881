import { Anchor, Card, Group, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import type { DeviceSummary } from '../../../../shared/protocol/admin.ts';
import { dateTime } from '../../components/relative-time.ts';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { useAdminSession } from './AdminContext.tsx';
import { ConfirmAction } from './ConfirmAction.tsx';
import { Loaded } from './Loaded.tsx';
import { useAdminCall } from './useAdminCall.ts';

/** The workspace's registered devices, when each was last seen, and revoke (AC-4). */
export function DevicesPage() {
  const session = useAdminSession();
  const { state, reload } = useAdminCall(`${session.workspace}|devices`, () =>
    session.api.devices(session.workspace),
  );
  return (
    <Stack gap="md">
      <Title order={2}>Devices</Title>
      <section aria-label="Devices">
        <Loaded state={state} what="devices" retry={reload}>
          {({ devices }) =>
            devices.length === 0 ? (
              <Text role="status">
                No device has registered with workspace {session.workspace} yet. Devices appear here after
                their first sync.
              </Text>
            ) : (
              <Stack gap="sm">
                <Text size="sm" c="dimmed">
                  {devices.length === 1 ? '1 device' : `${devices.length} devices`}, oldest first
                </Text>
                {devices.map((device) => (
                  <DeviceItem key={device.id} device={device} reload={reload} />
                ))}
              </Stack>
            )
          }
        </Loaded>
      </section>
    </Stack>
  );
}

function DeviceItem({ device, reload }: { device: DeviceSummary; reload: () => void }) {
  const session = useAdminSession();
  const accepted = device.nextSeq - 1;
  return (
    <Card withBorder padding="sm" component="article" aria-label={`Device ${device.name}, ${device.id}`}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Text fw={600} className="admin-break">
          {device.name}
        </Text>
        {device.revoked ? (
          <StatusBadge tone="danger">Revoked</StatusBadge>
        ) : (
          <StatusBadge tone="success">Active</StatusBadge>
        )}
      </Group>
      <Text size="sm" c="dimmed" className="admin-break">
        Device ID {device.id}
      </Text>
      <Text size="sm">
        Last seen {dateTime(device.lastSeenAt)}; registered {dateTime(device.createdAt)};{' '}
        {accepted === 1 ? '1 request accepted' : `${accepted} requests accepted`}
      </Text>
      <Anchor component={Link} to={`/admin/devices/${encodeURIComponent(device.id)}`} size="sm">
        Details of {device.name}
      </Anchor>
      {!device.revoked && (
        <Group mt="xs">
          <ConfirmAction
            label="Revoke this device"
            title={`Revoke ${device.name}?`}
            confirm="Revoke device"
            run={() => session.api.revokeDevice(session.workspace, device.id)}
            onDone={reload}
          >
            Device {device.id} loses its credential at once: its next sync is refused (401) and its open live
            updates close. What it already sent stays; anything it has not synced stays on the device. To sync
            again it must register as a new device, with a new device ID.
          </ConfirmAction>
        </Group>
      )}
    </Card>
  );
}
