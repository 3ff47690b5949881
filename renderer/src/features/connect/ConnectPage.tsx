import { Anchor, Button, Card, Container, Group, Loader, Stack, Text, Title } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useServices } from '../../app/services.tsx';
import { useObservable } from '../../hooks/useObservable.ts';
import { ConnectForm } from './ConnectForm.tsx';
import { StorageCard } from './StorageCard.tsx';

/**
 * First run and settings (`#/connect`): connect to a server, follow a connect link
 * (`#/connect?server=…&key=…`), or stay local-only. On first run, when the central server serves
 * the app, its `bootstrap.json` connects with no set-up at all.
 */
export function ConnectPage() {
  const { sync } = useServices();
  const state = useObservable(sync.state$, sync.current);
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const linkServer = params.get('server');
  const linkKey = params.get('key');
  const firstRun = state.connection === null;
  const [looking, setLooking] = useState(firstRun && linkServer === null);
  const [bootstrapProblem, setBootstrapProblem] = useState<string | null>(null);

  const tried = useRef(false);
  useEffect(() => {
    if (!looking || tried.current) return;
    tried.current = true;
    void sync.bootstrap().then((outcome) => {
      setLooking(false);
      if (outcome === 'none') return;
      if (outcome.ok) void navigate('/', { replace: true });
      else setBootstrapProblem(outcome.error.message);
    });
  }, [looking, sync, navigate]);

  const done = () => void navigate('/', { replace: true });
  const stayLocal = async () => {
    await sync.stayLocal();
    done();
  };

  return (
    <Container size="sm" px={0}>
      <Stack gap="md">
        <Title order={1} size="h2">
          {firstRun ? 'Set up this device' : 'Settings'}
        </Title>
        {looking ? (
          <Group gap="sm" role="status">
            <Loader size="sm" />
            <Text>Looking for the server that serves this app…</Text>
          </Group>
        ) : (
          <>
            <CurrentConnection />
            <Card withBorder component="section" aria-labelledby="connect-heading">
              <Stack gap="sm">
                <Title order={2} size="h4" id="connect-heading">
                  {state.connection?.kind === 'server' ? 'Connect to another server' : 'Connect to a server'}
                </Title>
                <Text size="sm" c="dimmed">
                  People identified here sync to the server, and the server’s decisions come back.
                </Text>
                {bootstrapProblem !== null && (
                  <Text role="alert" size="sm" c="var(--mantine-color-error)">
                    {bootstrapProblem}
                  </Text>
                )}
                <ConnectForm
                  initialUrl={linkServer ?? ''}
                  initialKey={linkKey ?? ''}
                  autoConnect={linkServer !== null && linkKey !== null}
                  onConnected={done}
                />
              </Stack>
            </Card>
            {state.connection?.kind !== 'local' && (
              <Card withBorder component="section" aria-labelledby="local-heading">
                <Stack gap="sm" align="flex-start">
                  <Title order={2} size="h4" id="local-heading">
                    {firstRun ? 'Or stay local-only' : 'Disconnect'}
                  </Title>
                  <Text size="sm" c="dimmed">
                    Everything works on this device without a server. You can connect later in Settings.
                  </Text>
                  <Button variant="default" onClick={() => void stayLocal()}>
                    {firstRun ? 'Stay local-only' : 'Disconnect and stay local-only'}
                  </Button>
                </Stack>
              </Card>
            )}
          </>
        )}
        <StorageCard />
        {!firstRun && (
          <Card withBorder component="section" aria-labelledby="admin-heading">
            <Stack gap={4} align="flex-start">
              <Title order={2} size="h4" id="admin-heading">
                Admin console
              </Title>
              <Text size="sm" c="dimmed">
                For admins with an admin token: find anyone the server knows, see why they were joined, undo
                an alias, delete a person on request, revoke a device.
              </Text>
              <Anchor component={Link} to="/admin">
                Open the admin console
              </Anchor>
            </Stack>
          </Card>
        )}
      </Stack>
    </Container>
  );
}

function CurrentConnection() {
  const { sync } = useServices();
  const { connection } = useObservable(sync.state$, sync.current);
  if (connection === null) return null;
  return (
    <Card withBorder component="section" aria-labelledby="current-connection-heading">
      <Stack gap={4}>
        <Title order={2} size="h4" id="current-connection-heading">
          Current connection
        </Title>
        <Text size="sm">
          {connection.kind === 'local'
            ? 'Local only: this device is not connected to a server.'
            : `Connected to ${connection.serverUrl}${connection.workspaceName === null ? '' : ` (workspace ${connection.workspaceName})`}.`}
        </Text>
      </Stack>
    </Card>
  );
}
