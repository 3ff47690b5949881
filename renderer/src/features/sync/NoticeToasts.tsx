import { notifications } from '@mantine/notifications';
import { useEffect } from 'react';
import { useServices } from '../../app/services.tsx';
import { noticeInWords } from '../../sync/notice-in-words.ts';

/** Shows each sync notice once as a notification (announced to screen readers as it appears). */
export function NoticeToasts() {
  const { sync } = useServices();
  useEffect(() => {
    const subscription = sync.noticeAdded$.subscribe((notice) => {
      const { title, detail } = noticeInWords(notice);
      notifications.show({
        title,
        message: detail,
        color: notice.kind === 'failed' || notice.kind === 'rejected' ? 'red' : 'indigo',
        autoClose: 10_000,
      });
    });
    return () => subscription.unsubscribe();
  }, [sync]);
  return null;
}
