import { Table, Text } from '@mantine/core';
import type { IdentityType } from '../../../shared/identity/identity-types.ts';
import type { PersonView } from '../device/views.ts';
import { identityLabel } from '../identity/identity-labels.ts';

/** A person's identities as a two-column table ("Email — a@x.com"). */
export function IdentityList({ identities, label }: { identities: PersonView['identities']; label: string }) {
  const rows = (Object.keys(identities) as IdentityType[]).flatMap((type) =>
    (identities[type] ?? []).map((value) => ({ type, value })),
  );
  if (rows.length === 0) return <Text c="dimmed">No identities yet.</Text>;
  return (
    <Table aria-label={label} withRowBorders={false} verticalSpacing={2} horizontalSpacing="xs">
      <Table.Tbody>
        {rows.map(({ type, value }) => (
          <Table.Tr key={`${type}:${value}`}>
            <Table.Th scope="row" w="8.5rem" fw={500} c="dimmed">
              {identityLabel(type)}
            </Table.Th>
            <Table.Td style={{ wordBreak: 'break-all' }}>{value}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
