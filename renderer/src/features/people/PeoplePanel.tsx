import { Card, Group, Kbd, Stack, Text, TextInput, Title } from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { useDeferredValue, useMemo, useRef, type ReactNode } from 'react';
import { useServices } from '../../app/services.tsx';
import { useObservableInTransition } from '../../hooks/useObservable.ts';
import type { PersonView } from '../../device/views.ts';
import { STORAGE_READING } from '../../components/storage-reading.ts';
import { PeopleList } from './PeopleList.tsx';
import { searchPeople } from './person-search.ts';

/**
 * Everyone captured on this device, searchable by identity value or MPID. The card and the search
 * field do not follow the people: one part below them does, in a transition, so a login paints
 * the current person first and renders the list after (UP-2); it reads and searches the people
 * once per change for both the count and the list (UP-7).
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

  const search = (
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
  );
  return (
    <Card withBorder component="section" aria-labelledby="people-heading" padding="md">
      <PeopleBody query={deferred} search={search} selected={selected} onSelect={onSelect} />
    </Card>
  );
}

const HEADING = (
  <Title order={2} size="h4" id="people-heading">
    People on this device
  </Title>
);

/**
 * The count, the search field (rendered by the panel: the same element while the query does not
 * change, so a new list does not render it again) and the list. `null` people: not read yet.
 */
function PeopleBody({
  query,
  search,
  selected,
  onSelect,
}: {
  query: string;
  search: ReactNode;
  selected: string | null;
  onSelect: (mpid: string) => void;
}) {
  const { engine } = useServices();
  const people = useObservableInTransition<readonly PersonView[] | null>(engine.people$, null);
  const shown = useMemo(() => (people === null ? null : searchPeople(people, query)), [people, query]);
  return (
    <Stack gap="sm">
      <Group justify="space-between" align="baseline">
        {HEADING}
        <Text size="sm" c="dimmed" aria-live="polite">
          {people === null || shown === null ? '' : countText(shown.length, people.length, query)}
        </Text>
      </Group>
      {search}
      <PeopleResults people={people} shown={shown} query={query} selected={selected} onSelect={onSelect} />
    </Stack>
  );
}

function PeopleResults({
  people,
  shown,
  query,
  selected,
  onSelect,
}: {
  people: readonly PersonView[] | null;
  shown: readonly PersonView[] | null;
  query: string;
  selected: string | null;
  onSelect: (mpid: string) => void;
}) {
  if (people === null || shown === null)
    return (
      <Text py="lg" ta="center" c="dimmed">
        {STORAGE_READING}
      </Text>
    );
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
