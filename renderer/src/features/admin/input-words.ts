/**
 * How the console words an input's kind (AC-36) and builds the device connect link for a
 * key-only input, the same link the server prints at start-up (`/app/#/connect?server=…&key=…`).
 */
import type { InputSummary } from '../../../../shared/protocol/admin-inputs.ts';

export type InputKind = 'server' | 'key_only' | 'sync_only';

/** What each kind the create form offers sends to the server. */
export const INPUT_KINDS: Readonly<
  Record<InputKind, { allowKeyOnly: boolean; syncOnly: boolean; label: string }>
> = {
  server: { allowKeyOnly: false, syncOnly: false, label: 'Server to server (key and secret)' },
  key_only: {
    allowKeyOnly: true,
    syncOnly: false,
    label: 'Key only (browsers and apps that keep no secret)',
  },
  sync_only: {
    allowKeyOnly: true,
    syncOnly: true,
    label: 'Device sync only (devices register with the key)',
  },
};

/** An input's kind in one sentence: what its key (and secret) opens. */
export function inputKindInWords(input: Pick<InputSummary, 'allowKeyOnly' | 'syncOnly'>): string {
  if (input.syncOnly)
    return input.allowKeyOnly
      ? 'Device sync only: devices register with the key alone; the IDSync API refuses it.'
      : 'Device sync only, with the secret; the IDSync API refuses it.';
  return input.allowKeyOnly
    ? 'Key only: the key alone opens the IDSync API and device sync.'
    : 'Server to server: the IDSync API with the key and secret (Basic or HMAC).';
}

/**
 * The link another device opens to connect to this server with `key`: the server's base is the
 * page's own URL above `/app/`, behind any path prefix (as the admin API's, AC-6).
 */
export function deviceConnectLink(pageUrl: string, key: string): string {
  const base = new URL('..', new URL('.', new URL(pageUrl))).href.replace(/\/$/, '');
  return `${base}/app/#/connect?server=${encodeURIComponent(base)}&key=${encodeURIComponent(key)}`;
}
