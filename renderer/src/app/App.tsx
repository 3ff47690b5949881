import '@mantine/core/styles.layer.css';
import '@mantine/notifications/styles.layer.css';
import './app.css';
import { AppShell, Center, Loader, MantineProvider } from '@mantine/core';
import { lazy, Suspense } from 'react';
import { Notifications } from '@mantine/notifications';
import { HashRouter, Navigate, Outlet, Route, Routes, useLocation } from 'react-router';
import { ConnectPage } from '../features/connect/ConnectPage.tsx';
import { FieldPage } from '../features/field/FieldPage.tsx';
import { NoticeToasts } from '../features/sync/NoticeToasts.tsx';
import { SyncBar } from '../features/sync/SyncBar.tsx';
import { UpdateBanner } from '../features/update/UpdateBanner.tsx';
import { useObservable } from '../hooks/useObservable.ts';
import { AppHeader } from './AppHeader.tsx';
import { ServicesProvider, useServices, type AppServices } from './services.tsx';
import { cssVariablesResolver, theme } from './theme.ts';

/** The whole app around its services: theme, notifications, and the hash routes. */
export function App({ services }: { services: AppServices }) {
  return (
    <MantineProvider theme={theme} defaultColorScheme="auto" cssVariablesResolver={cssVariablesResolver}>
      <Notifications position="bottom-right" />
      <ServicesProvider services={services}>
        <NoticeToasts />
        <HashRouter>
          <Routes>
            <Route
              path="admin/*"
              element={
                <Suspense fallback={<ConsoleLoading />}>
                  <AdminConsole />
                </Suspense>
              }
            />
            <Route element={<Layout />}>
              <Route index element={<FieldPage />} />
              <Route path="person/:mpid" element={<FieldPage />} />
              <Route path="connect" element={<ConnectPage />} />
              <Route path="*" element={<Navigate to="/" replace />} />
            </Route>
          </Routes>
        </HashRouter>
      </ServicesProvider>
    </MantineProvider>
  );
}

/** The admin console is its own chunk, fetched on the first visit to `#/admin` only. */
const AdminConsole = lazy(() => import('../features/admin/AdminConsole.tsx'));

function ConsoleLoading() {
  return (
    <Center h="100vh">
      <Loader aria-label="Opening the admin console" />
    </Center>
  );
}

/** Header, sync bar and the page; sends a device that was never set up to the first-run screen. */
function Layout() {
  const { sync } = useServices();
  const { connection } = useObservable(sync.state$, sync.current);
  const location = useLocation();
  if (connection === null && location.pathname !== '/connect')
    return <Navigate to={{ pathname: '/connect', search: location.search }} replace />;
  return (
    <AppShell header={{ height: 56 }} padding={0}>
      <AppShell.Header>
        <AppHeader />
      </AppShell.Header>
      <AppShell.Main>
        <UpdateBanner />
        <SyncBar />
        <div style={{ padding: 'var(--mantine-spacing-md)' }}>
          <Outlet />
        </div>
      </AppShell.Main>
    </AppShell>
  );
}
