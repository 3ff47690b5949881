/**
 * The renderer's one seam to its host. In the desktop app the preload exposes
 * `window.identitySync` (the `AppBridge` of `shared/ipc`); in a browser there is none and the
 * web fallbacks apply. No other renderer module may touch `window.identitySync`.
 */
import {
  BRIDGE_GLOBAL,
  ExternalUrlSchema,
  type AppBridge,
  type BridgeResult,
} from '../../../shared/ipc/bridge.ts';

declare global {
  interface Window {
    /** Present only in the desktop app (set by electron/preload). */
    readonly identitySync?: AppBridge;
  }
}

/** Keeps a credential encrypted by the OS keychain; rejects with `SealingError` when the OS refuses. */
export interface CredentialSealer {
  seal(plain: string): Promise<string>;
  unseal(sealed: string): Promise<string>;
}

export interface Platform {
  readonly kind: 'desktop' | 'web';
  version(): Promise<string>;
  /** Opens an http(s) URL in the user's browser; anything else answers `invalid-argument`. */
  openExternal(url: string): Promise<BridgeResult<string>>;
  /**
   * Null on the web, and on a desktop whose OS offers no secret store: keep the credential in
   * IndexedDB then, as the browser build does.
   */
  readonly credentialSealer: CredentialSealer | null;
}

export class SealingError extends Error {
  override readonly name = 'SealingError';
}

function unwrap(result: BridgeResult<string>): string {
  if (result.ok) return result.value;
  throw new SealingError(`Secret storage refused the operation: ${result.error}`);
}

function webVersion(): string {
  const version: unknown = import.meta.env['VITE_APP_VERSION'];
  return typeof version === 'string' && version !== '' ? version : 'web';
}

export function webPlatform(open: Window['open']): Platform {
  return {
    kind: 'web',
    version: () => Promise.resolve(webVersion()),
    openExternal(url) {
      const parsed = ExternalUrlSchema.safeParse(url);
      if (!parsed.success) return Promise.resolve({ ok: false, error: 'invalid-argument' });
      open(parsed.data, '_blank', 'noopener,noreferrer');
      return Promise.resolve({ ok: true, value: parsed.data });
    },
    credentialSealer: null,
  };
}

export function desktopPlatform(bridge: AppBridge): Platform {
  return {
    kind: 'desktop',
    version: () => bridge.version(),
    openExternal: (url) => bridge.openExternal(url),
    credentialSealer: bridge.sealingAvailable
      ? {
          seal: async (plain) => unwrap(await bridge.sealSecret(plain)),
          unseal: async (sealed) => unwrap(await bridge.unsealSecret(sealed)),
        }
      : null,
  };
}

/** The platform this renderer runs on, decided once when the module loads. */
export const platform: Platform =
  window[BRIDGE_GLOBAL] === undefined
    ? webPlatform((...args) => window.open(...args))
    : desktopPlatform(window[BRIDGE_GLOBAL]);
