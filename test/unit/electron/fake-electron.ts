/**
 * A hand-made stand-in for the `electron` module (no Electron binary can run on these machines).
 * Test files install it with `vi.mock('electron', () => import('./fake-electron.ts').then((m) => m.fakeElectron))`
 * and read the same instance to see what the code under test asked of Electron.
 */
import { EventEmitter } from 'node:events';
import { vi } from 'vitest';

export class FakeWebContents extends EventEmitter {
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static instances: FakeBrowserWindow[] = [];
  static getAllWindows(): FakeBrowserWindow[] {
    return FakeBrowserWindow.instances;
  }
  readonly webContents = new FakeWebContents();
  readonly loadURL = vi.fn((_url: string) => Promise.resolve());
  readonly show = vi.fn();
  readonly focus = vi.fn();
  readonly restore = vi.fn();
  readonly maximize = vi.fn(() => {
    this.maximized = true;
  });
  maximized = false;
  minimized = false;
  normalBounds = { x: 10, y: 20, width: 900, height: 700 };
  constructor(readonly options: Record<string, unknown>) {
    super();
    FakeBrowserWindow.instances.push(this);
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  getNormalBounds() {
    return this.normalBounds;
  }
}

class FakeApp extends EventEmitter {
  hasLock = true;
  isPackaged = false;
  readonly quit = vi.fn();
  readonly exit = vi.fn();
  readonly requestSingleInstanceLock = vi.fn(() => this.hasLock);
  private ready: () => void = () => undefined;
  private readonly readyPromise = new Promise<void>((resolve) => (this.ready = resolve));
  userData = '/nonexistent/user-data';
  whenReady(): Promise<void> {
    return this.readyPromise;
  }
  becomeReady(): void {
    this.ready();
  }
  getPath(_name: string): string {
    return this.userData;
  }
  getName(): string {
    return 'Identity Sync';
  }
  getVersion(): string {
    return '1.2.3';
  }
}

function createFakeElectron() {
  return {
    app: new FakeApp(),
    BrowserWindow: FakeBrowserWindow,
    screen: {
      getAllDisplays: vi.fn(() => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }]),
    },
    protocol: {
      registerSchemesAsPrivileged: vi.fn(),
      handle: vi.fn(),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: vi.fn(),
        setPermissionCheckHandler: vi.fn(),
      },
    },
    ipcMain: { handle: vi.fn() },
    shell: { openExternal: vi.fn((_url: string) => Promise.resolve()) },
    safeStorage: {
      isAsyncEncryptionAvailable: vi.fn(() => Promise.resolve(true)),
      encryptStringAsync: vi.fn((plain: string) => Promise.resolve(Buffer.from(`sealed:${plain}`))),
      decryptStringAsync: vi.fn((sealed: Buffer) =>
        Promise.resolve({ result: sealed.toString().replace(/^sealed:/, ''), shouldReEncrypt: false }),
      ),
      getSelectedStorageBackend: vi.fn(() => 'gnome_libsecret'),
    },
    Menu: {
      buildFromTemplate: vi.fn((template: unknown[]) => ({ template })),
      setApplicationMenu: vi.fn(),
    },
    dialog: { showErrorBox: vi.fn() },
    contextBridge: { exposeInMainWorld: vi.fn() },
    ipcRenderer: {
      invoke: vi.fn((_channel: string, ..._args: unknown[]): Promise<unknown> => Promise.resolve()),
    },
  };
}

export const fakeElectron = createFakeElectron();

/** Runs queued promise callbacks and timers-free async steps until the event loop settles. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
