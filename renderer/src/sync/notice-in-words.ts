/** The sync notices (SPEC DV-9..DV-11) as a title and a sentence, and which people they concern. */
import type { Notice } from '../../../shared/device/reconcile.ts';
import { identityLabel } from '../identity/identity-labels.ts';

export interface NoticeText {
  readonly title: string;
  readonly detail: string;
}

export function noticeInWords(notice: Notice): NoticeText {
  switch (notice.kind) {
    case 'merged':
      return {
        title: 'Merged into an existing customer',
        detail: `The server already knew this person, so what was recorded as ${notice.from} now belongs to ${notice.to}.`,
      };
    case 'identity_taken':
      return {
        title: `${identityLabel(notice.identityType)} ${notice.value} already belongs to someone else`,
        detail: 'The server kept it with the person who had it first and did not add it to this person.',
      };
    case 'failed':
      return { title: 'The server refused a request', detail: sentence(notice.message) };
    case 'rejected':
      return { title: 'The server could not accept a record', detail: sentence(notice.message) };
  }
}

/** Whether a notice concerns the person with this MPID (or one of the requests that answered them). */
export function noticeConcerns(
  notice: Notice,
  mpids: ReadonlySet<string>,
  requestIds: ReadonlySet<string>,
): boolean {
  switch (notice.kind) {
    case 'merged':
      return mpids.has(notice.to) || mpids.has(notice.from) || requestIds.has(notice.requestId);
    case 'identity_taken':
    case 'failed':
      return requestIds.has(notice.requestId);
    case 'rejected':
      return requestIds.has(notice.id);
  }
}

function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  const capital = trimmed[0]?.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
