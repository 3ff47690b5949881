import { Anchor, Card, Group, List, Loader, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import type { ProfileDetailAnswer } from '../../../../shared/protocol/admin.ts';
import type { AliasRecord } from '../../../../shared/resolver/records.ts';
import { IdentityList } from '../../components/IdentityList.tsx';
import { dateTime } from '../../components/relative-time.ts';
import { personTitle } from '../../components/person-title.ts';
import { ShortMpid, shortMpid } from '../../components/ShortMpid.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { failureInWords } from './admin-api.ts';
import { ALIAS_STATUS, historyInWords } from './admin-words.ts';
import { useAdminSession } from './AdminContext.tsx';
import { ConfirmAction } from './ConfirmAction.tsx';
import { ProfileGraphSection } from './ProfileGraphSection.tsx';
import { RequestExplained } from './RequestExplained.tsx';
import { useAdminCall } from './useAdminCall.ts';

/** A person's detail (AC-2): identities, why they were joined, aliases, history, activity; delete (AC-3). */
export function ProfilePage() {
  const session = useAdminSession();
  const { mpid = '' } = useParams();
  const { state, reload } = useAdminCall(`${session.workspace}|${mpid}`, () =>
    session.api.profile(session.workspace, mpid),
  );
  const back = <BackToSearch />;
  if (state.status === 'loading')
    return (
      <Stack gap="sm">
        {back}
        <Group gap="xs">
          <Loader size="sm" />
          <Text role="status">Loading the person…</Text>
        </Group>
      </Stack>
    );
  if (state.status === 'failed')
    return (
      <Stack gap="sm">
        {back}
        <Title order={2}>
          {state.failure.kind === 'not_found' ? 'No such person' : 'This person could not be loaded'}
        </Title>
        <Text role="alert">
          {state.failure.kind === 'not_found'
            ? `No live profile ${mpid} in workspace ${session.workspace}: it may have been deleted.`
            : failureInWords(state.failure)}
        </Text>
      </Stack>
    );
  return <ProfileDetail detail={state.value} back={back} reload={reload} />;
}

/** Back to the search with its results (the entry before), or to an empty search when opened directly. */
function BackToSearch() {
  const navigate = useNavigate();
  const location = useLocation();
  const cameFromConsole = location.key !== 'default';
  return (
    <Anchor
      component={Link}
      to="/admin"
      onClick={(event) => {
        if (!cameFromConsole) return;
        event.preventDefault();
        void navigate(-1);
      }}
    >
      ← Back to the search
    </Anchor>
  );
}

function ProfileDetail({
  detail,
  back,
  reload,
}: {
  detail: ProfileDetailAnswer;
  back: ReactNode;
  reload: () => void;
}) {
  const session = useAdminSession();
  const navigate = useNavigate();
  const { profile } = detail;
  const title = personTitle(profile);
  return (
    <Stack gap="lg">
      {back}
      <Stack gap={4}>
        <Title order={2} className="admin-break">
          {title}
        </Title>
        <Group gap="xs" wrap="wrap">
          <ShortMpid mpid={profile.mpid} />
          <Text size="sm" c="dimmed">
            {profile.environment}, first seen {dateTime(profile.firstSeenAt)}, last seen{' '}
            {dateTime(profile.lastSeenAt)}
          </Text>
        </Group>
        <Group>
          <ConfirmAction
            label="Delete this person"
            title={`Delete ${title}?`}
            confirm="Delete for good"
            run={() => session.api.deleteProfile(session.workspace, profile.mpid)}
            onDone={() => void navigate('/admin', { replace: true })}
          >
            This is for a data-subject request and cannot be undone. Profile {profile.mpid} loses all its
            identities, its recorded requests and their explanations, and its events and attributes; identity
            values are removed from its history. No search finds it again and its MPID is never reused. The
            deletion reaches devices through sync.
          </ConfirmAction>
        </Group>
      </Stack>

      <Section title="Identities">
        <IdentityList identities={profile.identities} label="Identities" />
      </Section>

      <Section title="Why they are who they are">
        {detail.requests.length === 0 ? (
          <Text c="dimmed">No stored request touched this person.</Text>
        ) : (
          <Stack gap="md">
            {detail.requests.map((request) => (
              <RequestExplained key={request.requestId} request={request} />
            ))}
          </Stack>
        )}
      </Section>

      <Section title="Aliases">
        {detail.aliases.length === 0 ? (
          <Text c="dimmed">No alias joins this person with another profile.</Text>
        ) : (
          <Stack gap="sm">
            {detail.aliases.map((alias) => (
              <AliasItem key={alias.id} alias={alias} reload={reload} />
            ))}
          </Stack>
        )}
      </Section>

      <Section title="Identity graph">
        <ProfileGraphSection mpid={profile.mpid} round={detail.history[0]?.seq ?? 0} />
      </Section>

      <Section title="History">
        {detail.history.length === 0 ? (
          <Text c="dimmed">No history yet.</Text>
        ) : (
          <List size="sm" spacing={4} aria-label="History">
            {detail.history.map((entry) => (
              <List.Item key={entry.seq}>
                <Text span size="xs" c="dimmed">
                  {dateTime(entry.at)}
                </Text>{' '}
                <span className="admin-break">{historyInWords(entry)}</span>
              </List.Item>
            ))}
          </List>
        )}
      </Section>

      <Section title="Activity">
        {detail.events.length === 0 ? (
          <Text c="dimmed">No events recorded by devices.</Text>
        ) : (
          <List size="sm" spacing={2} aria-label="Activity">
            {detail.events.map((event, index) => (
              <List.Item key={`${event.at}-${index}`}>
                {event.name}{' '}
                <Text span size="xs" c="dimmed">
                  {dateTime(event.at)}
                  {event.aliasedFrom === undefined ? '' : `, from profile ${shortMpid(event.aliasedFrom)}`}
                </Text>
              </List.Item>
            ))}
          </List>
        )}
      </Section>
    </Stack>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Stack gap="xs" component="section" aria-label={title}>
      <Title order={3} size="h4">
        {title}
      </Title>
      {children}
    </Stack>
  );
}

/** Another profile's short MPID, opening its detail; the person on screen is plain text. */
function ProfileLink({ mpid }: { mpid: string }) {
  const { mpid: shown } = useParams();
  if (mpid === shown) return <>{shortMpid(mpid)}</>;
  return (
    <Anchor component={Link} to={`/admin/people/${mpid}`} title={`Open profile ${mpid}`}>
      {shortMpid(mpid)}
    </Anchor>
  );
}

function AliasItem({ alias, reload }: { alias: AliasRecord; reload: () => void }) {
  const session = useAdminSession();
  const status = ALIAS_STATUS[alias.status];
  const from = shortMpid(alias.sourceMpid);
  const into = shortMpid(alias.destinationMpid);
  return (
    <Card withBorder padding="sm" component="article" aria-label={`Alias ${alias.id}`}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Text size="sm" className="admin-break">
          Profile <ProfileLink mpid={alias.sourceMpid} /> into profile{' '}
          <ProfileLink mpid={alias.destinationMpid} />, requested {dateTime(alias.requestedAt)}
        </Text>
        <StatusBadge tone={status.tone}>{status.label}</StatusBadge>
      </Group>
      {alias.statusReason !== null && (
        <Text size="sm" c="dimmed">
          {alias.statusReason}
        </Text>
      )}
      {(alias.status === 'applied' || alias.status === 'pending') && (
        <Group mt="xs">
          <ConfirmAction
            label="Undo this alias"
            title="Undo this alias?"
            confirm="Undo alias"
            run={() => session.api.undoAlias(session.workspace, alias.id)}
            onDone={reload}
          >
            Alias {alias.id} is marked undone: profile {into} stops showing the events profile {from} brought
            with the alias, and its first-seen time goes back to what it was without this alias. Both profiles
            keep their own identities. An undone alias cannot be applied again; send a new alias request for
            that.
          </ConfirmAction>
        </Group>
      )}
    </Card>
  );
}
