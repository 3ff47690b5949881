import { createContext, useContext, type ReactNode } from 'react';
import type { Observable } from 'rxjs';
import type { DeviceEngine } from '../../../shared/device/engine.ts';
import type { SyncController } from '../sync/sync-controller.ts';

/** Everything the screens read from: the device engine, the sync controller and the app's own state. */
export interface AppServices {
  readonly engine: DeviceEngine;
  readonly sync: SyncController;
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
