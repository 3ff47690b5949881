import { Card, Group, Kbd, Stack, Text, TextInput, Title } from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { useDeferredValue, useMemo, useRef } from 'react';
import { useServices } from '../../app/services.tsx';
import { useObservableInTransition } from '../../hooks/useObservable.ts';
import type { PersonView } from '../../device/views.ts';
import { PeopleList } from './PeopleList.tsx';
import { searchPeople } from './person-search.ts';

const NONE: readonly never[] = [];

/**
 * Everyone captured on this device, searchable by identity value or MPID. The card and the search
 * field do not follow the people: the count and the list do, in a transition, so a login paints
 * the current person first and renders the list after (UP-2).
 */
export function PeoplePanel({
  query,
  onQueryChange,
  selected,
  onSelect,
}: {
  query: string;
  onQueryChange: (query: string) => void;
  selected: string | null;
  onSelect: (mpid: string) => void;
}) {
  const deferred = useDeferredValue(query);
  const searchRef = useRef<HTMLInputElement>(null);
  useHotkeys([['/', () => searchRef.current?.focus()]]);

  return (
    <Card withBorder component="section" aria-labelledby="people-heading" padding="md">
      <Stack gap="sm">
        <Group justify="space-between" align="baseline">
          <Title order={2} size="h4" id="people-heading">
            People on this device
          </Title>
          <PeopleCount query={deferred} />
        </Group>
        <TextInput
          ref={searchRef}
          type="search"
          label="Search people"
          description={
            <span>
              By identity value or MPID. Press <Kbd size="xs">/</Kbd> to search.
            </span>
          }
          aria-keyshortcuts="/"
          placeholder="e.g. a@example.com"
          value={query}
          onChange={(event) => onQueryChange(event.currentTarget.value)}
        />
        <PeopleResults query={deferred} selected={selected} onSelect={onSelect} />
      </Stack>
    </Card>
  );
}

/** The people matching the search; the engine's list in a transition (UP-2). */
function useShownPeople(query: string): { people: readonly PersonView[]; shown: readonly PersonView[] } {
  const { engine } = useServices();
  const people = useObservableInTransition(engine.people$, NONE);
  const shown = useMemo(() => searchPeople(people, query), [people, query]);
  return { people, shown };
}

function PeopleCount({ query }: { query: string }) {
  const { people, shown } = useShownPeople(query);
  return (
    <Text size="sm" c="dimmed" aria-live="polite">
      {countText(shown.length, people.length, query)}
    </Text>
  );
}

function PeopleResults({
  query,
  selected,
  onSelect,
}: {
  query: string;
  selected: string | null;
  onSelect: (mpid: string) => void;
}) {
  const { people, shown } = useShownPeople(query);
  if (people.length === 0)
    return (
      <Stack gap={4} py="lg" ta="center">
        <Text fw={600}>No people yet</Text>
        <Text c="dimmed" size="sm">
          Identify someone or record activity, and they appear here.
        </Text>
      </Stack>
    );
  if (shown.length === 0)
    return (
      <Text py="lg" ta="center" c="dimmed">
        No one matches “{query.trim()}”.
      </Text>
    );
  return <PeopleList people={shown} selected={selected} onSelect={onSelect} />;
}

function countText(shown: number, total: number, query: string): string {
  const people = (n: number) => (n === 1 ? '1 person' : `${n} people`);
  return query.trim() === '' ? people(total) : `${shown} of ${people(total)}`;
}
