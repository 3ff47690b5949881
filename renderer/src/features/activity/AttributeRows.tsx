import { ActionIcon, Button, Group, Stack, TextInput } from '@mantine/core';

export interface AttributeRow {
  readonly id: number;
  readonly key: string;
  readonly value: string;
}

/** Key/value rows for user attributes, added and removed one at a time. */
export function AttributeRows({
  rows,
  errors,
  onChange,
}: {
  rows: readonly AttributeRow[];
  errors: ReadonlyMap<number, string>;
  onChange: (rows: readonly AttributeRow[]) => void;
}) {
  const update = (id: number, change: Partial<AttributeRow>) =>
    onChange(rows.map((row) => (row.id === id ? { ...row, ...change } : row)));
  const nextId = rows.reduce((max, row) => Math.max(max, row.id), 0) + 1;
  return (
    <Stack gap="xs">
      {rows.map((row, index) => (
        <Group key={row.id} gap="xs" align="flex-start" wrap="nowrap">
          <TextInput
            label={`Attribute ${index + 1} name`}
            value={row.key}
            onChange={(event) => update(row.id, { key: event.currentTarget.value })}
            error={errors.get(row.id)}
            style={{ flex: 1, minWidth: 0 }}
          />
          <TextInput
            label={`Attribute ${index + 1} value`}
            value={row.value}
            onChange={(event) => update(row.id, { value: event.currentTarget.value })}
            style={{ flex: 1, minWidth: 0 }}
          />
          <ActionIcon
            variant="subtle"
            color="gray"
            mt={26}
            size="lg"
            aria-label={`Remove attribute ${index + 1}`}
            onClick={() => onChange(rows.filter((r) => r.id !== row.id))}
          >
            <span aria-hidden="true">×</span>
          </ActionIcon>
        </Group>
      ))}
      <Group>
        <Button
          variant="subtle"
          size="compact-sm"
          onClick={() => onChange([...rows, { id: nextId, key: '', value: '' }])}
        >
          Add attribute
        </Button>
      </Group>
    </Stack>
  );
}
