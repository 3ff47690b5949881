import { Card, Group, Stack, Text, Title } from '@mantine/core';
import { useServices } from '../../app/services.tsx';
import { FormError } from '../../components/FormError.tsx';
import { IdentityList } from '../../components/IdentityList.tsx';
import { KnownBadge, PersonStateBadge } from '../../components/PersonStateBadge.tsx';
import { ShortMpid } from '../../components/ShortMpid.tsx';
import { STORAGE_READING } from '../../components/storage-reading.ts';
import type { PersonView } from '../../device/views.ts';
import { useObservable } from '../../hooks/useObservable.ts';
import { PersonActions } from './PersonActions.tsx';

/**
 * Who the device is acting as right now, and the buttons that end their turn. The card itself
 * does not follow the current person: the parts that show them do, so a login renders only what
 * it changes (UP-2). The badges have a row of their own: beside the title, the server's answer
 * ("Recorded offline" becoming "Confirmed by the server") wrapped them onto a new line and moved
 * everything below, the form's buttons included, under the user's pointer (UP-16).
 */
export function CurrentPersonCard({
  onNextPerson,
  error,
}: {
  onNextPerson: () => void;
  error: string | null;
}) {
  return (
    <Card withBorder component="section" aria-labelledby="current-person-heading" padding="md">
      <Stack gap="xs">
        <Title order={2} size="h4" id="current-person-heading">
          Current person
        </Title>
        <CurrentPersonBadges />
        <CurrentPersonDetails />
        <CurrentPersonActions onNextPerson={onNextPerson} />
        <FormError message={error} />
      </Stack>
    </Card>
  );
}

/** The current person; `undefined` until the device's storage has been read (UP-6). */
function useCurrentPerson(): PersonView | null | undefined {
  const { engine } = useServices();
  return useObservable<PersonView | null | undefined>(engine.currentPerson$, undefined);
}

function CurrentPersonBadges() {
  const person = useCurrentPerson();
  if (person === null || person === undefined) return null;
  return (
    <Group gap={6}>
      <KnownBadge known={person.known} />
      <PersonStateBadge state={person.state} />
    </Group>
  );
}

function CurrentPersonDetails() {
  const person = useCurrentPerson();
  if (person === undefined) return <Text c="dimmed">{STORAGE_READING}</Text>;
  if (person === null)
    return (
      <Text c="dimmed">No one yet. Identify someone below, or record activity to start anonymously.</Text>
    );
  return (
    <>
      <Group gap="xs">
        <Text size="sm" c="dimmed">
          MPID
        </Text>
        <ShortMpid mpid={person.mpid} />
      </Group>
      <IdentityList identities={person.identities} label="Current person's identities" />
    </>
  );
}

function CurrentPersonActions({ onNextPerson }: { onNextPerson: () => void }) {
  const person = useCurrentPerson();
  return (
    <PersonActions
      hasPerson={person !== null && person !== undefined}
      known={person?.known ?? false}
      onNextPerson={onNextPerson}
    />
  );
}
