/**
 * A workspace created straight on a database handle, its secrets sealed with a throwaway server
 * key: what store-level tests need before they resolve anything.
 */
import { randomBytes } from 'node:crypto';
import { ServerKey } from '../../server/auth/secrets.ts';
import type { DatabaseHandle } from '../../server/db/connect.ts';
import { WorkspaceStore } from '../../server/db/workspace-store.ts';
import type { ScopeConfigInput } from '../../shared/identity/scope-config.ts';

const ACTOR = { kind: 'app' as const, id: 'test' };

/** Creates the workspace `config` names; the workspace store, for tests that change it later. */
export async function createTestWorkspace(
  handle: DatabaseHandle,
  config: ScopeConfigInput,
): Promise<WorkspaceStore> {
  const key = ServerKey.fromText(randomBytes(32).toString('base64url'), 'test');
  if (!key.ok) throw new Error(key.error);
  const workspaces = new WorkspaceStore(handle, key.value);
  const created = await workspaces.create(config, ACTOR);
  if (!created.ok) throw new Error(created.error.message);
  return workspaces;
}
