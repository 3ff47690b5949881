/**
 * The application menu, built from Electron's standard roles so every item behaves natively.
 * macOS gets the app menu (About, Services, Hide, Quit); elsewhere File holds Quit and Help holds
 * About. Reload and developer tools appear only in unpackaged (development) runs.
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuContext {
  readonly platform: NodeJS.Platform;
  readonly isPackaged: boolean;
}

export function buildMenuTemplate({ platform, isPackaged }: MenuContext): MenuItemConstructorOptions[] {
  const isMac = platform === 'darwin';
  const development: MenuItemConstructorOptions[] = isPackaged
    ? []
    : [{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, { type: 'separator' }];
  return [
    ...(isMac ? [{ role: 'appMenu' } satisfies MenuItemConstructorOptions] : []),
    { label: 'File', submenu: [isMac ? { role: 'close' } : { role: 'quit' }] },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        ...development,
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    { role: 'help', submenu: isMac ? [] : [{ role: 'about' }] },
  ];
}
