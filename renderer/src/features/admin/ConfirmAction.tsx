import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { FormError } from '../../components/FormError.tsx';
import { failureInWords, type AdminResult } from './admin-api.ts';
import { useAdmin } from './AdminContext.tsx';

interface ConfirmActionProps {
  /** The button that opens the confirmation, e.g. "Delete this person". */
  readonly label: string;
  readonly title: string;
  /** Exactly what will happen, in words. */
  readonly children: ReactNode;
  /** The confirming button's words, e.g. "Delete for good". */
  readonly confirm: string;
  readonly run: () => Promise<AdminResult<unknown>>;
  readonly onDone: () => void;
}

/**
 * A destructive admin action behind a dialog that says what will happen (AC-3). The action runs
 * only on the dialog's own button; a failure stays in the dialog, worded, and changes nothing.
 */
export function ConfirmAction({ label, title, children, confirm, run, onDone }: ConfirmActionProps) {
  const { sessions } = useAdmin();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function go() {
    setBusy(true);
    setError(null);
    const result = await run();
    setBusy(false);
    if (result.ok) {
      setOpen(false);
      onDone();
      return;
    }
    setError(failureInWords(result.error));
    sessions.refused(result.error);
  }

  return (
    <>
      <Button color="red" variant="outline" size="xs" onClick={() => setOpen(true)}>
        {label}
      </Button>
      <Modal
        opened={open}
        onClose={() => !busy && setOpen(false)}
        title={title}
        centered
        closeButtonProps={{ 'aria-label': 'Close' }}
      >
        <Stack gap="md">
          <Text size="sm" component="div">
            {children}
          </Text>
          <FormError message={error} />
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={() => setOpen(false)} disabled={busy} data-autofocus>
              Cancel
            </Button>
            <Button color="red" loading={busy} onClick={() => void go()}>
              {confirm}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
