/**
 * The admin console (`#/admin`), loaded on its own (React.lazy) so the Field screen never waits
 * for it: sign-in, find a person, a person's detail, and the workspace's devices.
 */
import './admin.css';
import { Anchor, AppShell, Button, Group, Select, Stack, Text, Title } from '@mantine/core';
import { Navigate, NavLink, Route, Routes } from 'react-router';
import { useObservable } from '../../hooks/useObservable.ts';
import { adminApiBase } from './admin-api.ts';
import { AdminSessions } from './admin-session.ts';
import { AdminProvider } from './AdminContext.tsx';
import { DashboardPage } from './DashboardPage.tsx';
import { DeviceDetailPage } from './DeviceDetailPage.tsx';
import { DevicesPage } from './DevicesPage.tsx';
import { FindPersonPage } from './FindPersonPage.tsx';
import { InputsPage } from './InputsPage.tsx';
import { LabPage } from './lab/LabPage.tsx';
import { ProfilePage } from './ProfilePage.tsx';
import { SettingsPage } from './settings/SettingsPage.tsx';
import { SignInPage } from './SignInPage.tsx';

const base = adminApiBase(location.href);
/** One per page: the token is in this page's memory, so it outlives moving between screens, not a reload. */
const sessions = base === null ? null : new AdminSessions(base);

export default function AdminConsole() {
  return (
    <AppShell header={{ height: 56 }} padding={0}>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap" gap="sm">
          <Title order={1} size="h3" style={{ whiteSpace: 'nowrap' }}>
            Identity Sync admin
          </Title>
          <Anchor component={NavLink} to="/">
            Field
          </Anchor>
        </Group>
      </AppShell.Header>
      <AppShell.Main>
        <div className="admin-page">
          {sessions === null ? <NotServed /> : <SignedInOrNot sessions={sessions} />}
        </div>
      </AppShell.Main>
    </AppShell>
  );
}

function SignedInOrNot({ sessions }: { sessions: AdminSessions }) {
  const { session, notice } = useObservable(sessions.state$, sessions.current);
  return (
    <AdminProvider value={{ sessions, session }}>
      {session === null ? (
        <SignInPage notice={notice} />
      ) : (
        <Stack gap="md">
          <Group component="nav" aria-label="Admin" gap="md" justify="space-between" wrap="wrap">
            <Group gap="md" wrap="wrap">
              <Anchor component={NavLink} to="/admin" end>
                Find a person
              </Anchor>
              <Anchor component={NavLink} to="/admin/dashboard">
                Dashboard
              </Anchor>
              <Anchor component={NavLink} to="/admin/devices">
                Devices
              </Anchor>
              <Anchor component={NavLink} to="/admin/inputs">
                Inputs
              </Anchor>
              <Anchor component={NavLink} to="/admin/settings">
                Settings
              </Anchor>
              <Anchor component={NavLink} to="/admin/lab">
                Lab
              </Anchor>
            </Group>
            <Group gap="sm" wrap="wrap">
              {session.workspaces.length > 1 ? (
                <Select
                  aria-label="Workspace"
                  size="xs"
                  data={session.workspaces.map((w) => w.id)}
                  value={session.workspace}
                  allowDeselect={false}
                  onChange={(id) => id !== null && sessions.chooseWorkspace(id)}
                />
              ) : (
                <Text size="sm" c="dimmed">
                  Workspace {session.workspace}
                </Text>
              )}
              <Button variant="default" size="xs" onClick={() => sessions.signOut()}>
                Sign out
              </Button>
            </Group>
          </Group>
          <Routes>
            <Route index element={<FindPersonPage />} />
            <Route path="people/:mpid" element={<ProfilePage />} />
            <Route path="devices" element={<DevicesPage />} />
            <Route path="dashboard" element={<DashboardPage />} />
            <Route path="devices/:id" element={<DeviceDetailPage />} />
            <Route path="inputs" element={<InputsPage />} />
            <Route path="settings" element={<SettingsPage />} />
            <Route path="lab" element={<LabPage />} />
            <Route path="*" element={<Navigate to="/admin" replace />} />
          </Routes>
        </Stack>
      )}
    </AdminProvider>
  );
}

/** The desktop app is not served by a server: the admin API takes no call from another origin. */
function NotServed() {
  return (
    <Stack gap="xs" maw="40rem">
      <Title order={2}>The admin console opens in the browser</Title>
      <Text>
        The admin API only answers pages its own server served. Open your server&apos;s web app in a browser
        and go to its admin console:{' '}
        <Text span ff="monospace">
          https://your-server/app/#/admin
        </Text>
        .
      </Text>
    </Stack>
  );
}
