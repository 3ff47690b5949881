/**
 * The navigation policy (SPEC ES-2, ES-3) against hostile URLs, through the same listeners
 * Electron calls: nothing navigates away from app://identity-sync/, window.open is always denied,
 * and only http(s) URLs reach the opener.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { externalUrl } from '../../../electron/main/security/external-links.ts';
import { guardWebContents, navigationVerdict } from '../../../electron/main/security/navigation.ts';

const HOSTILE = [
  'javascript:alert(1)',
  'file:///etc/passwd',
  'data:text/html,<script>alert(1)</script>',
  'app://other-host/index.html',
  'app:/identity-sync/../etc',
  'chrome://settings',
  'vbscript:msgbox(1)',
  'about:blank',
  'ftp://example.com/x',
  'https://bank.example@evil.example/',
  '//evil.example/',
  '',
  `https://example.com/${'a'.repeat(2048)}`,
];

class FakeContents extends EventEmitter {
  handler: ((details: { url: string }) => { action: 'deny' }) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
    this.handler = handler;
  }
}

function guarded() {
  const contents = new FakeContents();
  const open = vi.fn((_url: string) => Promise.resolve());
  guardWebContents(contents, open);
  const fire = (event: string, ...args: unknown[]) => {
    const preventDefault = vi.fn();
    contents.emit(event, { preventDefault }, ...args);
    return preventDefault.mock.calls.length > 0;
  };
  const fireFrame = (url: string, isMainFrame: boolean) => {
    const preventDefault = vi.fn();
    contents.emit('will-frame-navigate', { preventDefault, url, isMainFrame });
    return preventDefault.mock.calls.length > 0;
  };
  return { contents, open, fire, fireFrame };
}

describe('ES-2 navigation stays on the app origin', () => {
  it('allows the app origin and nothing else', () => {
    expect(navigationVerdict('app://identity-sync/index.html#/people', 'navigate')).toEqual({
      action: 'allow',
    });
    expect(navigationVerdict('app://identity-sync/', 'redirect')).toEqual({ action: 'allow' });
    for (const url of HOSTILE) {
      expect(navigationVerdict(url, 'redirect'), url).toEqual({ action: 'deny', openExternally: false });
    }
    expect(navigationVerdict('https://evil.example', 'navigate')).toEqual({
      action: 'deny',
      openExternally: true,
    });
  });

  it.each(HOSTILE)('will-navigate to %j is cancelled and opened nowhere', (url) => {
    const { fire, open } = guarded();
    expect(fire('will-navigate', url)).toBe(true);
    expect(open).not.toHaveBeenCalled();
  });

  it('will-navigate to an https page is cancelled and handed to the browser, normalised', () => {
    const { fire, open } = guarded();
    expect(fire('will-navigate', 'HTTPS://Docs.Example/guide?q=1')).toBe(true);
    expect(open.mock.calls).toEqual([['https://docs.example/guide?q=1']]);
  });

  it('in-app navigation goes ahead', () => {
    const { fire, fireFrame, open } = guarded();
    expect(fire('will-navigate', 'app://identity-sync/index.html')).toBe(false);
    expect(fire('will-redirect', 'app://identity-sync/index.html')).toBe(false);
    expect(fireFrame('app://identity-sync/frame.html', false)).toBe(false);
    expect(open).not.toHaveBeenCalled();
  });

  it('a redirect away from the app is cancelled and not opened, even to https', () => {
    const { fire, open } = guarded();
    expect(fire('will-redirect', 'https://evil.example/')).toBe(true);
    expect(fire('will-redirect', 'file:///etc/passwd')).toBe(true);
    expect(open).not.toHaveBeenCalled();
  });

  it('a subframe cannot navigate away; the main frame is left to will-navigate', () => {
    const { fireFrame, open } = guarded();
    expect(fireFrame('https://evil.example/', false)).toBe(true);
    expect(fireFrame('javascript:alert(1)', false)).toBe(true);
    expect(fireFrame('https://evil.example/', true)).toBe(false);
    expect(open).not.toHaveBeenCalled();
  });

  it('webviews are never attached', () => {
    const { fire } = guarded();
    expect(fire('will-attach-webview')).toBe(true);
  });
});

describe('ES-3 window.open is denied; only http(s) reaches the browser', () => {
  it.each(HOSTILE)('window.open(%j) is denied and opened nowhere', (url) => {
    const { contents, open } = guarded();
    expect(contents.handler?.({ url })).toEqual({ action: 'deny' });
    expect(open).not.toHaveBeenCalled();
  });

  it('window.open of an https URL is denied in the app and opened in the browser', () => {
    const { contents, open } = guarded();
    expect(contents.handler?.({ url: 'https://example.com/help' })).toEqual({ action: 'deny' });
    expect(contents.handler?.({ url: 'http://192.168.1.10:8080/admin' })).toEqual({ action: 'deny' });
    expect(open.mock.calls).toEqual([['https://example.com/help'], ['http://192.168.1.10:8080/admin']]);
  });

  it('a failing opener does not surface as an unhandled rejection', async () => {
    const contents = new FakeContents();
    const open = vi.fn(() => Promise.reject(new Error('no browser')));
    guardWebContents(contents, open);
    expect(contents.handler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(open).toHaveBeenCalledTimes(1);
  });

  it('externalUrl accepts absolute http(s) only', () => {
    expect(externalUrl('https://example.com')).toBe('https://example.com/');
    expect(externalUrl(42)).toBeNull();
    expect(externalUrl(null)).toBeNull();
    expect(externalUrl('mailto:a@example.com')).toBeNull();
    expect(externalUrl('/relative/path')).toBeNull();
  });
});
