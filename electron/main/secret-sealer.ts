/**
 * Seals credentials with the operating system's keychain through Electron's `safeStorage`
 * (Keychain on macOS, DPAPI on Windows, libsecret/KWallet on Linux).
 *
 * When the OS offers no real secret store — including Linux's `basic_text` backend, which
 * encrypts with a hard-coded password — sealing answers `unavailable` and the renderer keeps the
 * credential in IndexedDB exactly as the browser build does. Nothing is ever thrown at the caller.
 */
import { err, ok } from '../../shared/util/result.ts';
import type { BridgeResult } from '../../shared/ipc/bridge.ts';

/** The parts of Electron's `safeStorage` used here (the asynchronous API). */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string }>;
  getSelectedStorageBackend(): string;
}

export interface SecretSealer {
  isAvailable(): Promise<boolean>;
  seal(plain: string): Promise<BridgeResult<string>>;
  unseal(sealed: string): Promise<BridgeResult<string>>;
}

export function createSecretSealer(storage: SafeStorageLike, platform: NodeJS.Platform): SecretSealer {
  async function isAvailable(): Promise<boolean> {
    if (platform === 'linux' && storage.getSelectedStorageBackend() === 'basic_text') return false;
    return storage.isAsyncEncryptionAvailable().catch(() => false);
  }
  return {
    isAvailable,
    async seal(plain) {
      if (!(await isAvailable())) return err('unavailable');
      try {
        return ok((await storage.encryptStringAsync(plain)).toString('base64'));
      } catch {
        return err('failed');
      }
    },
    async unseal(sealed) {
      if (!(await isAvailable())) return err('unavailable');
      try {
        return ok((await storage.decryptStringAsync(Buffer.from(sealed, 'base64'))).result);
      } catch {
        return err('failed');
      }
    },
  };
}
