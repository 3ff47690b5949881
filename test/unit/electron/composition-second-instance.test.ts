/** SPEC ES-11 at the composition root: without the lock the app quits and sets nothing up. */
import { describe, expect, it, vi } from 'vitest';
import { FakeBrowserWindow, fakeElectron, settle } from './fake-electron.ts';

vi.mock('electron', () => import('./fake-electron.ts').then((m) => m.fakeElectron));

describe('ES-11 a second launch', () => {
  it('quits at once and registers no handler, protocol or window', async () => {
    fakeElectron.app.hasLock = false;
    await import('../../../electron/main/index.ts');
    fakeElectron.app.becomeReady();
    await settle();
    expect(fakeElectron.app.quit).toHaveBeenCalledTimes(1);
    expect(fakeElectron.app.listenerCount('web-contents-created')).toBe(0);
    expect(fakeElectron.protocol.handle).not.toHaveBeenCalled();
    expect(fakeElectron.ipcMain.handle).not.toHaveBeenCalled();
    expect(FakeBrowserWindow.instances).toHaveLength(0);
  });
});
