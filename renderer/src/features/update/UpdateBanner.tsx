import { Alert, Button, Group, Text } from '@mantine/core';
import { useServices } from '../../app/services.tsx';
import { useObservable } from '../../hooks/useObservable.ts';

/** "A new version is ready — Reload", when the service worker installed one. */
export function UpdateBanner() {
  const { update$ } = useServices();
  const apply = useObservable(update$, null);
  if (apply === null) return null;
  return (
    <Alert variant="light" color="indigo" radius={0} py={6} role="status">
      <Group justify="space-between" gap="xs">
        <Text size="sm">A new version is ready.</Text>
        <Button size="xs" onClick={apply}>
          Reload
        </Button>
      </Group>
    </Alert>
  );
}
