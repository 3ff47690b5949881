import { Button, Group } from '@mantine/core';
import { memo, useState } from 'react';
import { useServices } from '../../app/services.tsx';
import { FormError } from '../../components/FormError.tsx';
import { Shortcut } from '../../components/Shortcut.tsx';

/**
 * "Log out" returns the current person to anonymous on this device; "Next person" starts afresh
 * for someone else (a new device stamp, so they are never matched to the previous person) and
 * clears the screen. Memoised: a login that keeps the person known does not render it (or its
 * shortcut tooltip) again.
 */
export const PersonActions = memo(function PersonActions({
  hasPerson,
  known,
  onNextPerson,
}: {
  hasPerson: boolean;
  known: boolean;
  onNextPerson: () => void;
}) {
  const { engine } = useServices();
  const [error, setError] = useState<string | null>(null);
  const logOut = async () => {
    const result = await engine.logout();
    setError(result.ok ? null : `Could not log out: ${result.error.message}`);
  };
  return (
    <>
      <Group gap="xs" mt="xs">
        <Button variant="default" onClick={() => void logOut()} disabled={!known}>
          Log out
        </Button>
        <Shortcut label="Start with the next person" keys={['Alt', 'N']}>
          <Button onClick={onNextPerson} disabled={!hasPerson} aria-keyshortcuts="Alt+N">
            Next person
          </Button>
        </Shortcut>
      </Group>
      <FormError message={error} />
    </>
  );
});
