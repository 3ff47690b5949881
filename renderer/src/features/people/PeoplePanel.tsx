import { Card, Group, Kbd, Stack, Text, TextInput, Title } from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { useDeferredValue, useRef } from 'react';
import { useServices } from '../../app/services.tsx';
import { useObservable } from '../../hooks/useObservable.ts';
import { PeopleList } from './PeopleList.tsx';
import { searchPeople } from './person-search.ts';

const NONE: readonly never[] = [];

/** Everyone captured on this device, searchable by identity value or MPID. */
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
  const { engine } = useServices();
  const people = useObservable(engine.people$, NONE);
  const deferred = useDeferredValue(query);
  const shown = searchPeople(people, deferred);
  const searchRef = useRef<HTMLInputElement>(null);
  useHotkeys([['/', () => searchRef.current?.focus()]]);

  return (
    <Card withBorder component="section" aria-labelledby="people-heading" padding="md">
      <Stack gap="sm">
        <Group justify="space-between" align="baseline">
          <Title order={2} size="h4" id="people-heading">
            People on this device
          </Title>
          <Text size="sm" c="dimmed" aria-live="polite">
            {countText(shown.length, people.length, deferred)}
          </Text>
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
        {people.length === 0 ? (
          <Stack gap={4} py="lg" ta="center">
            <Text fw={600}>No people yet</Text>
            <Text c="dimmed" size="sm">
              Identify someone or record activity, and they appear here.
            </Text>
          </Stack>
        ) : shown.length === 0 ? (
          <Text py="lg" ta="center" c="dimmed">
            No one matches “{deferred.trim()}”.
          </Text>
        ) : (
          <PeopleList people={shown} selected={selected} onSelect={onSelect} />
        )}
      </Stack>
    </Card>
  );
}

function countText(shown: number, total: number, query: string): string {
  const people = (n: number) => (n === 1 ? '1 person' : `${n} people`);
  return query.trim() === '' ? people(total) : `${shown} of ${people(total)}`;
}
