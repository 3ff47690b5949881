/**
 * The preload (SPEC ES-4) with `electron` mocked: one object on `window.identitySync`, plain
 * functions and data only, every call on an allowlisted channel, answers checked against the
 * contract.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { AppBridge } from '../../../shared/ipc/bridge.ts';
import { fakeElectron } from './fake-electron.ts';

vi.mock('electron', () => import('./fake-electron.ts').then((m) => m.fakeElectron));

let api: AppBridge;

beforeAll(async () => {
  process.argv.push('--identity-sync-sealing=available');
  await import('../../../electron/preload/index.ts');
  process.argv.pop();
  api = fakeElectron.contextBridge.exposeInMainWorld.mock.calls[0]![1] as AppBridge;
});

describe('ES-4 the preload bridge', () => {
  it('exposes exactly one object, identitySync, of plain functions and data', () => {
    expect(fakeElectron.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    expect(fakeElectron.contextBridge.exposeInMainWorld.mock.calls[0]![0]).toBe('identitySync');
    expect(Object.keys(api).sort()).toEqual([
      'openExternal',
      'sealSecret',
      'sealingAvailable',
      'unsealSecret',
      'version',
    ]);
    expect(api.sealingAvailable).toBe(true);
    for (const [key, value] of Object.entries(api)) {
      if (key !== 'sealingAvailable') expect(typeof value, key).toBe('function');
    }
  });

  it('invokes only app: channels with the caller’s arguments', async () => {
    const invoke = fakeElectron.ipcRenderer.invoke;
    invoke.mockReset();
    invoke.mockResolvedValueOnce({ ok: true, value: '1.2.3' });
    invoke.mockResolvedValueOnce({ ok: true, value: 'https://example.com/' });
    invoke.mockResolvedValueOnce({ ok: true, value: 'c2VhbGVk' });
    invoke.mockResolvedValueOnce({ ok: false, error: 'unavailable' });
    expect(await api.version()).toBe('1.2.3');
    expect(await api.openExternal('https://example.com')).toEqual({
      ok: true,
      value: 'https://example.com/',
    });
    expect(await api.sealSecret('secret')).toEqual({ ok: true, value: 'c2VhbGVk' });
    expect(await api.unsealSecret('c2VhbGVk')).toEqual({ ok: false, error: 'unavailable' });
    expect(invoke.mock.calls).toEqual([
      ['app:version'],
      ['app:open-external', 'https://example.com'],
      ['app:seal-secret', 'secret'],
      ['app:unseal-secret', 'c2VhbGVk'],
    ]);
  });

  it('rejects an answer that breaks the contract instead of passing it to the page', async () => {
    const invoke = fakeElectron.ipcRenderer.invoke;
    invoke.mockResolvedValueOnce({ ok: true, value: 42 });
    await expect(api.sealSecret('x')).rejects.toThrow();
    invoke.mockResolvedValueOnce({ ok: false, error: 'something-else' });
    await expect(api.openExternal('https://example.com')).rejects.toThrow();
    invoke.mockResolvedValueOnce({ ok: false, error: 'untrusted-sender' });
    await expect(api.version()).rejects.toThrow('app:version refused: untrusted-sender');
  });
});
