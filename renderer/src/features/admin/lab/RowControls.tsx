/**
 * The controls every list in the Lab form repeats (SPEC LB-10, LB-16): a row's Remove button,
 * named for the row it removes, and the list's own error line shown beside it.
 */
import { Button, Text } from '@mantine/core';

/** Removes one row; `label` names the row for assistive technology (e.g. "Remove change 2 of step 3"). */
export function RemoveRowButton({
  label,
  onClick,
  aligned = true,
}: {
  label: string;
  onClick: () => void;
  /** Lines the button up with the inputs of a row whose fields carry labels above them. */
  aligned?: boolean;
}) {
  return (
    <Button
      variant="subtle"
      size="compact-sm"
      {...(aligned ? { mt: 24 } : {})}
      aria-label={label}
      onClick={onClick}
    >
      Remove
    </Button>
  );
}

/** The error of a list as a whole (e.g. two rows of one identity type), or nothing. */
export function FieldError({ message }: { message: string | undefined }) {
  return message === undefined ? null : (
    <Text size="sm" c="var(--mantine-color-error)">
      {message}
    </Text>
  );
}
