/** How the console words history entries, alias states and request kinds. */
import type { AliasStatus, HistoryEntry, RequestKind } from '../../../../shared/resolver/records.ts';
import { shortMpid } from '../../components/ShortMpid.tsx';
import { identityLabel } from '../../identity/identity-labels.ts';
import type { Tone } from '../../components/StatusBadge.tsx';

const REQUEST_KINDS: Readonly<Record<RequestKind, string>> = {
  identify: 'Identify',
  login: 'Log in',
  logout: 'Log out',
  modify: 'Identity change',
  alias: 'Alias',
};

export function requestKindInWords(kind: RequestKind): string {
  return REQUEST_KINDS[kind];
}

export const ALIAS_STATUS: Readonly<Record<AliasStatus, { tone: Tone; label: string }>> = {
  pending: { tone: 'warning', label: 'Waiting to be applied' },
  applied: { tone: 'success', label: 'Applied' },
  rejected: { tone: 'danger', label: 'Rejected' },
  undone: { tone: 'neutral', label: 'Undone' },
};

/** One history entry as a sentence: "Email ana@example.com added." */
export function historyInWords(entry: HistoryEntry): string {
  const identity =
    entry.identityType === null
      ? 'an identity'
      : `${identityLabel(entry.identityType)}${entry.value === null ? '' : ` ${entry.value}`}`;
  const other = entry.otherMpid === null ? 'another profile' : `profile ${shortMpid(entry.otherMpid)}`;
  switch (entry.kind) {
    case 'profile_created':
      return 'Profile created.';
    case 'identity_added':
      return `${identity} added.`;
    case 'identity_removed':
      return `${identity} removed.`;
    case 'identity_moved':
      return `${identity} moved to ${other}.`;
    case 'profile_orphaned':
      return 'Orphaned: its last identifier was removed.';
    case 'profile_deleted':
      return 'Deleted for a data-subject request.';
    case 'alias_accepted':
      return `Alias with ${other} accepted, waiting to be applied.`;
    case 'alias_applied':
      return `Alias with ${other} applied.`;
    case 'alias_rejected':
      return `Alias with ${other} rejected: ${entry.reason}.`;
    case 'alias_undone':
      return `Alias undone${entry.aliasId === null ? '' : ` (${entry.aliasId})`}.`;
  }
}
