import { TextInput } from '@mantine/core';
import { memo } from 'react';
import type { IdentityType } from '../../../../shared/identity/identity-types.ts';
import type { IdentityCheck } from '../../identity/identity-field.ts';
import { identityLabel } from '../../identity/identity-labels.ts';

const INPUT_MODES: Partial<Record<IdentityType, { type: string; autoComplete: string }>> = {
  email: { type: 'email', autoComplete: 'off' },
  mobile_number: { type: 'tel', autoComplete: 'off' },
};

/**
 * One identity value, with what it will be saved as and what is wrong with it: a blocked value at
 * once, a shape that is still being typed (an unfinished email) once the field is left or submitted.
 * Memoised: the form hands it stable callbacks that take the field's type.
 */
export const IdentityField = memo(function IdentityField({
  type,
  value,
  check,
  showError,
  autoFocus,
  onChange,
  onBlur,
}: {
  type: IdentityType;
  autoFocus: boolean;
  value: string;
  check: IdentityCheck;
  showError: boolean;
  onChange: (type: IdentityType, value: string) => void;
  onBlur: (type: IdentityType) => void;
}) {
  const mode = INPUT_MODES[type] ?? { type: 'text', autoComplete: 'off' };
  const preview = check.kind === 'ok' && check.changed ? `Will be saved as ${check.value}` : undefined;
  const error = check.kind === 'error' && (showError || check.early) ? check.message : undefined;
  return (
    <TextInput
      label={identityLabel(type)}
      type={mode.type}
      autoComplete={mode.autoComplete}
      spellCheck={false}
      autoFocus={autoFocus}
      value={value}
      onChange={(event) => onChange(type, event.currentTarget.value)}
      onBlur={() => onBlur(type)}
      description={preview}
      error={error}
      inputWrapperOrder={['label', 'input', 'description', 'error']}
    />
  );
});
