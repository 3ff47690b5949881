import { Autocomplete, Button, Card, Stack, Text, Textarea, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useServices } from '../../app/services.tsx';
import { FormError } from '../../components/FormError.tsx';
import { AttributeRows, type AttributeRow } from './AttributeRows.tsx';
import { useRecentEventNames } from './useRecentEventNames.ts';

const MAX_NAME = 256;

/** Records what the current person did (an event with notes) and what is known about them (attributes). */
export function ActivityForm() {
  const { engine } = useServices();
  const [name, setName] = useState('');
  const [notes, setNotes] = useState('');
  const [rows, setRows] = useState<readonly AttributeRow[]>([]);
  const [rowErrors, setRowErrors] = useState<ReadonlyMap<number, string>>(new Map());
  const [formError, setFormError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [recorded, setRecorded] = useState(0);
  const recent = useRecentEventNames(engine, recorded);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    const eventName = name.trim();
    const filled = rows.filter((row) => row.key.trim() !== '' || row.value.trim() !== '');
    const errors = new Map(
      filled.filter((row) => row.key.trim() === '').map((row) => [row.id, 'Give this attribute a name']),
    );
    setRowErrors(errors);
    if (errors.size > 0) return setFormError('Name every attribute that has a value.');
    if (eventName === '' && filled.length === 0)
      return setFormError('Enter an event name or at least one attribute to record.');
    if (eventName.length > MAX_NAME) return setFormError(`An event name has at most ${MAX_NAME} characters.`);
    setFormError(null);
    if (eventName !== '') await engine.track(eventName, notes.trim() === '' ? {} : { notes: notes.trim() });
    for (const row of filled) await engine.setUserAttribute(row.key.trim(), row.value);
    setName('');
    setNotes('');
    setRows([]);
    setRecorded((n) => n + 1);
    setDone(recordedText(eventName, filled.length));
  };

  return (
    <Card withBorder component="section" aria-labelledby="activity-heading" padding="md">
      <form onSubmit={(event) => void onSubmit(event)} noValidate aria-labelledby="activity-heading">
        <Stack gap="sm">
          <Title order={2} size="h4" id="activity-heading">
            Record activity
          </Title>
          <Autocomplete
            label="Event name"
            placeholder="e.g. store_visit"
            data={[...recent]}
            value={name}
            onChange={(value) => {
              setName(value);
              setFormError(null);
            }}
            maxLength={MAX_NAME}
            // Mounted only while open: a hidden dropdown is positioned at mount, which forces a style
            // and layout pass in the Field screen's first commit (UP-4).
            comboboxProps={{ keepMounted: false }}
          />
          <Textarea
            label="Notes"
            rows={2}
            resize="vertical"
            value={notes}
            onChange={(e) => setNotes(e.currentTarget.value)}
          />
          <AttributeRows rows={rows} errors={rowErrors} onChange={setRows} />
          <FormError message={formError} />
          <div>
            <Button type="submit">Record activity</Button>
          </div>
          <Text size="sm" c="dimmed" role="status">
            {done}
          </Text>
        </Stack>
      </form>
    </Card>
  );
}

function recordedText(eventName: string, attributes: number): string {
  const parts = [
    ...(eventName === '' ? [] : [`“${eventName}”`]),
    ...(attributes === 0 ? [] : [attributes === 1 ? '1 attribute' : `${attributes} attributes`]),
  ];
  return `Recorded ${parts.join(' and ')}.`;
}
