/**
 * The key-only input the server hands its own web app (`GET /app/bootstrap.json`). A browser
 * cannot keep a secret, so key-only is the right trust level for it: the key identifies the
 * workspace, and each device then registers and gets a credential of its own (AU-8, AU-9).
 */
import type { ApiError } from '../shared/protocol/errors.ts';
import { ok, type Result } from '../shared/util/result.ts';
import type { WorkspaceStore } from './db/workspace-store.ts';

const APP_INPUT_NAME = 'Field app';

export interface AppInput {
  readonly key: string;
  readonly workspaceId: string;
}

/** The workspace's live key-only "Field app" input, created if it has none (so restarts reuse it). */
export async function ensureAppInput(
  workspaces: WorkspaceStore,
  workspaceId: string,
): Promise<Result<AppInput, ApiError>> {
  const inputs = await workspaces.listInputs(workspaceId);
  const live = inputs.find(
    (i) => i.name === APP_INPUT_NAME && i.allowKeyOnly && i.syncOnly && i.revokedAt === null,
  );
  if (live !== undefined) return ok({ key: live.key, workspaceId });
  const created = await workspaces.createInput(workspaceId, APP_INPUT_NAME, {
    allowKeyOnly: true,
    syncOnly: true,
  });
  return created.ok ? ok({ key: created.value.key, workspaceId }) : created;
}
