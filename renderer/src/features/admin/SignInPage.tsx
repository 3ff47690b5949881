import { Alert, Button, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { FormError } from '../../components/FormError.tsx';
import { failureInWords } from './admin-api.ts';
import { useAdmin } from './AdminContext.tsx';

/** Sign in with an admin token; it is checked with the server before the console opens. */
export function SignInPage({ notice }: { notice: string | null }) {
  const { sessions } = useAdmin();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = token.trim();
    if (trimmed === '') {
      setError('Enter the admin token your server was started with, or one an admin created for you.');
      return;
    }
    setBusy(true);
    setError(null);
    const failure = await sessions.signIn(trimmed, null);
    setBusy(false);
    if (failure !== null) setError(failureInWords(failure));
  }

  return (
    <Stack gap="md" maw="28rem">
      <Title order={2}>Sign in as an admin</Title>
      {notice !== null && (
        <Alert
          color="yellow"
          title="You were signed out"
          role="alert"
          styles={{ title: { color: 'var(--mantine-color-text)' } }}
        >
          {notice}
        </Alert>
      )}
      <form aria-label="Admin sign-in" onSubmit={(event) => void submit(event)}>
        <Stack gap="sm">
          <PasswordInput
            label="Admin token"
            description="Kept in this page's memory only: reloading or closing the page signs you out."
            autoComplete="off"
            value={token}
            onChange={(event) => setToken(event.currentTarget.value)}
          />
          <FormError message={error} />
          <Button type="submit" loading={busy} style={{ alignSelf: 'flex-start' }}>
            Sign in
          </Button>
        </Stack>
      </form>
      <Text size="sm" c="dimmed">
        The console talks only to the server this app came from.
      </Text>
    </Stack>
  );
}
