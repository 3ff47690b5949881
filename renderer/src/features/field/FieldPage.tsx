import { Anchor, Box, Stack } from '@mantine/core';
import { useHotkeys, useMediaQuery } from '@mantine/hooks';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useServices } from '../../app/services.tsx';
import { ActivityForm } from '../activity/ActivityForm.tsx';
import { PeoplePanel } from '../people/PeoplePanel.tsx';
import { PersonDetail } from '../people/PersonDetail.tsx';
import { CurrentPersonCard } from './CurrentPersonCard.tsx';
import { IdentifyForm } from './IdentifyForm.tsx';

const WIDE = '(min-width: 64em)';

/**
 * The field screen: the current person and the forms to identify them and record what they do,
 * beside everyone captured on this device. A selected person (`#/person/:mpid`) opens in a side
 * panel on wide screens and on its own on narrow ones. "Next person" remounts the forms and closes
 * every panel, so nothing of the previous person stays on screen, and puts the keyboard in the
 * first identity field for them.
 */
export function FieldPage() {
  const { engine } = useServices();
  const { mpid = null } = useParams();
  const navigate = useNavigate();
  const wide = useMediaQuery(WIDE, true);
  const [session, setSession] = useState(0);
  const [query, setQuery] = useState('');
  const [nextError, setNextError] = useState<string | null>(null);

  const nextPerson = async () => {
    try {
      await engine.nextPerson();
      setNextError(null);
    } catch (error) {
      setNextError(`Could not start with the next person: ${(error as Error).message}`);
    }
    setSession((n) => n + 1);
    setQuery('');
    void navigate('/');
  };
  useHotkeys([['alt+N', () => void nextPerson(), { usePhysicalKeys: true }]], []);

  const select = (selected: string) => void navigate(`/person/${selected}`);
  const close = () => void navigate('/');

  if (mpid !== null && !wide) {
    return (
      <Stack gap="sm">
        <Anchor component={Link} to="/">
          ← Back to the field
        </Anchor>
        <PersonDetail mpid={mpid} onClose={close} />
      </Stack>
    );
  }

  return (
    <Box
      style={{
        display: 'grid',
        gap: 'var(--mantine-spacing-md)',
        alignItems: 'start',
        gridTemplateColumns: wide
          ? mpid === null
            ? 'minmax(20rem, 26rem) minmax(0, 1fr)'
            : 'minmax(20rem, 24rem) minmax(16rem, 1fr) minmax(20rem, 1.1fr)'
          : 'minmax(0, 1fr)',
      }}
    >
      <Stack gap="md" key={session}>
        <CurrentPersonCard onNextPerson={() => void nextPerson()} error={nextError} />
        <IdentifyForm focusFirst={session > 0} />
        <ActivityForm />
      </Stack>
      <PeoplePanel query={query} onQueryChange={setQuery} selected={mpid} onSelect={select} />
      {mpid !== null && <PersonDetail mpid={mpid} onClose={close} />}
    </Box>
  );
}
