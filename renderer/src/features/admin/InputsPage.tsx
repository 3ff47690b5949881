import './dashboard.css';
import {
  Alert,
  Anchor,
  Button,
  Card,
  Code,
  CopyButton,
  Group,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { InputSummary, RotatedInput } from '../../../../shared/protocol/admin-inputs.ts';
import { FormError } from '../../components/FormError.tsx';
import { dateTime } from '../../components/relative-time.ts';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { failureInWords } from './admin-api.ts';
import { useAdmin, useAdminSession } from './AdminContext.tsx';
import { ConfirmAction } from './ConfirmAction.tsx';
import { ConnectQrCode } from './ConnectQrCode.tsx';
import { deviceConnectLink, INPUT_KINDS, inputKindInWords, type InputKind } from './input-words.ts';
import { Loaded } from './Loaded.tsx';
import { useAdminCall } from './useAdminCall.ts';

/** The workspace's inputs: create, rotate a secret (shown once), revoke, connect links (AC-36..AC-38). */
export function InputsPage() {
  const session = useAdminSession();
  const { state, reload } = useAdminCall(`${session.workspace}|inputs`, () =>
    session.api.inputs(session.workspace),
  );
  /** A secret the server just gave, shown until the admin dismisses it: it is never shown again. */
  const [secret, setSecret] = useState<(RotatedInput & { why: string }) | null>(null);
  const given = (why: string) => (value: RotatedInput) => {
    setSecret({ ...value, why });
    reload();
  };
  return (
    <Stack gap="md">
      <Title order={2}>Inputs and credentials</Title>
      {secret !== null && <SecretOnce secret={secret} onDismiss={() => setSecret(null)} />}
      <CreateInputForm onCreated={given('created')} />
      <section aria-label="Inputs">
        <Loaded state={state} what="inputs" retry={reload}>
          {({ inputs }) =>
            inputs.length === 0 ? (
              <Text role="status">Workspace {session.workspace} has no input yet. Create one above.</Text>
            ) : (
              <Stack gap="sm">
                <Text size="sm" c="dimmed">
                  {inputs.length === 1 ? '1 input' : `${inputs.length} inputs`}, oldest first
                </Text>
                {inputs.map((input) => (
                  <InputItem key={input.key} input={input} reload={reload} onRotated={given('rotated')} />
                ))}
              </Stack>
            )
          }
        </Loaded>
      </section>
    </Stack>
  );
}

function CreateInputForm({ onCreated }: { onCreated: (value: RotatedInput) => void }) {
  const session = useAdminSession();
  const { sessions } = useAdmin();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<InputKind>('server');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (name.trim() === '') {
      setError('Give the input a name, such as the app or service that will use it.');
      return;
    }
    setBusy(true);
    setError(null);
    const { allowKeyOnly, syncOnly } = INPUT_KINDS[kind];
    const created = await session.api.createInput(session.workspace, {
      name: name.trim(),
      allowKeyOnly,
      syncOnly,
    });
    setBusy(false);
    if (!created.ok) {
      setError(failureInWords(created.error));
      sessions.refused(created.error);
      return;
    }
    setName('');
    onCreated(created.value);
  }

  return (
    <Card withBorder padding="sm">
      <form aria-label="Create an input" onSubmit={(event) => void submit(event)}>
        <Stack gap="sm">
          <Title order={3} size="h4">
            Create an input
          </Title>
          <Group gap="sm" align="flex-end" wrap="wrap">
            <TextInput
              label="Name"
              value={name}
              maxLength={100}
              onChange={(event) => setName(event.currentTarget.value)}
              style={{ flex: '1 1 12rem' }}
            />
            <Select
              label="Kind"
              data={(Object.keys(INPUT_KINDS) as InputKind[]).map((k) => ({
                value: k,
                label: INPUT_KINDS[k].label,
              }))}
              value={kind}
              allowDeselect={false}
              onChange={(value) => value !== null && setKind(value)}
              style={{ flex: '1 1 16rem' }}
            />
            <Button type="submit" loading={busy}>
              Create input
            </Button>
          </Group>
          <FormError message={error} />
        </Stack>
      </form>
    </Card>
  );
}

function SecretOnce({
  secret,
  onDismiss,
}: {
  secret: RotatedInput & { why: string };
  onDismiss: () => void;
}) {
  return (
    <Alert
      color="yellow"
      title={`Input ${secret.key} ${secret.why}: copy its secret now`}
      role="alert"
      styles={{ title: { color: 'var(--mantine-color-text)' } }}
    >
      <Stack gap="xs">
        <Text size="sm">
          This secret is shown only once. The server keeps no copy you can read: if you lose it, rotate it
          again.
        </Text>
        <Code block style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
          {secret.secret}
        </Code>
        <Group gap="sm">
          <CopyButton value={secret.secret}>
            {({ copied, copy }) => (
              <Button size="xs" onClick={copy}>
                {copied ? 'Secret copied' : 'Copy secret'}
              </Button>
            )}
          </CopyButton>
          <Button size="xs" variant="default" onClick={onDismiss}>
            I have stored it
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}

function InputItem({
  input,
  reload,
  onRotated,
}: {
  input: InputSummary;
  reload: () => void;
  onRotated: (value: RotatedInput) => void;
}) {
  const session = useAdminSession();
  const active = input.revokedAt === null;
  const link = active && input.allowKeyOnly ? deviceConnectLink(location.href, input.key) : null;
  return (
    <Card withBorder padding="sm" component="article" aria-label={`Input ${input.name}, ${input.key}`}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Text fw={600} className="admin-break">
          {input.name}
        </Text>
        {input.revokedAt === null ? (
          <StatusBadge tone="success">Active</StatusBadge>
        ) : (
          <StatusBadge tone="danger">Revoked {dateTime(input.revokedAt)}</StatusBadge>
        )}
      </Group>
      <Text size="sm" c="dimmed" className="admin-break">
        Key {input.key}
      </Text>
      <Text size="sm">{inputKindInWords(input)}</Text>
      <Text size="sm">Created {dateTime(input.createdAt)}</Text>
      {link !== null && (
        <Stack gap={4} mt="xs">
          <Text size="sm" fw={600}>
            Device connect link
          </Text>
          <Anchor href={link} size="sm" className="admin-break">
            {link}
          </Anchor>
          <CopyButton value={link}>
            {({ copied, copy }) => (
              <Button size="xs" variant="default" onClick={copy} style={{ alignSelf: 'flex-start' }}>
                {copied ? 'Link copied' : 'Copy connect link'}
              </Button>
            )}
          </CopyButton>
          <ConnectQrCode link={link} inputName={input.name} />
        </Stack>
      )}
      {active && (
        <Group mt="xs" gap="sm">
          <ConfirmAction
            label="Rotate secret"
            title={`Rotate the secret of ${input.name}?`}
            confirm="Rotate secret"
            run={async () => {
              const rotated = await session.api.rotateInput(session.workspace, input.key);
              if (rotated.ok) onRotated(rotated.value);
              return rotated;
            }}
            onDone={reload}
          >
            Input {input.key} gets a new secret, shown once. From its next request the old secret is refused
            (401) for Basic and HMAC: update every server that uses it. The key, its name and the devices
            registered with it stay.
          </ConfirmAction>
          <ConfirmAction
            label="Revoke input"
            title={`Revoke ${input.name}?`}
            confirm="Revoke input"
            run={() => session.api.revokeInput(session.workspace, input.key)}
            onDone={reload}
          >
            Key {input.key} stops working at once: every request with it, and every device registering with
            it, is refused (401). This cannot be undone; what it already sent stays.
          </ConfirmAction>
        </Group>
      )}
    </Card>
  );
}
