import { Button, Group, Stack, TextInput } from '@mantine/core';
import { useEffect, useEffectEvent, useRef, useState, type FormEvent } from 'react';
import { ApiKeySchema, ServerUrlSchema } from '../../connection/connection.ts';
import { useServices } from '../../app/services.tsx';
import { FormError } from '../../components/FormError.tsx';

/**
 * Server address and input key, checked with the same schemas the stored connection is read with.
 * Nothing is kept until the server accepted the key; a failure says why, keeps what was typed, and
 * can be tried again. `autoConnect` connects at once (a connect link).
 */
export function ConnectForm({
  initialUrl,
  initialKey,
  autoConnect,
  onConnected,
}: {
  initialUrl: string;
  initialKey: string;
  autoConnect: boolean;
  onConnected: () => void;
}) {
  const { sync } = useServices();
  const [url, setUrl] = useState(initialUrl);
  const [key, setKey] = useState(initialKey);
  const [urlError, setUrlError] = useState<string | null>(null);
  const [keyError, setKeyError] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const connect = async (serverUrl: string, apiKey: string) => {
    const parsedUrl = ServerUrlSchema.safeParse(serverUrl);
    const parsedKey = ApiKeySchema.safeParse(apiKey);
    setUrlError(parsedUrl.success ? null : (parsedUrl.error.issues[0]?.message ?? 'Not a valid address'));
    setKeyError(parsedKey.success ? null : (parsedKey.error.issues[0]?.message ?? 'Not a valid key'));
    if (!parsedUrl.success || !parsedKey.success) return;
    setBusy(true);
    setProblem(null);
    const result = await sync.connect(parsedUrl.data, parsedKey.data);
    setBusy(false);
    if (result.ok) onConnected();
    else setProblem(result.error.message);
  };
  const connectFromLink = useEffectEvent(() => void connect(initialUrl, initialKey));
  const pending = useRef(autoConnect);
  useEffect(() => {
    if (!pending.current) return;
    pending.current = false;
    connectFromLink();
  }, []);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void connect(url, key);
  };

  return (
    <form onSubmit={onSubmit} noValidate aria-label="Connect to a server">
      <Stack gap="sm">
        <TextInput
          label="Server address"
          placeholder="https://ids.example.com"
          type="url"
          inputMode="url"
          autoComplete="url"
          spellCheck={false}
          value={url}
          onChange={(event) => setUrl(event.currentTarget.value)}
          error={urlError}
        />
        <TextInput
          label="Input key"
          description="The key of the app's input, from your administrator."
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(event) => setKey(event.currentTarget.value)}
          error={keyError}
        />
        <FormError message={problem} />
        <Group>
          <Button type="submit" loading={busy}>
            Connect
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
