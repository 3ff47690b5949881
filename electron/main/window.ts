/**
 * The main mainWindow. It loads only the app's own page from app://, with the renderer sandboxed and
 * isolated from the preload; it is shown once the first paint is ready, and its bounds are saved
 * when it closes.
 */
import { BrowserWindow, screen, type WebPreferences } from 'electron';
import { sealingArgument } from '../../shared/ipc/bridge.ts';
import { APP_ENTRY_URL } from './app-origin.ts';
import { loadWindowState, MIN_HEIGHT, MIN_WIDTH, saveWindowState } from './window-state.ts';

/** Fixed for every window; tests assert these exact values. */
export function secureWebPreferences(preload: string, isSealingAvailable: boolean): WebPreferences {
  return {
    preload,
    additionalArguments: [sealingArgument(isSealingAvailable)],
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
  };
}

export interface MainWindowOptions {
  readonly preload: string;
  readonly userData: string;
  readonly title: string;
  readonly isSealingAvailable: boolean;
}

export async function createMainWindow(options: MainWindowOptions): Promise<BrowserWindow> {
  const workAreas = screen.getAllDisplays().map((display) => display.workArea);
  const { isMaximized, ...bounds } = await loadWindowState(options.userData, workAreas);
  const mainWindow = new BrowserWindow({
    ...bounds,
    minWidth: MIN_WIDTH,
    minHeight: MIN_HEIGHT,
    title: options.title,
    show: false,
    backgroundColor: '#ffffff',
    webPreferences: secureWebPreferences(options.preload, options.isSealingAvailable),
  });
  if (isMaximized) mainWindow.maximize();
  mainWindow.once('ready-to-show', () => mainWindow.show());
  mainWindow.on('close', () => {
    const normal = mainWindow.getNormalBounds();
    void saveWindowState(options.userData, { ...normal, isMaximized: mainWindow.isMaximized() }).catch(
      () => undefined,
    );
  });
  await mainWindow.loadURL(APP_ENTRY_URL);
  return mainWindow;
}
