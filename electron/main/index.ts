/**
 * Composition root of the desktop app: registers the app:// scheme before ready, claims the
 * single-instance lock, guards every webContents, then (once ready) denies permissions, serves
 * the renderer, wires IPC, sets the menu and opens the main window.
 */
import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, safeStorage, session, shell } from 'electron';
import { APP_SCHEME } from './app-origin.ts';
import { createAppProtocolHandler, registerAppScheme } from './app-protocol.ts';
import { registerIpcHandlers } from './ipc.ts';
import { buildMenuTemplate } from './menu.ts';
import { createSecretSealer } from './secret-sealer.ts';
import { guardWebContents } from './security/navigation.ts';
import { denyAllPermissions } from './security/permissions.ts';
import { claimSingleInstance } from './single-instance.ts';
import { createMainWindow } from './window.ts';

/** Bundles sit side by side in `out/`: out/main/index.js, out/preload/index.cjs, out/renderer/. */
const BUNDLE_DIR = import.meta.dirname;
const RENDERER_DIR = path.join(BUNDLE_DIR, '..', 'renderer');
const PRELOAD_FILE = path.join(BUNDLE_DIR, '..', 'preload', 'index.cjs');

let mainWindow: BrowserWindow | null = null;

const openExternal = (url: string): Promise<void> => shell.openExternal(url);
const sealer = createSecretSealer(safeStorage, process.platform);

async function openMainWindow(): Promise<void> {
  const window = await createMainWindow({
    preload: PRELOAD_FILE,
    userData: app.getPath('userData'),
    title: app.getName(),
    isSealingAvailable: await sealer.isAvailable(),
  });
  mainWindow = window;
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
}

function fail(error: unknown): void {
  dialog.showErrorBox(
    'Identity Sync could not start',
    error instanceof Error ? error.message : String(error),
  );
  app.exit(1);
}

registerAppScheme(protocol);

if (claimSingleInstance(app, () => mainWindow)) {
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, openExternal));

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) openMainWindow().catch(fail);
  });

  app
    .whenReady()
    .then(async () => {
      denyAllPermissions(session.defaultSession);
      protocol.handle(APP_SCHEME, createAppProtocolHandler(RENDERER_DIR));
      registerIpcHandlers(ipcMain, {
        version: app.getVersion(),
        openExternal,
        sealer,
      });
      Menu.setApplicationMenu(
        Menu.buildFromTemplate(buildMenuTemplate({ platform: process.platform, isPackaged: app.isPackaged })),
      );
      await openMainWindow();
    })
    .catch(fail);
}
