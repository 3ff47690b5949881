/**
 * One running copy per user: the app's IndexedDB (the device's RxDB store) must have a single
 * writer. A second launch hands over to the first, which restores and focuses its window.
 */
export interface SingleInstanceApp {
  requestSingleInstanceLock(): boolean;
  quit(): void;
  on(event: 'second-instance', listener: () => void): unknown;
}

export interface FocusableWindow {
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
}

/** False (after asking the app to quit) when another instance holds the lock. */
export function claimSingleInstance(
  app: SingleInstanceApp,
  mainWindow: () => FocusableWindow | null,
): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => {
    const window = mainWindow();
    if (window === null) return;
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  });
  return true;
}
