import { Card, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useServices } from '../../app/services.tsx';
import { useObservable } from '../../hooks/useObservable.ts';
import { platform } from '../../platform/bridge.ts';
import { STORAGE_READING } from '../../components/storage-reading.ts';

/** Whether the browser may clear what this device recorded, and which version runs. */
export function StorageCard() {
  const { persistentStorage$, engine, storageOpen$ } = useServices();
  const persistent = useObservable(persistentStorage$, null);
  useObservable(storageOpen$, false);
  const [version, setVersion] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    platform.version().then(
      (v) => live && setVersion(v),
      () => live && setVersion(null),
    );
    return () => {
      live = false;
    };
  }, []);
  return (
    <Card withBorder component="section" aria-labelledby="storage-heading">
      <Stack gap="xs">
        <Title order={2} size="h4" id="storage-heading">
          This device
        </Title>
        <Text size="sm">{storageText(persistent)}</Text>
        <Text size="sm" c="dimmed">
          {engine.deviceId === null ? STORAGE_READING : `Device ID ${engine.deviceId}`}
          {version === null ? '' : ` · version ${version}`}
        </Text>
      </Stack>
    </Card>
  );
}

function storageText(persistent: boolean | null): string {
  if (persistent === true) return 'Storage is persistent: the browser will not clear what is recorded here.';
  if (persistent === false)
    return 'Storage is not persistent: the browser may clear this app’s data when space runs low. Installing the app usually makes it persistent.';
  return 'This browser does not say whether its storage is persistent.';
}
