import { Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { ScopeConfig } from '../../../../../shared/identity/scope-config.ts';
import type { ConfigVersion, WorkspaceConfig } from '../../../../../shared/protocol/admin-config.ts';
import { dateTime } from '../../../components/relative-time.ts';
import { failureInWords } from '../admin-api.ts';
import { useAdmin, useAdminSession } from '../AdminContext.tsx';
import { Loaded } from '../Loaded.tsx';
import { useAdminCall } from '../useAdminCall.ts';
import { configChanges, configProblems, hasProblems } from './config-editor.ts';
import { ConfigEditor } from './ConfigEditor.tsx';
import { ImpactPreview, PREVIEW_EXAMPLES, type PreviewState } from './ImpactPreview.tsx';

/** The selected workspace's settings, their impact before saving, and their history (AC-20..AC-26). */
export function SettingsPage() {
  const session = useAdminSession();
  const [saved, setSaved] = useState<string | null>(null);
  const current = useAdminCall(`${session.workspace}|config`, () => session.api.config(session.workspace));
  const history = useAdminCall(`${session.workspace}|config-history`, () =>
    session.api.configHistory(session.workspace),
  );
  return (
    <Stack gap="md">
      <Title order={2}>Workspace settings</Title>
      <Loaded state={current.state} what="the workspace’s config" retry={current.reload}>
        {(value) => (
          <Editor
            key={`${session.workspace}#${value.version}`}
            saved={value}
            notice={saved}
            onSaved={(version) => {
              setSaved(`Saved as version ${version}. Requests from now on are resolved with it.`);
              current.reload();
              history.reload();
            }}
            onReload={() => {
              setSaved(null);
              current.reload();
              history.reload();
            }}
          />
        )}
      </Loaded>
      <section aria-label="Config history">
        <Title order={3} size="h4" mb="xs">
          Config history
        </Title>
        <Loaded state={history.state} what="the config history" retry={history.reload}>
          {(value) => <History versions={value.history} />}
        </Loaded>
      </section>
    </Stack>
  );
}

function Editor({
  saved,
  notice,
  onSaved,
  onReload,
}: {
  saved: WorkspaceConfig;
  notice: string | null;
  onSaved: (version: number) => void;
  onReload: () => void;
}) {
  const session = useAdminSession();
  const { sessions } = useAdmin();
  const [draft, setDraft] = useState<ScopeConfig>(saved.config);
  const [preview, setPreview] = useState<PreviewState | null>(null);
  const problems = configProblems(draft);
  const invalid = hasProblems(problems);
  const changes = configChanges(saved.config, draft);
  const changed = changes.length > 0;

  async function openPreview() {
    setPreview({ status: 'replaying' });
    const result = await session.api.whatIf(session.workspace, draft, PREVIEW_EXAMPLES);
    if (!result.ok) sessions.refused(result.error);
    setPreview(
      result.ok
        ? { status: 'ready', result: result.value, saving: false, saveError: null }
        : { status: 'failed', message: failureInWords(result.error) },
    );
  }

  async function confirm() {
    if (preview?.status !== 'ready') return;
    setPreview({ ...preview, saving: true, saveError: null });
    const result = await session.api.saveConfig(session.workspace, draft, saved.version);
    if (result.ok) return onSaved(result.value.version);
    sessions.refused(result.error);
    const stale = result.error.kind === 'stale';
    const message = stale
      ? `The config was changed by someone else since you opened it (you edited version ${saved.version}). Reload it to see their change; your edits here are not saved.`
      : failureInWords(result.error);
    setPreview({ ...preview, saving: false, saveError: { stale, message } });
  }

  return (
    <Stack gap="md">
      <Text size="sm" c="dimmed">
        Workspace {session.workspace}, config version {saved.version}.
      </Text>
      {notice !== null && !changed && (
        <Text role="status" fw={600}>
          {notice}
        </Text>
      )}
      <ConfigEditor config={draft} problems={problems} onChange={setDraft} />
      <Card withBorder padding="sm" className="admin-save-bar">
        <Group justify="space-between" gap="sm" wrap="wrap">
          <Text size="sm" aria-live="polite">
            {invalid
              ? 'Fix the rules shown in red before saving.'
              : changed
                ? `${changes.length === 1 ? '1 change' : `${changes.length} changes`} not saved yet.`
                : 'No unsaved changes.'}
          </Text>
          <Group gap="sm">
            <Button variant="default" disabled={!changed} onClick={() => setDraft(saved.config)}>
              Discard changes
            </Button>
            <Button disabled={invalid || !changed} onClick={() => void openPreview()}>
              Preview impact and save
            </Button>
          </Group>
        </Group>
      </Card>
      {preview !== null && (
        <ImpactPreview
          state={preview}
          changes={changes}
          nextVersion={saved.version + 1}
          onBack={() => setPreview(null)}
          onConfirm={() => void confirm()}
          onReload={onReload}
        />
      )}
    </Stack>
  );
}

function History({ versions }: { versions: readonly ConfigVersion[] }) {
  return (
    <Stack gap="sm">
      {versions.map((version, index) => {
        const previous = versions[index + 1];
        const changes = previous === undefined ? null : configChanges(previous.config, version.config);
        return (
          <Card
            key={version.version}
            withBorder
            padding="sm"
            component="article"
            aria-label={`Version ${version.version}`}
          >
            <Text fw={600}>Version {version.version}</Text>
            <Text size="sm" c="dimmed" className="admin-break">
              {dateTime(version.at)} by {version.actor.kind} {version.actor.id}
            </Text>
            {changes === null ? (
              <Text size="sm">The workspace was created with this config.</Text>
            ) : changes.length === 0 ? (
              <Text size="sm">Saved without changes.</Text>
            ) : (
              <ul className="admin-problems">
                {changes.map((change) => (
                  <li key={change}>
                    <Text size="sm" className="admin-break">
                      {change}
                    </Text>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        );
      })}
    </Stack>
  );
}
