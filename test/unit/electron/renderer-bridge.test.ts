// @vitest-environment happy-dom
/**
 * The renderer's platform seam (SPEC ES-13): web fallbacks without a bridge, the desktop bridge
 * with one, and no sealer where sealing is unavailable.
 */
import { describe, expect, it, vi } from 'vitest';
import { desktopPlatform, SealingError, webPlatform } from '../../../renderer/src/platform/bridge.ts';
import type { AppBridge } from '../../../shared/ipc/bridge.ts';

function bridge(sealingAvailable: boolean): AppBridge {
  return {
    sealingAvailable,
    version: vi.fn(() => Promise.resolve('1.2.3')),
    openExternal: vi.fn((url: string) => Promise.resolve({ ok: true as const, value: url })),
    sealSecret: vi.fn((plain: string) => Promise.resolve({ ok: true as const, value: btoa(plain) })),
    unsealSecret: vi.fn(() => Promise.resolve({ ok: false as const, error: 'failed' as const })),
  };
}

describe('ES-13 the renderer platform', () => {
  it('on the web: no sealer, version "web", and only http(s) opened, without opener', async () => {
    const open = vi.fn<Window['open']>(() => null);
    const web = webPlatform(open);
    expect(web.kind).toBe('web');
    expect(web.credentialSealer).toBeNull();
    expect(await web.version()).toBe('web');
    expect(await web.openExternal('javascript:alert(1)')).toEqual({ ok: false, error: 'invalid-argument' });
    expect(await web.openExternal('file:///etc/passwd')).toEqual({ ok: false, error: 'invalid-argument' });
    expect(open).not.toHaveBeenCalled();
    expect(await web.openExternal('https://Example.com/x')).toEqual({
      ok: true,
      value: 'https://example.com/x',
    });
    expect(open.mock.calls).toEqual([['https://example.com/x', '_blank', 'noopener,noreferrer']]);
  });

  it('on the desktop: delegates to the bridge and unwraps sealing answers', async () => {
    const desktop = desktopPlatform(bridge(true));
    expect(desktop.kind).toBe('desktop');
    expect(await desktop.version()).toBe('1.2.3');
    expect(await desktop.credentialSealer?.seal('abc')).toBe(btoa('abc'));
    await expect(desktop.credentialSealer?.unseal('YWJj')).rejects.toBeInstanceOf(SealingError);
  });

  it('a desktop without a secret store has no sealer', () => {
    expect(desktopPlatform(bridge(false)).credentialSealer).toBeNull();
  });
});
