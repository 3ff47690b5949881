/**
 * Navigation policy for every webContents (Actual Budget style: pure decisions, injected
 * effects). The app's pages never leave `app://identity-sync/`: any other navigation, redirect
 * or frame navigation is cancelled; `window.open` is always denied; a top-level link to an
 * http(s) URL is passed to the user's browser instead. `javascript:`, `file:`, `data:`, other
 * schemes and other app hosts are refused without being opened anywhere.
 */
import { isAppUrl } from '../app-origin.ts';
import { openIfExternal, type OpenExternal } from './external-links.ts';

export type NavigationKind = 'navigate' | 'redirect' | 'frame-navigate';

export type NavigationVerdict =
  { readonly action: 'allow' } | { readonly action: 'deny'; readonly openExternally: boolean };

/**
 * `navigate` is a top-level link the user followed: an http(s) target opens in the browser.
 * Redirects and frame navigations are not user gestures and are only cancelled.
 */
export function navigationVerdict(url: string, kind: NavigationKind): NavigationVerdict {
  if (isAppUrl(url)) return { action: 'allow' };
  return { action: 'deny', openExternally: kind === 'navigate' };
}

/** The minimal event surface of Electron's `Event`. */
export interface Preventable {
  preventDefault(): void;
}

/** The parts of `WebContents` the guard uses, so tests can pass a fake. */
export interface GuardedContents {
  on(event: 'will-navigate', listener: (event: Preventable, url: string) => void): unknown;
  on(event: 'will-redirect', listener: (event: Preventable, url: string) => void): unknown;
  on(
    event: 'will-frame-navigate',
    listener: (event: Preventable & { url: string; isMainFrame: boolean }) => void,
  ): unknown;
  on(event: 'will-attach-webview', listener: (event: Preventable) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

function enforce(event: Preventable, url: string, kind: NavigationKind, open: OpenExternal): void {
  const verdict = navigationVerdict(url, kind);
  if (verdict.action === 'allow') return;
  event.preventDefault();
  if (verdict.openExternally) openIfExternal(url, open);
}

/** Installs the policy on one webContents (called from `web-contents-created` for all of them). */
export function guardWebContents(contents: GuardedContents, open: OpenExternal): void {
  contents.on('will-navigate', (event, url) => enforce(event, url, 'navigate', open));
  contents.on('will-redirect', (event, url) => enforce(event, url, 'redirect', open));
  // Fires for the main frame too (after will-navigate, which already decided); subframes only here.
  contents.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame) enforce(event, event.url, 'frame-navigate', open);
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openIfExternal(url, open);
    return { action: 'deny' };
  });
}
