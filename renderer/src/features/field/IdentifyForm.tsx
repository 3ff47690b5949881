import { Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { memo, useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import type { IdentityType } from '../../../../shared/identity/identity-types.ts';
import { markIdentityAnswer } from '../../app/marks.ts';
import { useServices } from '../../app/services.tsx';
import { FormError } from '../../components/FormError.tsx';
import { useWorkspaceConfig } from '../../hooks/useWorkspaceConfig.ts';
import { checkIdentityValue, offeredIdentityTypes } from '../../identity/identity-field.ts';
import { identityNoun } from '../../identity/identity-labels.ts';
import { IdentityField } from './IdentityField.tsx';

type Action = 'identify' | 'login';

/** A call that takes longer than this shows a spinner; a quicker one never flashes it (UP-2). */
const SPINNER_AFTER_MS = 300;

/**
 * Quick identify and log in with the identity types the workspace ranks (customer ID, email,
 * phone), checked as typed with the workspace's normalisation and blocked values. The engine
 * answers at once; a login also asks the sync controller to tell the server now.
 */
export function IdentifyForm({ focusFirst = false }: { focusFirst?: boolean }) {
  return (
    <Card withBorder component="section" aria-labelledby="identify-heading" padding="md">
      <IdentifyFormBody focusFirst={focusFirst} />
    </Card>
  );
}

/**
 * The form's state lives below the card, so a login renders the fields that change, the buttons
 * and the status line, not the card around them.
 */
function IdentifyFormBody({ focusFirst }: { focusFirst: boolean }) {
  const { engine, sync } = useServices();
  const config = useWorkspaceConfig();
  const types = useMemo(() => offeredIdentityTypes(config), [config]);
  const loginTypes = useMemo(
    () => types.filter((type) => config.loginIdentities.includes(type)),
    [config, types],
  );
  const [values, setValues] = useState<Partial<Record<IdentityType, string>>>({});
  const [touched, setTouched] = useState<ReadonlySet<IdentityType>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const busy = useBusy();

  const checks = useMemo(
    () => new Map(types.map((type) => [type, checkIdentityValue(config, type, values[type] ?? '')])),
    [config, types, values],
  );
  // Stable callbacks, so a field re-renders only when its own value or check changes (UP-2).
  const onValue = useCallback((type: IdentityType, value: string) => {
    setValues((current) => ({ ...current, [type]: value }));
    setFormError(null);
    setDone(null);
  }, []);
  const onLeave = useCallback(
    (type: IdentityType) =>
      setTouched((current) => (current.has(type) ? current : new Set(current).add(type))),
    [],
  );

  const refuse = (message: string) => {
    setSubmitted(true);
    setFormError(message);
  };

  const submit = async (action: Action) => {
    if (busy.running()) return;
    setDone(null);
    if ([...checks.values()].some((c) => c.kind === 'error'))
      return refuse('Correct the highlighted fields first.');
    const identities: Record<string, string> = {};
    for (const [type, check] of checks) if (check.kind === 'ok') identities[type] = check.value;
    if (action === 'login' && !loginTypes.some((type) => identities[type] !== undefined))
      return refuse(`Log in needs ${loginTypes.map(identityNoun).join(' or ')}.`);
    if (action === 'identify' && Object.keys(identities).length === 0)
      return refuse('Enter at least one identity to identify someone.');
    const result = await busy.during(
      action === 'login' ? engine.login(identities) : engine.identify(identities),
    );
    markIdentityAnswer();
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
  const submitRef = useRef(submit);
  useEffect(() => {
    submitRef.current = submit;
  });
  const onIdentify = useCallback(() => void submitRef.current('identify'), []);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit(loginTypes.length > 0 ? 'login' : 'identify');
  };

  return (
    <form onSubmit={onSubmit} noValidate aria-labelledby="identify-heading">
      <Stack gap="sm">
        <FormTitle />
        {types.map((type, index) => (
          <IdentityField
            key={type}
            type={type}
            autoFocus={focusFirst && index === 0}
            value={values[type] ?? ''}
            check={checks.get(type) ?? { kind: 'empty' }}
            showError={submitted || touched.has(type)}
            onChange={onValue}
            onBlur={onLeave}
          />
        ))}
        <FormError message={formError} />
        <SubmitButtons canLogIn={loginTypes.length > 0} spinning={busy.spinning} onIdentify={onIdentify} />
        <Text size="sm" c="dimmed" role="status">
          {done}
        </Text>
      </Stack>
    </form>
  );
}

const FormTitle = memo(function FormTitle() {
  return (
    <Title order={2} size="h4" id="identify-heading">
      Identify or log in
    </Title>
  );
});

const SubmitButtons = memo(function SubmitButtons({
  canLogIn,
  spinning,
  onIdentify,
}: {
  canLogIn: boolean;
  spinning: boolean;
  onIdentify: () => void;
}) {
  return (
    <Group gap="xs">
      {canLogIn && (
        <Button type="submit" loading={spinning}>
          Log in
        </Button>
      )}
      <Button
        type={canLogIn ? 'button' : 'submit'}
        variant={canLogIn ? 'default' : 'filled'}
        onClick={canLogIn ? onIdentify : undefined}
        loading={spinning}
      >
        Identify
      </Button>
    </Group>
  );
});

/**
 * One identity call at a time: `running()` refuses a second submit at once (a ref, no render), and
 * the buttons show their spinner only once a call has taken `SPINNER_AFTER_MS`.
 */
function useBusy() {
  const running = useRef(false);
  const [spinning, setSpinning] = useState(false);
  const during = useCallback(async <T,>(call: Promise<T>): Promise<T> => {
    running.current = true;
    const timer = setTimeout(() => setSpinning(true), SPINNER_AFTER_MS);
    try {
      return await call;
    } finally {
      clearTimeout(timer);
      running.current = false;
      setSpinning(false);
    }
  }, []);
  return { running: () => running.current, during, spinning };
}
