/** The application menu (SPEC ES-12): native roles, a macOS app menu, no dev tools when packaged. */
import { describe, expect, it } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { buildMenuTemplate } from '../../../electron/main/menu.ts';

function roles(items: MenuItemConstructorOptions[]): unknown[] {
  return items.map((item) =>
    Array.isArray(item.submenu)
      ? { [item.role ?? item.label ?? '']: roles(item.submenu) }
      : (item.role ?? item.type),
  );
}

describe('ES-12 application menu', () => {
  it('macOS: app menu first, Close in File, no About in Help', () => {
    expect(roles(buildMenuTemplate({ platform: 'darwin', isPackaged: true }))).toEqual([
      'appMenu',
      { File: ['close'] },
      'editMenu',
      { View: ['resetZoom', 'zoomIn', 'zoomOut', 'separator', 'togglefullscreen'] },
      'windowMenu',
      { help: [] },
    ]);
  });

  it('Windows and Linux: Quit in File, About in Help', () => {
    expect(roles(buildMenuTemplate({ platform: 'win32', isPackaged: true }))).toEqual([
      { File: ['quit'] },
      'editMenu',
      { View: ['resetZoom', 'zoomIn', 'zoomOut', 'separator', 'togglefullscreen'] },
      'windowMenu',
      { help: ['about'] },
    ]);
  });

  it('reload and developer tools only in development', () => {
    const view = buildMenuTemplate({ platform: 'linux', isPackaged: false }).find(
      (item) => item.label === 'View',
    );
    expect(roles(view?.submenu as MenuItemConstructorOptions[]).slice(0, 4)).toEqual([
      'reload',
      'forceReload',
      'toggleDevTools',
      'separator',
    ]);
  });
});
