/**
 * Where this app syncs to, kept in localStorage: a server (URL and input key; a key-only input key
 * is meant for browsers and is not a secret) or the choice to stay local-only. `null` means the
 * first-run question was never answered.
 */
import { z } from 'zod';

export const ServerUrlSchema = z
  .string()
  .trim()
  .min(1, 'Enter the server address, like https://ids.example.com')
  .pipe(
    z.url({
      protocol: /^https?$/,
      error: 'Enter a web address starting with http:// or https://, like https://ids.example.com',
    }),
  )
  .transform((url) => url.replace(/\/+$/, ''));

export const ApiKeySchema = z
  .string()
  .trim()
  .min(1, 'Enter the input key the server administrator gave you')
  .max(256, 'This is too long for an input key');

export const ConnectionSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('server'),
    serverUrl: ServerUrlSchema,
    apiKey: ApiKeySchema,
    workspaceName: z.string().max(200).nullable().default(null),
  }),
  z.object({ kind: z.literal('local') }),
]);
export type Connection = z.output<typeof ConnectionSchema>;
export type ServerConnection = Extract<Connection, { kind: 'server' }>;

const CONNECTION_KEY = 'identity-sync:connection';
const WORK_OFFLINE_KEY = 'identity-sync:work-offline';
const LAST_SYNC_KEY = 'identity-sync:last-sync';

/** The app's small settings; a `Storage` so tests can pass their own. */
export class Preferences {
  constructor(private readonly storage: Storage) {}

  connection(): Connection | null {
    const parsed = ConnectionSchema.safeParse(this.json(CONNECTION_KEY));
    return parsed.success ? parsed.data : null;
  }

  setConnection(connection: Connection | null): void {
    if (connection === null) this.storage.removeItem(CONNECTION_KEY);
    else this.storage.setItem(CONNECTION_KEY, JSON.stringify(connection));
  }

  workOffline(): boolean {
    return this.storage.getItem(WORK_OFFLINE_KEY) === 'true';
  }

  setWorkOffline(on: boolean): void {
    this.storage.setItem(WORK_OFFLINE_KEY, String(on));
  }

  lastSyncAt(): number | null {
    const at = Number(this.storage.getItem(LAST_SYNC_KEY));
    return Number.isFinite(at) && at > 0 ? at : null;
  }

  setLastSyncAt(at: number): void {
    this.storage.setItem(LAST_SYNC_KEY, String(at));
  }

  private json(key: string): unknown {
    const text = this.storage.getItem(key);
    if (text === null) return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return null;
    }
  }
}
