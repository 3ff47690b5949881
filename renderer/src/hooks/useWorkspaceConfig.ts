import type { ScopeConfig } from '../../../shared/identity/scope-config.ts';
import { useServices } from '../app/services.tsx';
import { useObservable } from './useObservable.ts';

/**
 * The workspace config the engine resolves with. The engine adopts the server's config when it
 * connects or syncs, which the sync state reports, so reading it again on each sync state is enough;
 * and it reads the config cached on the device when it opens (UP-6).
 */
export function useWorkspaceConfig(): ScopeConfig {
  const { engine, sync, storageOpen$ } = useServices();
  useObservable(sync.state$, sync.current);
  useObservable(storageOpen$, false);
  return engine.config;
}
