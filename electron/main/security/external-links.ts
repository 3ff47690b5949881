/**
 * The only way a URL leaves the app: parsed with the shared schema (absolute http(s), no user
 * info, at most 2048 characters), then handed to the injected opener. Pure apart from that
 * effect, so the policy is tested without Electron.
 */
import { ExternalUrlSchema } from '../../../shared/ipc/bridge.ts';

/** The normalised URL when `raw` may be opened in the user's browser, else null. */
export function externalUrl(raw: unknown): string | null {
  const parsed = ExternalUrlSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export type OpenExternal = (url: string) => Promise<void>;

/** Opens `raw` when it passes `externalUrl`; answers whether it was handed to the opener. */
export function openIfExternal(raw: unknown, open: OpenExternal): boolean {
  const url = externalUrl(raw);
  if (url === null) return false;
  void open(url).catch(() => undefined);
  return true;
}
