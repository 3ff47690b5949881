/**
 * What the app may ask of the platform it runs on. This minimal version is the web app's (no
 * desktop bridge): the Electron build replaces it with one backed by `window.identitySync`.
 */
export interface CredentialSealer {
  seal(plain: string): Promise<string>;
  unseal(sealed: string): Promise<string>;
}

export interface Platform {
  readonly kind: 'desktop' | 'web';
  version(): Promise<string>;
  openExternal(url: string): Promise<void>;
  /** Keeps the device credential encrypted by the OS keychain; `null` where there is none. */
  readonly credentialSealer: CredentialSealer | null;
}

export const platform: Platform = {
  kind: 'web',
  version: () => Promise.resolve(String(import.meta.env['VITE_APP_VERSION'] ?? 'dev')),
  openExternal: (url) => {
    window.open(url, '_blank', 'noopener,noreferrer');
    return Promise.resolve();
  },
  credentialSealer: null,
};
