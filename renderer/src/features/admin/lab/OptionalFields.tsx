/**
 * Inputs for the optional checks of modify and expect steps (SPEC LB-16). Each shows the value as
 * written and reports only what the user typed: an emptied field removes its check (`undefined`),
 * so nothing the user did not edit is rewritten.
 */
import { NativeSelect, TextInput } from '@mantine/core';
import { useState } from 'react';
import { listText, readInteger, readList, word } from './scenario-form.ts';

interface OptionalFieldProps {
  label: string;
  value: unknown;
  error: string | undefined;
  write: (value: unknown) => void;
}

/** A label or other text; empty removes the field. */
export function OptionalText({ label, value, error, write }: OptionalFieldProps) {
  return (
    <TextInput
      label={label}
      value={word(value)}
      onChange={(e) => write(e.currentTarget.value === '' ? undefined : e.currentTarget.value)}
      error={error}
    />
  );
}

/** A whole number (see readInteger). */
export function OptionalInteger({ label, value, error, write }: OptionalFieldProps) {
  return (
    <TextInput
      label={label}
      value={word(value)}
      inputMode="numeric"
      onChange={(e) => write(readInteger(e.currentTarget.value))}
      error={error}
    />
  );
}

/**
 * A list of labels or names, typed as `a, b`. The text typed is kept while it still reads as the
 * list in the file (so `a, ` can be typed on to `a, b`); a list changed elsewhere replaces it.
 */
export function OptionalList({
  label,
  value,
  error,
  write,
  description = 'comma-separated; empty for no check',
}: OptionalFieldProps & { description?: string }) {
  const [typed, setTyped] = useState(listText(value));
  const shown = listText(readList(typed)) === listText(value) ? typed : listText(value);
  return (
    <TextInput
      label={label}
      description={description}
      value={shown}
      onChange={(e) => {
        setTyped(e.currentTarget.value);
        write(readList(e.currentTarget.value));
      }}
      error={error}
    />
  );
}

/** A check that is true, false or not made. */
export function OptionalBoolean({ label, value, error, write }: OptionalFieldProps) {
  const current = value === true ? 'true' : value === false ? 'false' : '';
  return (
    <NativeSelect
      label={label}
      data={[
        { value: '', label: 'not checked' },
        { value: 'true', label: 'true' },
        { value: 'false', label: 'false' },
      ]}
      value={current}
      onChange={(e) => {
        const chosen = e.currentTarget.value;
        write(chosen === '' ? undefined : chosen === 'true');
      }}
      error={error}
    />
  );
}
