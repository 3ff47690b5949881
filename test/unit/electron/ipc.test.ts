/**
 * The main-process IPC handlers (SPEC ES-4, ES-5, ES-6): arguments are parsed with the shared
 * schemas, refusals are values, and a refused call never reaches `shell.openExternal` or
 * `safeStorage`.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { registerIpcHandlers, type IpcListener } from '../../../electron/main/ipc.ts';
import { createSecretSealer } from '../../../electron/main/secret-sealer.ts';
import { APP_CHANNELS, isAppChannel } from '../../../shared/ipc/bridge.ts';

const APP_PAGE = { senderFrame: { url: 'app://identity-sync/index.html#/settings' } };

function fakeSafeStorage() {
  return {
    isAsyncEncryptionAvailable: vi.fn(() => Promise.resolve(true)),
    encryptStringAsync: vi.fn((plain: string) => Promise.resolve(Buffer.from(`sealed:${plain}`))),
    decryptStringAsync: vi.fn((sealed: Buffer) => {
      const text = sealed.toString();
      return text.startsWith('sealed:')
        ? Promise.resolve({ result: text.slice('sealed:'.length) })
        : Promise.reject(
            new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.'),
          );
    }),
    getSelectedStorageBackend: vi.fn(() => 'gnome_libsecret'),
  };
}

let storage: ReturnType<typeof fakeSafeStorage>;
let openExternal: ReturnType<typeof vi.fn<(url: string) => Promise<void>>>;
let handlers: Map<string, IpcListener>;

function setUp(platform: NodeJS.Platform = 'linux') {
  storage = fakeSafeStorage();
  openExternal = vi.fn((_url: string) => Promise.resolve());
  handlers = new Map();
  registerIpcHandlers(
    { handle: (channel, listener) => handlers.set(channel, listener) },
    { version: '1.2.3', openExternal, sealer: createSecretSealer(storage, platform) },
  );
}

function call(channel: string, ...args: unknown[]): Promise<unknown> {
  const handler = handlers.get(channel);
  if (handler === undefined) throw new Error(`no handler for ${channel}`);
  return handler(APP_PAGE, ...args);
}

function expectNoEffect(): void {
  expect(openExternal).not.toHaveBeenCalled();
  expect(storage.encryptStringAsync).not.toHaveBeenCalled();
  expect(storage.decryptStringAsync).not.toHaveBeenCalled();
}

beforeEach(() => setUp());

describe('ES-4 channels', () => {
  it('registers exactly the app: channels of the contract', () => {
    expect([...handlers.keys()].sort()).toEqual([
      'app:open-external',
      'app:seal-secret',
      'app:unseal-secret',
      'app:version',
    ]);
    expect(Object.values(APP_CHANNELS).every((channel) => channel.startsWith('app:'))).toBe(true);
  });

  it('the allowlist admits contract channels only', () => {
    expect(isAppChannel('app:version')).toBe(true);
    for (const channel of ['app:shell', 'version', 'APP:VERSION', 'app:version ', 42, null, undefined, {}]) {
      expect(isAppChannel(channel), JSON.stringify(channel) ?? 'undefined').toBe(false);
    }
  });
});

describe('ES-5 arguments are parsed before anything happens', () => {
  it('answers the version', async () => {
    expect(await call('app:version')).toEqual({ ok: true, value: '1.2.3' });
  });

  it.each<[string, unknown[]]>([
    ['no argument', []],
    ['a number', [42]],
    ['null', [null]],
    ['an object', [{ toString: () => 'https://example.com' }]],
    ['an array', [['https://example.com']]],
    ['two arguments', ['https://example.com', 'https://example.org']],
    ['javascript:', ['javascript:alert(1)']],
    ['file:', ['file:///etc/passwd']],
    ['data:', ['data:text/html,<h1>x</h1>']],
    ['app: of another host', ['app://other-host/']],
    ['a relative URL', ['/settings']],
    ['user info', ['https://bank.example@evil.example/']],
    ['an extra-long URL', [`https://example.com/${'a'.repeat(2100)}`]],
  ])('app:open-external refuses %s', async (_name, args) => {
    expect(await call('app:open-external', ...args)).toEqual({ ok: false, error: 'invalid-argument' });
    expectNoEffect();
  });

  it('app:open-external opens a valid http(s) URL, normalised, and answers it', async () => {
    expect(await call('app:open-external', 'https://Example.com/docs')).toEqual({
      ok: true,
      value: 'https://example.com/docs',
    });
    expect(openExternal.mock.calls).toEqual([['https://example.com/docs']]);
  });

  it('app:open-external answers failed when the OS cannot open it', async () => {
    openExternal.mockRejectedValueOnce(new Error('no handler'));
    expect(await call('app:open-external', 'https://example.com/')).toEqual({ ok: false, error: 'failed' });
  });

  it('app:version refuses arguments it does not take', async () => {
    expect(await call('app:version', 'extra')).toEqual({ ok: false, error: 'invalid-argument' });
  });

  it.each<[string, string, unknown[]]>([
    ['seal: no argument', 'app:seal-secret', []],
    ['seal: a number', 'app:seal-secret', [1234]],
    ['seal: empty', 'app:seal-secret', ['']],
    ['seal: extra-long', 'app:seal-secret', ['x'.repeat(4097)]],
    ['seal: two arguments', 'app:seal-secret', ['a', 'b']],
    ['unseal: not base64', 'app:unseal-secret', ['not base64!']],
    ['unseal: a buffer-like object', 'app:unseal-secret', [{ type: 'Buffer', data: [1, 2] }]],
    ['unseal: extra-long', 'app:unseal-secret', ['QUFB'.repeat(4097)]],
  ])('%s is refused', async (_name, channel, args) => {
    expect(await call(channel, ...args)).toEqual({ ok: false, error: 'invalid-argument' });
    expectNoEffect();
  });

  it('calls from any page other than the app are refused', async () => {
    const handler = handlers.get('app:open-external')!;
    for (const senderFrame of [{ url: 'https://evil.example/' }, { url: 'file:///tmp/x.html' }, null]) {
      expect(await handler({ senderFrame }, 'https://example.com/')).toEqual({
        ok: false,
        error: 'untrusted-sender',
      });
    }
    expectNoEffect();
  });
});

describe('ES-6 secrets are sealed only by a real OS secret store', () => {
  it('seals and unseals through safeStorage, as base64', async () => {
    const sealed = await call('app:seal-secret', 'device-secret');
    expect(sealed).toEqual({ ok: true, value: Buffer.from('sealed:device-secret').toString('base64') });
    const value = (sealed as { value: string }).value;
    expect(await call('app:unseal-secret', value)).toEqual({ ok: true, value: 'device-secret' });
  });

  it('answers unavailable when the OS has no secret store, without encrypting', async () => {
    storage.isAsyncEncryptionAvailable.mockResolvedValue(false);
    expect(await call('app:seal-secret', 'device-secret')).toEqual({ ok: false, error: 'unavailable' });
    expect(await call('app:unseal-secret', 'QUFB')).toEqual({ ok: false, error: 'unavailable' });
    expectNoEffect();
  });

  it("treats Linux's basic_text backend (a hard-coded password) as unavailable", async () => {
    storage.getSelectedStorageBackend.mockReturnValue('basic_text');
    expect(await call('app:seal-secret', 'device-secret')).toEqual({ ok: false, error: 'unavailable' });
    expectNoEffect();
  });

  it('the backend check is Linux-only', async () => {
    setUp('darwin');
    storage.getSelectedStorageBackend.mockImplementation(() => {
      throw new Error('not on macOS');
    });
    expect(await call('app:seal-secret', 'k')).toEqual({
      ok: true,
      value: Buffer.from('sealed:k').toString('base64'),
    });
  });

  it('a ciphertext the keychain cannot decrypt answers failed', async () => {
    expect(await call('app:unseal-secret', Buffer.from('tampered').toString('base64'))).toEqual({
      ok: false,
      error: 'failed',
    });
  });

  it('an encryption error answers failed', async () => {
    storage.encryptStringAsync.mockRejectedValueOnce(new Error('keychain locked'));
    expect(await call('app:seal-secret', 'k')).toEqual({ ok: false, error: 'failed' });
  });
});
