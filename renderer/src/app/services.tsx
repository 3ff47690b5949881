import { createContext, useContext, type ReactNode } from 'react';
import type { Observable } from 'rxjs';
import type { SyncController } from '../sync/sync-controller.ts';
import type { FieldEngine } from './opening-engine.ts';

/** Everything the screens read from: the device engine, the sync controller and the app's own state. */
export interface AppServices {
  readonly engine: FieldEngine;
  readonly sync: SyncController;
  /** Whether the device database and the engine are open yet (the screens render before, UP-6). */
  readonly storageOpen$: Observable<boolean>;
  /** Whether the browser keeps this app's storage under pressure: `null` when it cannot say. */
  readonly persistentStorage$: Observable<boolean | null>;
  /** Set when a new version of the app is installed and waiting; calling it reloads into it. */
  readonly update$: Observable<(() => void) | null>;
}

const ServicesContext = createContext<AppServices | null>(null);

export function ServicesProvider({ services, children }: { services: AppServices; children: ReactNode }) {
  return <ServicesContext value={services}>{children}</ServicesContext>;
}

export function useServices(): AppServices {
  const services = useContext(ServicesContext);
  if (services === null) throw new Error('useServices outside <ServicesProvider>');
  return services;
}
