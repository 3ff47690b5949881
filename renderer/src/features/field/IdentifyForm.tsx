import { Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { IdentityType } from '../../../../shared/identity/identity-types.ts';
import { useServices } from '../../app/services.tsx';
import { FormError } from '../../components/FormError.tsx';
import { useWorkspaceConfig } from '../../hooks/useWorkspaceConfig.ts';
import { checkIdentityValue, offeredIdentityTypes } from '../../identity/identity-field.ts';
import { identityNoun } from '../../identity/identity-labels.ts';
import { IdentityField } from './IdentityField.tsx';

type Action = 'identify' | 'login';

/**
 * Quick identify and log in with the identity types the workspace ranks (customer ID, email,
 * phone), checked as typed with the workspace's normalisation and blocked values. The engine
 * answers at once; a login also asks the sync controller to tell the server now.
 */
export function IdentifyForm({ focusFirst = false }: { focusFirst?: boolean }) {
  const { engine, sync } = useServices();
  const config = useWorkspaceConfig();
  const types = offeredIdentityTypes(config);
  const loginTypes = types.filter((type) => config.loginIdentities.includes(type));
  const [values, setValues] = useState<Partial<Record<IdentityType, string>>>({});
  const [touched, setTouched] = useState<ReadonlySet<IdentityType>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const checks = new Map(types.map((type) => [type, checkIdentityValue(config, type, values[type] ?? '')]));

  const submit = async (action: Action) => {
    setSubmitted(true);
    setDone(null);
    if ([...checks.values()].some((c) => c.kind === 'error')) {
      setFormError('Correct the highlighted fields first.');
      return;
    }
    const identities: Record<string, string> = {};
    for (const [type, check] of checks) if (check.kind === 'ok') identities[type] = check.value;
    if (action === 'login' && !loginTypes.some((type) => identities[type] !== undefined)) {
      setFormError(`Log in needs ${loginTypes.map(identityNoun).join(' or ')}.`);
      return;
    }
    if (action === 'identify' && Object.keys(identities).length === 0) {
      setFormError('Enter at least one identity to identify someone.');
      return;
    }
    setBusy(true);
    const result = action === 'login' ? await engine.login(identities) : await engine.identify(identities);
    setBusy(false);
    if (!result.ok) {
      setFormError(`This device could not record that: ${result.error.message}`);
      return;
    }
    setValues({});
    setTouched(new Set());
    setSubmitted(false);
    setFormError(null);
    setDone(action === 'login' ? 'Logged in.' : 'Identified.');
    if (action === 'login') void sync.afterLogin();
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit(loginTypes.length > 0 ? 'login' : 'identify');
  };

  return (
    <Card withBorder component="section" aria-labelledby="identify-heading" padding="md">
      <form onSubmit={onSubmit} noValidate aria-labelledby="identify-heading">
        <Stack gap="sm">
          <Title order={2} size="h4" id="identify-heading">
            Identify or log in
          </Title>
          {types.map((type, index) => (
            <IdentityField
              key={type}
              type={type}
              autoFocus={focusFirst && index === 0}
              value={values[type] ?? ''}
              check={checks.get(type) ?? { kind: 'empty' }}
              showError={submitted || touched.has(type)}
              onChange={(value) => {
                setValues((current) => ({ ...current, [type]: value }));
                setFormError(null);
                setDone(null);
              }}
              onBlur={() => setTouched((current) => new Set(current).add(type))}
            />
          ))}
          <FormError message={formError} />
          <Group gap="xs">
            {loginTypes.length > 0 && (
              <Button type="submit" loading={busy}>
                Log in
              </Button>
            )}
            <Button
              type={loginTypes.length > 0 ? 'button' : 'submit'}
              variant={loginTypes.length > 0 ? 'default' : 'filled'}
              onClick={loginTypes.length > 0 ? () => void submit('identify') : undefined}
              loading={busy}
            >
              Identify
            </Button>
          </Group>
          <Text size="sm" c="dimmed" role="status">
            {done}
          </Text>
        </Stack>
      </form>
    </Card>
  );
}
