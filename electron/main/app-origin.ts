/**
 * The app's own origin. The renderer is served only from `app://identity-sync/`, a privileged
 * custom scheme (see app-protocol.ts), never from file:// or a remote server.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'identity-sync';
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** True when `url` is on the app's origin (scheme and host compared after URL parsing). */
export function isAppUrl(url: string): boolean {
  const parsed = URL.parse(url);
  return parsed !== null && parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
}
