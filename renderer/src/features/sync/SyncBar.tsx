import { Alert, Anchor, Button, Group, Paper, Progress, Switch, Text } from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { Link } from 'react-router';
import { useServices } from '../../app/services.tsx';
import { relativeTime } from '../../components/relative-time.ts';
import { Shortcut } from '../../components/Shortcut.tsx';
import { StatusBadge, type Tone } from '../../components/StatusBadge.tsx';
import { STORAGE_READING } from '../../components/storage-reading.ts';
import type { DeviceStatus } from '../../device/views.ts';
import { useNow } from '../../hooks/useNow.ts';
import { useObservable } from '../../hooks/useObservable.ts';
import type { SyncState } from '../../sync/sync-controller.ts';
import { pendingText, syncProgress, syncStatusText } from './sync-words.ts';

/**
 * Sync at a glance: online or not, what is waiting, when the last sync was, progress while a round
 * runs, "Sync now", and the "Work offline" switch. Problems are said in words with a retry; an
 * unreachable server is just "offline".
 */
export function SyncBar() {
  const { sync } = useServices();
  const state = useObservable(sync.state$, sync.current);
  const now = useNow();
  const connected = state.connection?.kind === 'server';
  const canSync = connected && state.online && !state.workOffline && !state.syncing;
  useHotkeys([['alt+S', () => canSync && void sync.syncNow(), { usePhysicalKeys: true }]], []);

  return (
    <Paper
      component="section"
      aria-label="Sync"
      px="md"
      py={6}
      radius={0}
      withBorder
      style={{ borderLeft: 0, borderRight: 0, borderTop: 0, position: 'relative' }}
    >
      <Group gap="sm" wrap="wrap" justify="space-between">
        <Group gap="sm" wrap="wrap" className="sync-summary">
          <div role="status" aria-live="polite">
            <StatusBadge tone={tone(state)}>{syncStatusText(state)}</StatusBadge>
          </div>
          <PendingText connected={connected} />
          {connected && (
            <Text size="sm" c="dimmed">
              {state.lastSyncAt === null
                ? 'Never synced'
                : `Last synced ${relativeTime(state.lastSyncAt, now)}`}
            </Text>
          )}
        </Group>
        <Group gap="sm" wrap="wrap">
          {connected ? (
            <>
              <Switch
                label="Work offline"
                checked={state.workOffline}
                onChange={(event) => sync.setWorkOffline(event.currentTarget.checked)}
              />
              <Shortcut label="Sync now" keys={['Alt', 'S']}>
                <Button
                  size="xs"
                  onClick={() => void sync.syncNow()}
                  disabled={!canSync}
                  aria-keyshortcuts="Alt+S"
                >
                  Sync now
                </Button>
              </Shortcut>
            </>
          ) : (
            <Anchor component={Link} to="/connect" size="sm">
              Connect to a server
            </Anchor>
          )}
        </Group>
      </Group>
      {/* Along the bar's bottom edge, over its border: a round starting or ending moves nothing on screen (UP-16). */}
      {state.syncing && (
        <Progress.Root size="xs" radius={0} style={{ position: 'absolute', left: 0, right: 0, bottom: -1 }}>
          {/* The section is the progressbar: its label says the phase (Mantine sets the value text). */}
          <Progress.Section
            value={syncProgress(state.phase)}
            animated
            aria-label={`Sync progress: ${syncStatusText(state)}`}
          />
        </Progress.Root>
      )}
      {state.problem !== null && (
        <Alert mt={6} color="red" variant="light" title="Sync did not finish" role="alert">
          <Group justify="space-between" gap="xs" wrap="wrap">
            <Text size="sm">{state.problem.message}</Text>
            <Button size="xs" variant="default" onClick={() => void sync.syncNow()} disabled={state.syncing}>
              Try again
            </Button>
          </Group>
        </Alert>
      )}
    </Paper>
  );
}

/**
 * What is waiting to be sent: its own component, so each identity call (which changes the count)
 * renders this line and not the whole bar (UP-2).
 */
function PendingText({ connected }: { connected: boolean }) {
  const { engine } = useServices();
  // `null` until the device's storage has been read (UP-6): never "nothing recorded" before.
  const status = useObservable<DeviceStatus | null>(engine.status$, null);
  return (
    <Text size="sm">
      {status === null
        ? STORAGE_READING
        : pendingText(status.pendingRequests, status.pendingEvents, connected)}
    </Text>
  );
}

function tone(state: SyncState): Tone {
  if (state.connection?.kind !== 'server') return 'neutral';
  if (state.problem !== null) return 'danger';
  if (state.syncing) return 'info';
  if (state.workOffline || !state.online || !state.reachable) return 'warning';
  return 'success';
}
