import { Card, Group, Stack, Text, Title } from '@mantine/core';
import { useServices } from '../../app/services.tsx';
import { FormError } from '../../components/FormError.tsx';
import { IdentityList } from '../../components/IdentityList.tsx';
import { KnownBadge, PersonStateBadge } from '../../components/PersonStateBadge.tsx';
import { ShortMpid } from '../../components/ShortMpid.tsx';
import { useObservable } from '../../hooks/useObservable.ts';
import { PersonActions } from './PersonActions.tsx';

/** Who the device is acting as right now, and the buttons that end their turn. */
export function CurrentPersonCard({
  onNextPerson,
  error,
}: {
  onNextPerson: () => void;
  error: string | null;
}) {
  const { engine } = useServices();
  const person = useObservable(engine.currentPerson$, null);
  return (
    <Card withBorder component="section" aria-labelledby="current-person-heading" padding="md">
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Title order={2} size="h4" id="current-person-heading">
            Current person
          </Title>
          {person !== null && (
            <Group gap={6}>
              <KnownBadge known={person.known} />
              <PersonStateBadge state={person.state} />
            </Group>
          )}
        </Group>
        {person === null ? (
          <Text c="dimmed">No one yet. Identify someone below, or record activity to start anonymously.</Text>
        ) : (
          <>
            <Group gap="xs">
              <Text size="sm" c="dimmed">
                MPID
              </Text>
              <ShortMpid mpid={person.mpid} />
            </Group>
            <IdentityList identities={person.identities} label="Current person's identities" />
          </>
        )}
        <PersonActions
          hasPerson={person !== null}
          known={person?.known ?? false}
          onNextPerson={onNextPerson}
        />
        <FormError message={error} />
      </Stack>
    </Card>
  );
}
