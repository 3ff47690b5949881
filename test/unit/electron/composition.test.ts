/**
 * The composition root (electron/main/index.ts) with `electron` mocked: what it registers before
 * and after ready (SPEC ES-1, ES-2, ES-5, ES-7, ES-9).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../../shared/ipc/csp.ts';
import { FakeBrowserWindow, fakeElectron, FakeWebContents, settle } from './fake-electron.ts';

vi.mock('electron', () => import('./fake-electron.ts').then((m) => m.fakeElectron));

const { app, protocol, session, ipcMain, Menu, shell } = fakeElectron;

beforeAll(async () => {
  await import('../../../electron/main/index.ts');
});

describe('before ready', () => {
  it('registers the app scheme and claims the single-instance lock, and opens nothing yet', () => {
    expect(protocol.registerSchemesAsPrivileged).toHaveBeenCalledTimes(1);
    expect(app.requestSingleInstanceLock).toHaveBeenCalledTimes(1);
    expect(app.quit).not.toHaveBeenCalled();
    expect(protocol.handle).not.toHaveBeenCalled();
    expect(FakeBrowserWindow.instances).toHaveLength(0);
  });

  it('ES-2 guards every webContents created, whatever opened it', () => {
    const contents = new FakeWebContents();
    app.emit('web-contents-created', {}, contents);
    expect(contents.windowOpenHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(shell.openExternal).toHaveBeenCalledWith('https://example.com/');
    expect(contents.listenerCount('will-navigate')).toBe(1);
    expect(contents.listenerCount('will-redirect')).toBe(1);
    expect(contents.listenerCount('will-frame-navigate')).toBe(1);
    expect(contents.listenerCount('will-attach-webview')).toBe(1);
  });
});

describe('once ready', () => {
  beforeAll(async () => {
    app.becomeReady();
    await vi.waitFor(() => expect(FakeBrowserWindow.instances[0]?.loadURL).toHaveBeenCalled());
    await settle();
  });

  it('ES-9 denies every permission request and check', () => {
    const [[request]] = session.defaultSession.setPermissionRequestHandler.mock.calls as unknown as [
      [(contents: unknown, permission: string, callback: (granted: boolean) => void) => void],
    ];
    const [[check]] = session.defaultSession.setPermissionCheckHandler.mock.calls as unknown as [
      [() => boolean],
    ];
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) {
      const callback = vi.fn();
      request({}, permission, callback);
      expect(callback.mock.calls, permission).toEqual([[false]]);
    }
    expect(check()).toBe(false);
  });

  it('ES-7 serves the renderer on app:// with the CSP', async () => {
    expect(protocol.handle.mock.calls.map(([scheme]) => scheme as unknown)).toEqual(['app']);
    const handler = protocol.handle.mock.calls[0]![1] as (request: Request) => Promise<Response>;
    const response = await handler(new Request('app://identity-sync/../../package.json'));
    expect(response.status).toBe(404);
    expect(response.headers.get('content-security-policy')).toBeNull();
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
  });

  it('ES-5 registers one handler per contract channel', () => {
    expect(ipcMain.handle.mock.calls.map(([channel]) => channel as unknown).sort()).toEqual([
      'app:open-external',
      'app:seal-secret',
      'app:unseal-secret',
      'app:version',
    ]);
  });

  it('sets the menu and opens one window on app://, told whether sealing is available', () => {
    expect(Menu.setApplicationMenu).toHaveBeenCalledTimes(1);
    expect(FakeBrowserWindow.instances).toHaveLength(1);
    const window = FakeBrowserWindow.instances[0]!;
    expect(window.loadURL.mock.calls).toEqual([['app://identity-sync/index.html']]);
    expect(window.options['webPreferences']).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      additionalArguments: ['--identity-sync-sealing=available'],
    });
    expect(String((window.options['webPreferences'] as { preload: string }).preload)).toMatch(
      /out[/\\]preload[/\\]index\.cjs$|electron[/\\]preload[/\\]index\.cjs$/,
    );
  });

  it('quits when the last window closes, except on macOS', () => {
    app.emit('window-all-closed');
    expect(app.quit).toHaveBeenCalledTimes(process.platform === 'darwin' ? 0 : 1);
  });
});
