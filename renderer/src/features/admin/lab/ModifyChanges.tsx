/**
 * The changes of a modify step (SPEC LB-16): one row per identity type with its old and new value.
 * Each edit writes only the field typed (an emptied value is `null`, "none", as the schema's
 * default), so rows the user did not touch stay exactly as written.
 */
import { Button, Group, Stack, TextInput } from '@mantine/core';
import {
  errorAt,
  errorUnder,
  isObject,
  word,
  type JsonObject,
  type Problems,
  type SetField,
  type ShownPaths,
} from './scenario-form.ts';
import { FieldError, RemoveRowButton } from './RowControls.tsx';

interface ModifyChangesProps {
  step: JsonObject;
  n: number;
  path: string;
  problems: Problems;
  set: SetField;
}

export function ModifyChanges({ step, n, path, problems, set }: ModifyChangesProps) {
  const changes: readonly unknown[] = Array.isArray(step['changes']) ? step['changes'] : [];
  const field = (i: number, key: 'type' | 'old' | 'new', label: string, empty: '' | null) => {
    const change = changes[i];
    const value = isObject(change) ? change[key] : undefined;
    return (
      <TextInput
        label={`Step ${n} change ${i + 1} ${label}`}
        value={word(value)}
        onChange={(e) => {
          const text = e.currentTarget.value;
          set(['changes', i, key], text === '' ? empty : text);
        }}
        error={errorUnder(problems, `${path}.changes[${i}].${key}`)}
        style={{ flex: '1 1 8rem' }}
      />
    );
  };
  return (
    <Stack gap={4} role="group" aria-label={`Step ${n} changes`}>
      {changes.map((_, i) => (
        <Group key={i} gap="xs" align="flex-start" wrap="wrap">
          {field(i, 'type', 'type', '')}
          {field(i, 'old', 'old value', null)}
          {field(i, 'new', 'new value', null)}
          <RemoveRowButton
            label={`Remove change ${i + 1} of step ${n}`}
            onClick={() =>
              set(
                ['changes'],
                changes.filter((__, j) => j !== i),
              )
            }
          />
        </Group>
      ))}
      <FieldError message={errorAt(problems, `${path}.changes`)} />
      <Group>
        <Button
          variant="light"
          size="compact-sm"
          aria-label={`Add change to step ${n}`}
          onClick={() => set(['changes'], [...changes, { type: 'email', old: null, new: null }])}
        >
          Add change
        </Button>
      </Group>
    </Stack>
  );
}

/** Problem paths the rows show beside their fields (the rest are listed under the step). */
export function modifyShownPaths(step: JsonObject, path: string): ShownPaths {
  const changes: readonly unknown[] = Array.isArray(step['changes']) ? step['changes'] : [];
  return {
    exact: [`${path}.changes`],
    under: changes.flatMap((_, i) => ['type', 'old', 'new'].map((key) => `${path}.changes[${i}].${key}`)),
  };
}
