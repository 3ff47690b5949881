import { Alert, Stack } from '@mantine/core';
import type { Notice } from '../../device/views.ts';
import { noticeInWords } from '../../sync/notice-in-words.ts';

/** What the server said about this person at the last syncs ("Merged into an existing customer"). */
export function PersonNotices({ notices }: { notices: readonly Notice[] }) {
  if (notices.length === 0) return null;
  return (
    <Stack gap="xs">
      {notices.map((notice, i) => {
        const { title, detail } = noticeInWords(notice);
        const tone = notice.kind === 'failed' || notice.kind === 'rejected' ? 'red' : 'indigo';
        return (
          <Alert key={i} variant="light" color={tone} title={title}>
            {detail}
          </Alert>
        );
      })}
    </Stack>
  );
}
