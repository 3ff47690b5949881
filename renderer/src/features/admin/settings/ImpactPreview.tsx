import { Button, Card, Group, Loader, Modal, Stack, Text } from '@mantine/core';
import { RequestKindSchema } from '../../../../../shared/resolver/records.ts';
import type {
  WhatIfAnswer,
  WhatIfDifference,
  WhatIfResponse,
} from '../../../../../shared/protocol/what-if.ts';
import { dateTime } from '../../../components/relative-time.ts';
import { shortMpid } from '../../../components/ShortMpid.tsx';
import { FormError } from '../../../components/FormError.tsx';
import { requestKindInWords } from '../admin-words.ts';

/** How many differences the preview asks for and lists; the count covers them all. */
export const PREVIEW_EXAMPLES = 5;

export type PreviewState =
  | { readonly status: 'replaying' }
  | { readonly status: 'failed'; readonly message: string }
  | {
      readonly status: 'ready';
      readonly result: WhatIfResponse;
      readonly saveError: SaveError | null;
      readonly saving: boolean;
    };

/** Why the save failed; `stale` when someone else saved since this edit began (AA-10). */
export interface SaveError {
  readonly stale: boolean;
  readonly message: string;
}

interface ImpactPreviewProps {
  readonly state: PreviewState;
  /** What the save changes in the config, in words. */
  readonly changes: readonly string[];
  readonly nextVersion: number;
  readonly onBack: () => void;
  readonly onConfirm: () => void;
  /** Reloads the workspace's current config, leaving this edit (after a stale save). */
  readonly onReload: () => void;
}

/**
 * The impact preview (AC-23, AC-24): the recorded requests replayed under the edited config, how
 * many outcomes would change with the first examples and why, what was skipped or cut short; the
 * save runs only from here.
 */
export function ImpactPreview({
  state,
  changes,
  nextVersion,
  onBack,
  onConfirm,
  onReload,
}: ImpactPreviewProps) {
  const busy = state.status === 'ready' && state.saving;
  const stale = state.status === 'ready' && state.saveError?.stale === true;
  return (
    <Modal
      opened
      onClose={() => !busy && onBack()}
      title="Before you save: the impact of this change"
      centered
      size="lg"
      closeButtonProps={{ 'aria-label': 'Close' }}
    >
      <Stack gap="md">
        <section aria-label="What changes in the config">
          <Text fw={600} size="sm">
            What changes in the config
          </Text>
          <ul className="admin-problems">
            {changes.map((change) => (
              <li key={change}>
                <Text size="sm">{change}</Text>
              </li>
            ))}
          </ul>
        </section>
        <section aria-label="Impact on recorded requests">
          {state.status === 'replaying' ? (
            <Group gap="xs">
              <Loader size="sm" />
              <Text role="status">Replaying the workspace’s recorded requests under the new config…</Text>
            </Group>
          ) : state.status === 'failed' ? (
            <Text role="alert" c="var(--mantine-color-error)">
              {state.message}
            </Text>
          ) : (
            <Impact result={state.result} />
          )}
        </section>
        {state.status === 'ready' && <FormError message={state.saveError?.message ?? null} />}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onBack} disabled={busy} data-autofocus>
            Back to editing
          </Button>
          {stale ? (
            <Button onClick={onReload}>Reload the current config</Button>
          ) : (
            state.status === 'ready' && (
              <Button loading={state.saving} onClick={onConfirm}>
                Save as version {nextVersion}
              </Button>
            )
          )}
        </Group>
      </Stack>
    </Modal>
  );
}

function Impact({ result }: { result: WhatIfResponse }) {
  const { summary, differences } = result;
  const skipped = Object.values(summary.skipped).reduce((sum, n) => sum + n, 0);
  return (
    <Stack gap="sm">
      <Text role="status" fw={600}>
        {summary.compared === 0
          ? 'No recorded request to replay yet: nothing can change.'
          : summary.outcomesChanged === 0
            ? `None of the ${plural(summary.compared, 'recorded outcome')} would change.`
            : `${summary.outcomesChanged} of ${plural(summary.compared, 'recorded outcome')} would change.`}
      </Text>
      {skipped > 0 && (
        <Text size="sm">
          {plural(skipped, 'request')} could not be replayed (the log does not hold their body) and{' '}
          {skipped === 1 ? 'is' : 'are'} not counted.
        </Text>
      )}
      {summary.truncated && (
        <Text size="sm">
          Only the first {plural(summary.replayed, 'request')} of {summary.logged} were replayed; later ones
          may change too.
        </Text>
      )}
      {differences.length > 0 && (
        <Stack gap="xs">
          <Text size="sm" fw={600}>
            {summary.outcomesChanged > differences.length
              ? `The first ${differences.length} changes`
              : differences.length === 1
                ? 'The change'
                : `The ${differences.length} changes`}
          </Text>
          {differences.map((difference) => (
            <DifferenceItem key={difference.position} difference={difference} />
          ))}
        </Stack>
      )}
    </Stack>
  );
}

function DifferenceItem({ difference }: { difference: WhatIfDifference }) {
  const from = difference.source === 'api' ? 'the IDSync API' : `device ${difference.deviceId ?? ''}`;
  return (
    <Card withBorder padding="xs" component="article" aria-label={`Request ${difference.requestId}`}>
      <Text size="sm" fw={600} className="admin-break">
        {kindInWords(difference.kind)} (request {difference.requestId}), from {from},{' '}
        {dateTime(difference.at)}
      </Text>
      <Text size="sm" className="admin-break">
        Was: {answerInWords(difference.old)}. Would be: {answerInWords(difference.new)}.
      </Text>
      {difference.why.old !== null && (
        <Text size="sm" c="dimmed" className="admin-break">
          Why it was: {difference.why.old}
        </Text>
      )}
      {difference.why.new !== null && (
        <Text size="sm" className="admin-break">
          Why it would be: {difference.why.new}
        </Text>
      )}
      {difference.why.steps.length > 0 && (
        <ol className="admin-problems">
          {difference.why.steps.map((step, index) => (
            <li key={index}>
              <Text size="sm" className="admin-break">
                {step}
              </Text>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

function kindInWords(kind: string): string {
  const known = RequestKindSchema.safeParse(kind);
  return known.success ? requestKindInWords(known.data) : kind;
}

export function answerInWords(answer: WhatIfAnswer): string {
  if (answer.error !== null) return `refused (${answer.error})`;
  if (answer.mpid === null) return 'no profile';
  return `${answer.created ? 'a new profile' : 'profile'} ${shortMpid(answer.mpid)}`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
