import { Button, Group, Loader, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { failureInWords } from './admin-api.ts';
import type { CallState } from './useAdminCall.ts';

/**
 * An admin read's three states, the same on every page: "Loading …" while it runs, what went
 * wrong in words with "Try again" when it failed (after `failedHeading`, for pages whose title
 * comes from the answer), and `children` with the answer once it came.
 */
export function Loaded<T>({
  state,
  what,
  retry,
  failedHeading,
  children,
}: {
  state: CallState<T>;
  what: string;
  retry: () => void;
  failedHeading?: ReactNode;
  children: (value: T) => ReactNode;
}) {
  if (state.status === 'loading')
    return (
      <Group gap="xs">
        <Loader size="sm" />
        <Text role="status">Loading {what}…</Text>
      </Group>
    );
  if (state.status === 'failed')
    return (
      <Stack gap="xs" align="flex-start">
        {failedHeading}
        <Text role="alert" c="var(--mantine-color-error)">
          {failureInWords(state.failure)}
        </Text>
        <Button variant="default" size="xs" onClick={retry}>
          Try again
        </Button>
      </Stack>
    );
  return <>{children(state.value)}</>;
}
