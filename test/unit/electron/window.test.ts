/**
 * The main window (SPEC ES-1) with `electron` mocked: exact webPreferences, app:// only, hidden
 * until ready, bounds restored and saved.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMainWindow, secureWebPreferences } from '../../../electron/main/window.ts';
import { FakeBrowserWindow, fakeElectron } from './fake-electron.ts';

vi.mock('electron', () => import('./fake-electron.ts').then((m) => m.fakeElectron));

let userData: string;
beforeEach(async () => {
  userData = await mkdtemp(path.join(tmpdir(), 'window-'));
  FakeBrowserWindow.instances = [];
});
afterEach(() => rm(userData, { recursive: true, force: true }));

const open = (isSealingAvailable = true) =>
  createMainWindow({
    preload: '/app/out/preload/index.cjs',
    userData,
    title: 'Identity Sync',
    isSealingAvailable,
  });

describe('ES-1 the main window', () => {
  it('has exactly the secure webPreferences', () => {
    expect(secureWebPreferences('/p.cjs', false)).toEqual({
      preload: '/p.cjs',
      additionalArguments: ['--identity-sync-sealing=unavailable'],
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: true,
    });
  });

  it('is created hidden with those preferences, loads only app://, and shows when ready', async () => {
    const window = await open();
    expect(FakeBrowserWindow.instances).toHaveLength(1);
    const fake = FakeBrowserWindow.instances[0]!;
    expect(window).toBe(fake);
    expect(fake.options).toMatchObject({
      show: false,
      width: 1280,
      height: 800,
      minWidth: 800,
      minHeight: 560,
    });
    expect(fake.options['webPreferences']).toEqual(secureWebPreferences('/app/out/preload/index.cjs', true));
    expect(fake.loadURL.mock.calls).toEqual([['app://identity-sync/index.html']]);
    expect(fake.show).not.toHaveBeenCalled();
    fake.emit('ready-to-show');
    expect(fake.show).toHaveBeenCalledTimes(1);
  });

  it('restores saved bounds and maximises', async () => {
    await writeFile(
      path.join(userData, 'window-state.json'),
      JSON.stringify({ x: 100, y: 100, width: 1000, height: 700, isMaximized: true }),
    );
    await open();
    const fake = FakeBrowserWindow.instances[0]!;
    expect(fake.options).toMatchObject({ x: 100, y: 100, width: 1000, height: 700 });
    expect(fake.options).not.toHaveProperty('isMaximized');
    expect(fake.maximize).toHaveBeenCalledTimes(1);
  });

  it('saves its normal bounds when it closes', async () => {
    fakeElectron.screen.getAllDisplays.mockReturnValueOnce([
      { workArea: { x: 0, y: 0, width: 1920, height: 1080 } },
    ]);
    await open();
    const fake = FakeBrowserWindow.instances[0]!;
    fake.maximized = true;
    fake.emit('close');
    const saved = await vi.waitFor(() => readFile(path.join(userData, 'window-state.json'), 'utf8'));
    expect(JSON.parse(saved)).toEqual({
      x: 10,
      y: 20,
      width: 900,
      height: 700,
      isMaximized: true,
    });
  });
});
