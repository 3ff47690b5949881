import { Anchor, Group, Text, Title } from '@mantine/core';
import { NavLink } from 'react-router';
import { useObservable } from '../hooks/useObservable.ts';
import { useServices } from './services.tsx';

/** App name, workspace and the two places to go. */
export function AppHeader() {
  const { sync } = useServices();
  const { connection } = useObservable(sync.state$, sync.current);
  const workspace = connection?.kind === 'server' ? connection.workspaceName : null;
  return (
    <Group h="100%" px="md" justify="space-between" wrap="nowrap" gap="sm">
      <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
        <Title order={1} size="h3" style={{ whiteSpace: 'nowrap' }}>
          Identity Sync
        </Title>
        {workspace !== null && (
          <Text size="sm" c="dimmed" className="truncate" visibleFrom="sm">
            {workspace}
          </Text>
        )}
      </Group>
      <Group component="nav" aria-label="Main" gap="md" wrap="nowrap">
        <Anchor component={NavLink} to="/" end>
          Field
        </Anchor>
        <Anchor component={NavLink} to="/connect">
          Settings
        </Anchor>
      </Group>
    </Group>
  );
}
