import { Text } from '@mantine/core';

/** A form's own error (not one field's), announced as it appears. */
export function FormError({ message }: { message: string | null }) {
  if (message === null) return null;
  return (
    <Text role="alert" c="var(--mantine-color-error)" size="sm">
      {message}
    </Text>
  );
}
