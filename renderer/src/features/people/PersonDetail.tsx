import { Button, Card, Divider, Group, Stack, Text, Title } from '@mantine/core';
import { useMemo } from 'react';
import { useServices } from '../../app/services.tsx';
import { IdentityList } from '../../components/IdentityList.tsx';
import { KnownBadge, PersonStateBadge } from '../../components/PersonStateBadge.tsx';
import { ShortMpid } from '../../components/ShortMpid.tsx';
import { personTitle } from '../../components/person-title.ts';
import { STORAGE_READING } from '../../components/storage-reading.ts';
import type { PersonView } from '../../device/views.ts';
import { useObservable } from '../../hooks/useObservable.ts';
import { noticeConcerns } from '../../sync/notice-in-words.ts';
import { ActivityItem } from './ActivityItem.tsx';
import { DecisionItem } from './DecisionItem.tsx';
import { PersonNotices } from './PersonNotices.tsx';

const NONE: readonly never[] = [];

/** One person: identities, what the server said and decided (in words), and their activity. */
export function PersonDetail({ mpid, onClose }: { mpid: string; onClose: () => void }) {
  const { engine, sync } = useServices();
  // `null` until the device's storage has been read (UP-6).
  const people = useObservable<readonly PersonView[] | null>(engine.people$, null);
  const activity$ = useMemo(() => engine.activity$(mpid), [engine, mpid]);
  const decisions$ = useMemo(() => engine.decisions$(mpid), [engine, mpid]);
  const activity = useObservable(activity$, NONE);
  const decisions = useObservable(decisions$, NONE);
  const allNotices = useObservable(sync.notices$, NONE);
  const person = people?.find((p) => p.mpid === mpid) ?? null;

  const mpids = new Set([mpid, ...(person?.mergedFrom ?? [])]);
  const requestIds = new Set(decisions.map((d) => d.requestId));
  const notices = allNotices.filter((notice) => noticeConcerns(notice, mpids, requestIds));

  return (
    <Card withBorder component="section" aria-labelledby="person-heading" padding="md">
      <Stack gap="sm">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Title order={2} size="h4" id="person-heading" className="truncate">
            {person === null ? 'Person' : personTitle(person)}
          </Title>
          <Button variant="default" size="compact-sm" onClick={onClose} style={{ flexShrink: 0 }}>
            Close
          </Button>
        </Group>
        {person !== null ? (
          <PersonSummary person={person} />
        ) : (
          <Text c="dimmed">
            {people === null ? STORAGE_READING : 'This person is no longer on this device.'}
          </Text>
        )}
        <PersonNotices notices={notices} />
        <Divider />
        <Title order={3} size="h5">
          Decisions
        </Title>
        {decisions.length === 0 ? (
          <Text c="dimmed" size="sm">
            No identity requests answered this person on this device.
          </Text>
        ) : (
          <Stack gap="md">
            {decisions.map((decision) => (
              <DecisionItem key={decision.requestId} decision={decision} />
            ))}
          </Stack>
        )}
        <Divider />
        <Title order={3} size="h5">
          Activity
        </Title>
        {activity.length === 0 ? (
          <Text c="dimmed" size="sm">
            No activity recorded.
          </Text>
        ) : (
          <Stack component="ul" gap="xs" m={0} p={0} style={{ listStyle: 'none' }} aria-label="Activity">
            {activity.map((item) => (
              <ActivityItem key={item.id} activity={item} />
            ))}
          </Stack>
        )}
      </Stack>
    </Card>
  );
}

function PersonSummary({ person }: { person: PersonView }) {
  return (
    <>
      <Group gap="xs" wrap="wrap">
        <ShortMpid mpid={person.mpid} />
        <KnownBadge known={person.known} />
        <PersonStateBadge state={person.state} />
        {person.current && <Text size="sm">Current person</Text>}
      </Group>
      <IdentityList identities={person.identities} label={`Identities of ${personTitle(person)}`} />
    </>
  );
}
