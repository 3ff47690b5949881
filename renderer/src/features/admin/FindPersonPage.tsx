import { Anchor, Button, Card, Group, Loader, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { IDENTITY_TYPES, IdentityTypeSchema } from '../../../../shared/identity/identity-types.ts';
import type { ProfileRecord } from '../../../../shared/resolver/records.ts';
import { dateTime } from '../../components/relative-time.ts';
import { personTitle } from '../../components/person-title.ts';
import { ShortMpid } from '../../components/ShortMpid.tsx';
import { FormError } from '../../components/FormError.tsx';
import { identityLabel } from '../../identity/identity-labels.ts';
import { failureInWords } from './admin-api.ts';
import { useAdminSession } from './AdminContext.tsx';
import { useAdminCall } from './useAdminCall.ts';

const TYPE_OPTIONS = IDENTITY_TYPES.map((type) => ({ value: type, label: identityLabel(type) }));

/**
 * Find a person by any identity value (AC-2). The search lives in the address (`?type=&value=`),
 * so going back from a person's detail shows the same results.
 */
export function FindPersonPage() {
  const session = useAdminSession();
  const [params, setParams] = useSearchParams();
  const type = IdentityTypeSchema.safeParse(params.get('type')).data ?? 'email';
  const value = params.get('value') ?? '';
  const [draftType, setDraftType] = useState<string>(type);
  const [draftValue, setDraftValue] = useState(value);
  const [error, setError] = useState<string | null>(null);

  const searching = value === '' ? null : `${session.workspace}|${type}|${value}`;
  const { state, reload } = useAdminCall(searching, () =>
    session.api.searchProfiles(session.workspace, type, value),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    const chosen = IdentityTypeSchema.safeParse(draftType);
    if (!chosen.success) return setError('Choose the kind of identity to search by.');
    if (draftValue.trim() === '')
      return setError('Enter the value to look for, for example an email address.');
    setError(null);
    // The same search again asks the server again (after an error, or to see a change).
    if (chosen.data === type && draftValue.trim() === value) reload();
    else setParams({ type: chosen.data, value: draftValue.trim() });
  }

  return (
    <Stack gap="md">
      <Title order={2}>Find a person</Title>
      <form aria-label="Find a person" onSubmit={submit}>
        <Group align="flex-end" gap="sm" wrap="wrap">
          <Select
            label="Identity"
            data={TYPE_OPTIONS}
            value={draftType}
            onChange={(next) => next !== null && setDraftType(next)}
            allowDeselect={false}
            searchable
            w="12rem"
          />
          <TextInput
            label="Value"
            value={draftValue}
            onChange={(event) => setDraftValue(event.currentTarget.value)}
            style={{ flex: '1 1 14rem' }}
            autoComplete="off"
          />
          <Button type="submit">Search</Button>
        </Group>
        <FormError message={error} />
      </form>
      <section aria-label="Search results">
        {searching === null ? (
          <Text c="dimmed">
            Search by any identity a person was seen with: email, customer ID, a device ID…
          </Text>
        ) : state.status === 'loading' ? (
          <Group gap="xs">
            <Loader size="sm" />
            <Text role="status">Searching…</Text>
          </Group>
        ) : state.status === 'failed' ? (
          <Text role="alert" c="var(--mantine-color-error)">
            {failureInWords(state.failure)}
          </Text>
        ) : state.value.profiles.length === 0 ? (
          <Text role="status">
            No one in workspace {session.workspace} has {identityLabel(type)} “{value}”. Deleted people are
            never found.
          </Text>
        ) : (
          <Stack gap="sm">
            <Text role="status" size="sm" c="dimmed">
              {state.value.profiles.length === 1
                ? '1 person found'
                : `${state.value.profiles.length} people found`}
            </Text>
            {state.value.profiles.map((profile) => (
              <ProfileCard key={profile.mpid} profile={profile} />
            ))}
          </Stack>
        )}
      </section>
    </Stack>
  );
}

function ProfileCard({ profile }: { profile: ProfileRecord }) {
  const title = personTitle(profile);
  return (
    <Card withBorder padding="sm" component="article" aria-label={title}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Anchor component={Link} to={`/admin/people/${profile.mpid}`} fw={600} className="admin-break">
          {title}
        </Anchor>
        <ShortMpid mpid={profile.mpid} />
      </Group>
      <Text size="sm" c="dimmed">
        {profile.environment}, last seen {dateTime(profile.lastSeenAt)}
        {profile.orphanedAt === null ? '' : ', orphaned (no identifiers left)'}
      </Text>
    </Card>
  );
}
